"""The serving application behind any front door (Lambda, kiosk): build it from settings,
answer /profile and /health as (status, body) pairs. Front doors only translate transport.
"""
from __future__ import annotations

import logging
import traceback
from typing import Any, Dict, Optional, Tuple

from .api import ApiError, ProfileRequest, error_body, parse_profile_request
from .profile_store import CorruptRecord, ProfileRecord, ProfileStore
from .profiler import NotReady, Profiler, ProfileResult
from .release_loader import EncoderBackend, ReleaseLoader, ReleaseManager
from .settings import ServingSettings
from .errors import StorageError
from .storage import open_store

log = logging.getLogger("coldstart.service")

Response = Tuple[int, Dict[str, Any]]


class ProfileService:
    def __init__(self, settings: ServingSettings, backend: Optional[EncoderBackend] = None,
                 manager: Optional[ReleaseManager] = None):
        """``manager``: an already started release manager (the kiosk's, which also serves its
        cached release offline); by default one is built from ``settings`` and started here."""
        self.settings = settings
        self._avatar_source = None
        # where profiles are persisted (opt-in per request or COLDSTART_STORE_PROFILES=1); None: nowhere
        self.profile_store = (ProfileStore(open_store(settings.profile_store_uri))
                              if settings.profile_store_uri else None)
        if manager is not None:
            self.manager = manager
            self.profiler = Profiler(manager, settings)
            self.init_error = None
            return
        if not settings.release_uri:
            self.manager = None
            self.profiler = None
            self.init_error = "COLDSTART_RELEASE_URI is not set"
            return
        loader = ReleaseLoader(open_store(settings.release_uri), settings.cache_dir, threads=settings.threads,
                               backend=backend)
        self.manager = ReleaseManager(loader, settings.refresh_seconds, settings.keep_releases,
                                      background=bool(settings.refresh_background))
        self.manager.start()  # at init, not per request; failure → 503 until a release loads
        self.profiler = Profiler(self.manager, settings)
        self.init_error = None

    def avatar_source(self):
        """Reads ``"avatar": "s3://..."`` under the releases prefix; built on first use (boto3 client)."""
        if self._avatar_source is None:
            from .avatar_source import AvatarSource
            self._avatar_source = AvatarSource(self.settings.release_uri, self.settings.avatar_prefix)
        return self._avatar_source

    def _not_ready_reason(self) -> str:
        return self.init_error or (self.manager.last_error if self.manager else None) or "no release loaded"

    def health(self) -> Response:
        if self.manager is not None:
            self.manager.maybe_refresh()
        release = self.manager.current if self.manager else None
        if release is None:
            return 503, {"status": "unavailable", "ready": False,
                         **error_body("not_ready", f"no release is loaded: {self._not_ready_reason()}")}
        body = {"status": "ok", "ready": True, "release": release.version,
                **self.profiler.versions(release),
                "teacher": release.index_manifest.teacher.id, "demo_model": release.index_manifest.teacher.demo,
                "users": release.index_manifest.count, "recall_at_10": release.index_manifest.recall.recall}
        if self.manager.last_error:
            body["refresh_error"] = self.manager.last_error  # still serving the loaded release
        return 200, body

    def parse(self, body: Any, content_type: Optional[str]) -> ProfileRequest:
        return parse_profile_request(body, content_type, self.settings.max_text_chars, self.settings.max_k)

    def profile(self, request: ProfileRequest) -> Tuple[int, Dict[str, Any], Optional[ProfileResult]]:
        if self.profiler is None:
            return 503, error_body("not_ready", f"no release is loaded: {self._not_ready_reason()}"), None
        try:
            if request.avatar is not None or request.avatar_uri is not None:  # text read from the image (coldstart.ocr)
                from .ocr import profile_with_avatar
                image = self.avatar_source().fetch(request.avatar_uri) if request.avatar_uri else request.avatar
                result = profile_with_avatar(self.profiler, request, image=image)
            else:
                result = self.profiler.profile(request.text, request.fields, request.k, user_id=request.user_id)
        except NotReady as exc:
            return 503, error_body("not_ready", f"no release is loaded: {exc}"), None
        result.body["stored"] = self._store(request, result)
        return 200, result.body, result

    def _store(self, request: ProfileRequest, result: ProfileResult) -> bool:
        """Persist the sign-up profile (version 0) when asked to; never fails the request."""
        wanted = request.store if request.store is not None else bool(self.settings.store_profiles)
        if not wanted or request.user_id is None:
            return False
        if self.profile_store is None:
            log.warning("profile not stored: COLDSTART_PROFILE_STORE_URI is not set")
            return False
        record = ProfileRecord.from_result(request.user_id, request.text, request.fields, result, version=0,
                                           max_chars=self.settings.max_text_chars)
        try:
            try:  # a retried sign-up overwrites its own record, never one an update already replaced
                return self.profile_store.put_if_newer(record, strictly=False)
            except CorruptRecord:
                self.profile_store.put(record)
                return True
        except StorageError as exc:  # the profile is still answered; "stored": false tells the caller
            log.error("profile not stored", extra={"error_type": type(exc).__name__})
            return False

    def handle(self, method: str, path: str, body: Any, content_type: Optional[str]) -> Tuple[int, Dict[str, Any], Optional[ProfileResult]]:
        """Route one request; every failure becomes a status and an error body, never a traceback."""
        route = path.rstrip("/").rsplit("/", 1)[-1]
        try:
            if route == "health":
                if method != "GET":
                    raise ApiError(405, "method_not_allowed", "use GET /health")
                status, payload = self.health()
                return status, payload, None
            if route == "profile":
                if method != "POST":
                    raise ApiError(405, "method_not_allowed", "use POST /profile with a JSON body")
                return self.profile(self.parse(body, content_type))
            raise ApiError(404, "not_found", "routes: POST /profile, GET /health")
        except ApiError as exc:
            return exc.status, exc.body(), None
        except Exception as exc:  # a bug: log type and place only; messages may quote personal data
            frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
            log.error("internal error", extra={"error_type": type(exc).__name__,
                                               "where": f"{frame.filename}:{frame.lineno}" if frame else "?"})
            return 500, error_body("internal", "internal error; the request was not processed"), None
