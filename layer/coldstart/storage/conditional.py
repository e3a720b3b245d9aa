"""Compare-and-swap writes of one object: read it with a version token, write only if nobody
wrote it since. Two writers of the same user's profile (two update messages of one user handled
by two Lambda instances) then cannot silently overwrite each other: the loser re-reads and
decides again.

S3 does this natively (PUT with ``If-Match: <ETag>`` / ``If-None-Match: *``, 412 when the
object changed); the local directory store does it under an exclusive ``flock`` of the
object's directory.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
from contextlib import contextmanager
from typing import Optional, Tuple

from ..errors import StorageError
from .base import ObjectNotFound, ObjectStore

# A token that matches "the object does not exist".
ABSENT: Optional[str] = None


class PreconditionFailed(StorageError):
    """The object changed (or appeared) since it was read; re-read and decide again."""


def get_versioned(store: ObjectStore, key: str) -> Tuple[Optional[bytes], Optional[str]]:
    """(content, token), or (None, ABSENT) when there is no such object."""
    from .local import LocalStore

    if isinstance(store, LocalStore):
        try:
            data = store.get_bytes(key)
        except ObjectNotFound:
            return None, ABSENT
        return data, _digest(data)
    client, bucket, full_key = _s3_parts(store)(key)
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        response = client.get_object(Bucket=bucket, Key=full_key)
        return response["Body"].read(), response["ETag"]
    except (ClientError, BotoCoreError) as exc:
        failure = store._fail(exc, key, "get")
        if isinstance(failure, ObjectNotFound):
            return None, ABSENT
        raise failure from None


def put_if_unchanged(store: ObjectStore, key: str, data: bytes, token: Optional[str]) -> None:
    """Write ``data`` only if the object is still the one ``token`` was read from (ABSENT: only
    if it still does not exist); else PreconditionFailed and nothing is written."""
    from .local import LocalStore

    if isinstance(store, LocalStore):
        with _locked(store, key):
            try:
                current = _digest(store.get_bytes(key))
            except ObjectNotFound:
                current = ABSENT
            if current != token:
                raise PreconditionFailed(f"{store.uri(key)} changed since it was read")
            store.put_bytes(key, data)
        return
    client, bucket, full_key = _s3_parts(store)(key)
    from botocore.exceptions import BotoCoreError, ClientError

    condition = {"IfMatch": token} if token is not ABSENT else {"IfNoneMatch": "*"}
    try:
        client.put_object(Bucket=bucket, Key=full_key, Body=data, **condition)
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        # 412 PreconditionFailed; 409 ConditionalRequestConflict when two such writes race
        if code in ("PreconditionFailed", "412", "ConditionalRequestConflict", "409"):
            raise PreconditionFailed(f"{store.uri(key)} changed since it was read") from None
        raise store._fail(exc, key, "put") from None
    except BotoCoreError as exc:
        raise store._fail(exc, key, "put") from None


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _s3_parts(store: ObjectStore):
    from .s3 import S3Store

    if not isinstance(store, S3Store):
        raise TypeError(f"conditional writes are not supported by {type(store).__name__}")
    return lambda key: (store.client, store.bucket, store._key(key))


@contextmanager
def _locked(store, key: str):
    path = store._path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    # the directory itself is the lock: no lock files for list() to trip over
    fd = os.open(str(path.parent), os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
