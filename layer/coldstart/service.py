"""The serving application behind any front door (the Lambda, the kiosk): one request goes down
through the steps below once and comes back as a typed ``Outcome``; the front door renders it
(``coldstart.api``) and maps errors to statuses.

    profile(request, identity)
      1. authorize storing      (only the user themself, or a trusted backend, may store)
      2. mask                   coldstart.preprocess.mask_input: text and each form field
      3. read the avatar        coldstart.ocr (masked lines), optional
      4. experiment arm         coldstart.experiments (keyword baseline or semantic)
      5. encode                 coldstart.embedding (student + near-duplicate cache), fused with the
                                avatar text as coldstart.fusion says
      6. search + vote          the release's Annoy index → coldstart.voting.vote, with the release's
                                calibrator (coldstart.calibration): confidence is the probability that
                                top_tag is right, and text without interest signal abstains
      7. store                  coldstart.profile_store, masked data only

Nothing below this module knows about HTTP, and nothing here holds raw text after step 2.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Dict, List, NamedTuple, Optional, Tuple

import numpy as np

from .api import ANONYMOUS, Identity, ProfileRequest
from .embedding import Embedder
from .errors import (ConfigError, CorruptRecord, Forbidden, InvalidRequest, NotFound, NotReady, OcrUnavailable,
                     StorageError, Unauthenticated)
from .experiments import Experiment, resolve
from .fusion import DEFAULT_TYPED_WEIGHT, Fused, FusionSelector, concat_text, has_words
from .keyword_baseline import KeywordProfiler, keyword_or_fallback
from .outcome import Assignment, AvatarReport, Outcome
from .pii import warm_up as warm_up_pii
from .preprocess import MaskedInput, mask_input
from .calibration import Calibrator, TextEvidence, text_evidence
from .voting import REASON_NO_SIGNAL, Profile, ProfileSettings, fallback_profile, has_signal_words, vote
from .profile_store import ProfileStore, StoredProfile
from .pseudonyms import Pseudonymizer
from .release_loader import EncoderBackend, LoadedRelease, ReleaseLoader, ReleaseManager
from .settings import ServingSettings
from .storage import open_store
from .updates import APPLIED, STALE, UpdateMessage

log = logging.getLogger("coldstart.service")


@dataclass(frozen=True)
class Health:
    ready: bool
    release: Optional[str] = None
    model_version: Optional[str] = None
    index_version: Optional[str] = None
    teacher: Optional[str] = None
    demo_model: bool = False
    users: int = 0
    recall_at_10: Optional[float] = None
    refresh_failed: bool = False   # a newer release failed to load; the loaded one still serves


class TextProfile(NamedTuple):
    profile: Profile
    vector: Optional[np.ndarray]       # None: not encoded (no words, or the keyword arm)
    cache_hit: bool
    fused: Optional[Fused]             # how the avatar text was fused in (None: no image text)
    evidence: Optional[TextEvidence] = None  # what the text showed the vote (None: no vote, or uncalibrated)


def _short_sha(release: LoadedRelease, name: str) -> str:
    entry = release.manifest.files.get(name)
    return entry.sha256[:12] if entry else "none"


def release_versions(release: LoadedRelease) -> Tuple[str, str]:
    """(model_version, index_version): the release and the first 12 hex digits of each file's sha256."""
    model_file = "model/" + release.model_file  # the file this runtime serves (onnx, or a kiosk's .nb)
    return (f"{release.version}/{_short_sha(release, model_file)}",
            f"{release.version}/{_short_sha(release, 'index/index.ann')}")


