"""``"avatar": "s3://bucket/key"``: an avatar already uploaded next to the releases, read through the
project's ObjectStore.

Only keys under ``s3://<releases bucket>/<release prefix>/<avatar_prefix>/`` are read: the function's
role may read the whole release prefix (releases, profiles), so the prefix check is what keeps a caller
from making the service read (and OCR) objects that are not avatars. Errors never quote the key (it
may hold a user id or phone number):

  other bucket, outside the prefix, ".." segments     → 400 avatar_not_allowed
  releases not on S3 (a local directory, the kiosk)   → 400 avatar_source_unavailable
  object missing                                      → 404 avatar_not_found
  object over the byte limit (HEAD, before download)  → 413 avatar_too_large
  S3 unreachable, access denied, throttled            → 503 storage_unavailable
"""
from __future__ import annotations

import threading
from typing import Optional

from .api import MAX_AVATAR_BYTES
from .errors import InvalidRequest, NotFound, PayloadTooLarge, StorageError
from .storage import ObjectNotFound, StoreSettings, open_store, split_s3_uri


class AvatarSource:
    def __init__(self, release_uri: Optional[str], avatar_prefix: str = "avatars",
                 max_bytes: int = MAX_AVATAR_BYTES, store_settings: Optional[StoreSettings] = None):
        self.max_bytes = max_bytes
        self.store_settings = store_settings
        self.bucket = self.prefix = None
        if release_uri and release_uri.startswith("s3://") and avatar_prefix.strip("/"):
            bucket, release_prefix = split_s3_uri(release_uri)
            self.bucket = bucket
            self.prefix = "/".join(p for p in (release_prefix.strip("/"), avatar_prefix.strip("/")) if p) + "/"
        self._store = None
        self._lock = threading.Lock()

    def _allowed_key(self, uri: str) -> str:
        """The key relative to the avatar prefix, or 400."""
        if self.bucket is None:
            raise InvalidRequest("avatar_source_unavailable",
                           '"avatar" as an s3:// key needs the service\'s releases on S3; send the image as base64')
        bucket, key = split_s3_uri(uri)
        rest = key[len(self.prefix):] if key.startswith(self.prefix) else ""
        parts = rest.split("/")
        if bucket != self.bucket or not rest or any(p in ("", ".", "..") for p in parts):
            raise InvalidRequest("avatar_not_allowed",
                           f'"avatar" must be an object under s3://{self.bucket}/{self.prefix}')
        return rest

    def store(self):
        if self._store is None:
            with self._lock:
                if self._store is None:  # one client per process: boto3 client creation costs ~50 ms
                    self._store = open_store(f"s3://{self.bucket}/{self.prefix}", self.store_settings)
        return self._store

    def fetch(self, uri: str) -> bytes:
        key = self._allowed_key(uri)
        try:
            store = self.store()
            size = store.size(key)  # HEAD first: an oversized object is never downloaded
            if size > self.max_bytes:
                raise PayloadTooLarge("avatar_too_large", f'"avatar" is over {self.max_bytes} bytes')
            data = bytearray()
            for block in store.iter_chunks(key, chunk_size=256 * 1024):
                data.extend(block)
                if len(data) > self.max_bytes:  # replaced by a bigger object since the HEAD
                    raise PayloadTooLarge("avatar_too_large", f'"avatar" is over {self.max_bytes} bytes')
            return bytes(data)
        except ObjectNotFound:
            raise NotFound("avatar_not_found", '"avatar" names an object that does not exist') from None
        except StorageError:
            raise
        except OSError as exc:  # a connection dropped mid-body
            raise StorageError(f"avatar read failed ({type(exc).__name__})") from None