class ProfileService:
    def __init__(self, settings: ServingSettings, backend: Optional[EncoderBackend] = None,
                 manager: Optional[ReleaseManager] = None, pseudonyms: Optional[Pseudonymizer] = None,
                 avatar_reader=None):
        """``manager``: an already started release manager (the kiosk's, which also serves its cached
        release offline); by default one is built from ``settings`` and started here.
        ``pseudonyms``: the deployment's keyed pseudonyms (the Lambda reads the secret at init); by
        default from ``settings.pseudonym_key_file``. Without one, profiles are never stored and
        experiment exposures are not logged (there is no safe key for them)."""
        self.settings = settings
        warm_up_pii()  # the masker's patterns compile here (~150 ms once), not in the first request
        self.pseudonyms = pseudonyms or (Pseudonymizer.from_file(settings.pseudonym_key_file)
                                         if settings.pseudonym_key_file else None)
        self.embedder = Embedder(settings.cache_size, settings.simhash_distance)
        self.experiment: Optional[Experiment] = Experiment.parse(settings.experiment)  # invalid → error at init
        weight = DEFAULT_TYPED_WEIGHT if settings.fusion_typed_weight is None else settings.fusion_typed_weight
        self.fusion = FusionSelector(settings.fusion, weight)  # an unknown mode → error at init, not per request
        self._vote_settings: Dict[Tuple[int, str], ProfileSettings] = {}
        # True: the calibrator's text evidence on every vote, calibrated release or not (the calibrate
        # and evaluate jobs: features must not depend on whether a calibrator exists yet)
        self.collect_features = False
        self._avatar_reader = avatar_reader
        self._avatar_source = None
        self.profile_store: Optional[ProfileStore] = None
        if settings.profile_store_uri:
            if self.pseudonyms is None:
                raise ConfigError("COLDSTART_PROFILE_STORE_URI needs a pseudonym key (COLDSTART_PSEUDONYM_KEY_FILE "
                                  "or COLDSTART_PSEUDONYM_SECRET): stored profiles are keyed by it")
            self.profile_store = ProfileStore(open_store(settings.profile_store_uri), self.pseudonyms)
        if self.experiment is not None and self.pseudonyms is None:
            log.warning("experiment exposures are not logged: no pseudonym key to join them on")
        self.init_error: Optional[str] = None
        if manager is not None:
            self.manager: Optional[ReleaseManager] = manager
        elif settings.release_uri:
            loader = ReleaseLoader(open_store(settings.release_uri), settings.cache_dir, threads=settings.threads,
                                   backend=backend)
            self.manager = ReleaseManager(loader, settings.refresh_seconds, settings.keep_releases,
                                          background=bool(settings.refresh_background))
            self.manager.start()  # at init, not per request; failure → 503 until a release loads
        else:
            self.manager = None
            self.init_error = "COLDSTART_RELEASE_URI is not set"

    # ------------------------------------------------------------------------------------ state
    def current_release(self) -> LoadedRelease:
        """The release serving now (a due refresh is started on the way), or NotReady."""
        if self.manager is None:
            raise NotReady(self.init_error or "no release manager")
        self.manager.maybe_refresh()
        release = self.manager.current
        if release is None:
            raise NotReady(self.manager.last_error or "no release loaded")
        return release

    def not_ready_reason(self) -> str:
        """Why nothing serves, for the operator's log (may name locations; never sent to callers)."""
        return self.init_error or (self.manager.last_error if self.manager else None) or "no release loaded"

    def health(self) -> Health:
        try:
            release = self.current_release()
        except NotReady:
            return Health(ready=False)
        model_version, index_version = release_versions(release)
        m = release.index_manifest
        return Health(ready=True, release=release.version, model_version=model_version,
                      index_version=index_version, teacher=m.teacher.id, demo_model=m.teacher.demo, users=m.count,
                      recall_at_10=m.recall.recall, refresh_failed=bool(self.manager.last_error))

    # ---------------------------------------------------------------------------------- profile
    def profile(self, request: ProfileRequest, identity: Identity = ANONYMOUS) -> Outcome:
        started = time.perf_counter()
        release = self.current_release()
        user_id = request.user_id or identity.subject
        store = self._may_store(request.store, user_id, identity)
        masked = mask_input(request.text, request.fields, self.settings.max_text_chars)
        image_text, avatar = self._read_avatar(request) if request.has_avatar else ("", None)
        arm = resolve(self.experiment, user_id, self.pseudonyms)
        profile, vector, hit, fused, _ = self.profile_text(masked.composed, image_text, request.k, arm=arm,
                                                        release=release)
        if avatar is not None and avatar.used:
            avatar = self._avatar_effect(release, avatar, masked.composed, profile, fused, request.k)
        model_version, index_version = release_versions(release)
        outcome = Outcome(profile=profile, pii_masked=masked.counts, cache="hit" if hit else "miss",
                          model_version=model_version, index_version=index_version,
                          latency_ms=round((time.perf_counter() - started) * 1000.0, 3), experiment=arm,
                          avatar=avatar, masked_text=concat_text(masked.composed, image_text) if image_text
                          else masked.composed, vector=vector)
        if store is None:
            return outcome
        return outcome.with_stored(store and self._store(user_id, masked, outcome, version=0))

    def profile_text(self, typed: str, image_text: str = "", k: Optional[int] = None,
                     arm: Optional[Assignment] = None, use_cache: bool = True, fusion=None,
                     release: Optional[LoadedRelease] = None) -> TextProfile:
        """Steps 5-6 for already-masked text: (profile, vector or None, cache hit, fusion record or
        None). Offline tools (evaluate, calibrate, train-fusion, bench) call this with their own ``fusion``."""
        release = release or self.current_release()
        settings = self.vote_settings(k or self.settings.k, release)
        combined = concat_text(typed, image_text) if image_text else typed
        if not has_signal_words(combined):  # digits, emoji, punctuation, only PII: nothing states an interest
            return TextProfile(fallback_profile(release.items, REASON_NO_SIGNAL, settings), None, False, None)
        if arm is not None and arm.variant == "keyword":
            return TextProfile(keyword_or_fallback(self.keyword_table(release), combined, release.items, settings),
                               None, False, None)
        evidence = self._evidence(release, combined)
        if image_text:
            hits: List[bool] = []

            def embed(text: str) -> np.ndarray:
                vector, hit = self.embedder.embed(release, text, use_cache)
                hits.append(hit)
                return vector

            fusion = fusion or self.fusion.for_release(release.version, release.model_manifest)
            fused = fusion.fuse(typed, image_text, embed, lambda v: self.vote_vector(release, v, settings))
            return TextProfile(self.vote_vector(release, fused.vector, settings, evidence), fused.vector,
                               bool(hits) and all(hits), fused, evidence)
        vector, hit = self.embedder.embed(release, typed, use_cache)
        return TextProfile(self.vote_vector(release, vector, settings, evidence), vector, hit, None, evidence)

    @staticmethod
    def vote_vector(release: LoadedRelease, vector: np.ndarray, settings: ProfileSettings,
                    evidence: Optional[TextEvidence] = None) -> Profile:
        """Step 6: the k nearest active users in the release's index, and their (calibrated) vote."""
        ids, distances = release.index.get_nns_by_vector(vector, settings.k, search_k=release.search_k,
                                                         include_distances=True)
        return vote(ids, [1.0 - d * d / 2.0 for d in distances], release.items, settings, evidence)

    def vote_settings(self, k: int, release: LoadedRelease) -> ProfileSettings:
        found = self._vote_settings.get((k, release.version))
        if found is None:
            if len(self._vote_settings) > 64:
                self._vote_settings.clear()  # older releases' entries
            found = ProfileSettings(k=k, min_confidence=self.settings.min_confidence,
                                    calibrator=self.calibrator(release))
            self._vote_settings[(k, release.version)] = found
        return found

    @staticmethod
    def calibrator(release: LoadedRelease) -> Optional[Calibrator]:
        """The release's index/calibration.json, read when the release opened; None: an uncalibrated release."""
        return (release if release.extras_read else release.read_extras()).calibrator

    def _evidence(self, release: LoadedRelease, text: str) -> Optional[TextEvidence]:
        """What the text shows besides its neighbours (length, keyword evidence, the interest-signal
        detector's reading): calibrated releases only."""
        calibrator = self.calibrator(release)
        if calibrator is None and not self.collect_features:
            return None  # ~0.1 ms a request that only a calibrator would use
        return text_evidence(text, self.keyword_table(release), calibrator.signal if calibrator is not None else None)

    @staticmethod
    def keyword_table(release: LoadedRelease) -> Optional[KeywordProfiler]:
        """The release's keyword table (index/keywords.json), read when the release opened; None if absent."""
        return (release if release.extras_read else release.read_extras()).keywords

    # ----------------------------------------------------------------------------------- avatar
    def avatar_reader(self):
        """The reader given at construction, else the process's shared one (built on first image)."""
        if self._avatar_reader is not None:
            return self._avatar_reader
        from .ocr import default_reader

        return default_reader()

    def avatar_source(self):
        """Reads ``"avatar": "s3://..."`` under the releases prefix; built on first use."""
        if self._avatar_source is None:
            from .avatar_source import AvatarSource

            self._avatar_source = AvatarSource(self.settings.release_uri, self.settings.avatar_prefix)
        return self._avatar_source

    def _read_avatar(self, request: ProfileRequest) -> Tuple[str, AvatarReport]:
        """Step 3: the masked text read from the avatar, and what was read. Bad images raise a
        RequestError; a runtime without OCR answers from the typed text alone."""
        image = self.avatar_source().fetch(request.avatar_uri) if request.avatar_uri else request.avatar
        try:
            ocr = self.avatar_reader().read(image)
        except OcrUnavailable:
            return "", AvatarReport(available=False, used=False)
        used = has_words(ocr.text)
        return (ocr.text if used else ""), AvatarReport(available=True, used=used, lines=list(ocr.lines), ms=ocr.ms,
                                                        pii_masked=dict(ocr.pii_counts))

    def _avatar_effect(self, release: LoadedRelease, avatar: AvatarReport, typed: str, profile: Profile,
                       fused: Optional[Fused], k: Optional[int]) -> AvatarReport:
        """What the image changed: the typed text's own profile next to the fused one."""
        from dataclasses import replace

        if fused is None:  # the keyword arm: no vectors to compare
            return replace(avatar, text_only_top_tag=profile.top_tag)
        settings = self.vote_settings(k or self.settings.k, release)
        if not has_signal_words(typed):
            text_only = fallback_profile(release.items, REASON_NO_SIGNAL, settings)
        else:
            vector = fused.text_vector if fused.text_vector is not None else self.embedder.embed(release, typed)[0]
            text_only = self.vote_vector(release, vector, settings, self._evidence(release, typed))
        return replace(avatar, fusion=fused.mode, image_weight=fused.image_weight,
                       text_only_top_tag=text_only.top_tag, changed_top_tag=text_only.top_tag != profile.top_tag,
                       profile_shift=profile_shift(text_only, profile))

    # ------------------------------------------------------------------------------------ store
    def _may_store(self, asked: Optional[bool], user_id: Optional[str], identity: Identity) -> Optional[bool]:
        """None: storing not asked for; False: asked but not possible (the response says so);
        True: store. An explicit ``"store": true`` for someone else's profile is refused."""
        wanted = asked if asked is not None else bool(self.settings.store_profiles and user_id)
        if not wanted:
            return None if asked is None else False
        if user_id is None:
            raise InvalidRequest("missing_user_id", '"store": true needs a "user_id" (the stored profile is keyed by it)')
        if not identity.may_act_for(user_id):
            if asked is None:
                return None  # COLDSTART_STORE_PROFILES only stores a signed-in user's own profile
            self._require_identity(user_id, identity)
        if self.profile_store is None:
            log.warning("profile not stored: no profile store configured (COLDSTART_PROFILE_STORE_URI)")
            return False
        return True

    @staticmethod
    def _require_identity(user_id: str, identity: Identity) -> None:
        if identity.may_act_for(user_id):
            return
        if identity.subject is None:
            raise Unauthenticated("unauthenticated", "storing, updating or deleting a profile needs a signed-in "
                                                     "user (send the user's token); the API key alone is not enough")
        raise Forbidden("forbidden", "a signed-in user may only store, update or delete their own profile")

    def _store(self, user_id: str, masked: MaskedInput, outcome: Outcome, version: int) -> bool:
        """Persist the sign-up profile (masked data only); never fails the request."""
        record = StoredProfile.from_outcome(self.profile_store.user_key(user_id), masked, outcome, version=version)
        try:  # a retried sign-up overwrites its own record, never one an update already replaced
            return self.profile_store.put_if_newer(record, user_id, strictly=False)
        except StorageError as exc:  # the profile is still answered; "stored": false tells the caller
            log.error("profile not stored", extra={"error_type": type(exc).__name__})
            return False

    def delete_profile(self, user_id: str, identity: Identity = ANONYMOUS) -> int:
        """Erase the user's stored profile (every version) and leave a tombstone for the next
        rebuild; idempotent. Returns the number of object versions removed."""
        self._require_identity(user_id, identity)
        if self.profile_store is None:
            raise NotFound("no_profile_store", "this deployment stores no profiles")
        return self.profile_store.delete(user_id)

    def apply_update(self, message: UpdateMessage) -> str:
        """APPLIED or STALE for a queued update (coldstart.updates). Raises StorageError/NotReady
        for the caller to retry."""
        if self.profile_store is None:
            raise NotReady("no profile store configured (COLDSTART_PROFILE_STORE_URI)")
        release = self.current_release()
        try:
            stored = self.profile_store.get(message.user_id)
        except CorruptRecord:
            stored = None  # replaced by the update's record
        if stored is not None and stored.version >= message.version:
            return STALE
        merged = dict(stored.fields) if stored is not None else {}
        for name, value in mask_input("", message.fields, self.settings.max_text_chars).fields.items():
            if value:
                merged[name] = value
            else:
                merged.pop(name, None)
        masked = mask_input(stored.text if stored is not None else "", merged, self.settings.max_text_chars)
        profile, vector, _, _, _ = self.profile_text(masked.composed, use_cache=False, release=release)
        model_version, index_version = release_versions(release)
        outcome = Outcome(profile=profile, pii_masked=masked.counts, cache="miss", model_version=model_version,
                          index_version=index_version, latency_ms=0.0, masked_text=masked.composed, vector=vector)
        record = StoredProfile.from_outcome(self.profile_store.user_key(message.user_id), masked, outcome,
                                            version=message.version)
        # re-checked right before the write: a newer version may have landed while this one was profiled
        return APPLIED if self.profile_store.put_if_newer(record, message.user_id) else STALE


def profile_shift(before: Profile, after: Profile) -> float:
    """How far the image moved the tag scores: sum |a_t - b_t| / (sum a_t + sum b_t) over all tags.

    0 = the same tags with the same scores, 1 = no tag in common. Scores are neighbour shares and do
    not sum to 1 (users carry 1-3 tags), hence the normalisation by both totals."""
    a = {t.tag: float(t.score) for t in before.tags}
    b = {t.tag: float(t.score) for t in after.tags}
    total = sum(a.values()) + sum(b.values())
    if total <= 0:
        return 0.0
    return round(sum(abs(a.get(t, 0.0) - b.get(t, 0.0)) for t in set(a) | set(b)) / total, 4)

