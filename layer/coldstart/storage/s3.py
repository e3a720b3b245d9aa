"""S3 (or any S3-compatible server) as an object store, with bounded retries and clear errors.

Every call is bounded by ``StoreSettings`` (connect and read timeouts, total attempts): a hung S3
gives a StorageError within ``settings.call_budget_seconds``, never a two-minute wait. Downloads
stream through ``iter_chunks`` (botocore's retries only; boto3's managed download would retry each
failed read five more times on top).
"""
from __future__ import annotations

from typing import List, Optional

import botocore.session
from botocore.config import Config
from botocore.exceptions import (BotoCoreError, ClientError, ConnectTimeoutError, EndpointConnectionError,
                                 ReadTimeoutError)

from ..errors import StorageError
from ..release.files import atomic_write
from .base import ABSENT, ObjectNotFound, ObjectStore, PreconditionFailed, ProgressCallback, StoreSettings

_NOT_FOUND = {"NoSuchKey", "404", "NotFound"}
_DENIED = {"AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch", "Forbidden"}


def make_client(settings: StoreSettings):
    config = Config(
        # total_max_attempts counts the first try too (botocore's max_attempts counts retries only)
        retries={"total_max_attempts": settings.max_attempts, "mode": "standard"},
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        s3={"addressing_style": "path"} if settings.endpoint_url else {},
    )
    # botocore's own session, not boto3's: boto3 adds ~70 ms of import + client set-up to every cold
    # start and is needed only for managed (multipart) uploads (put_file: imported there).
    # A session of its own: a shared default session caches the credentials it first resolved.
    session = botocore.session.Session()
    return session.create_client("s3", endpoint_url=settings.endpoint_url, region_name=settings.region, config=config)


class S3Store(ObjectStore):
    def __init__(self, bucket: str, prefix: str = "", client=None, settings: Optional[StoreSettings] = None):
        if not bucket:
            raise ValueError("S3 URI needs a bucket: s3://bucket/prefix")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.settings = settings or StoreSettings.from_env()
        self.client = client or make_client(self.settings)

    @classmethod
    def from_uri(cls, uri: str, settings: StoreSettings) -> "S3Store":
        from . import split_s3_uri

        bucket, prefix = split_s3_uri(uri)
        return cls(bucket, prefix, settings=settings)

    def _key(self, key: str) -> str:
        key = key.lstrip("/")
        return f"{self.prefix}/{key}" if self.prefix else key

    def uri(self, key: str = "") -> str:
        return f"s3://{self.bucket}/{self._key(key)}"

    def _fail(self, exc: Exception, key: str, action: str) -> StorageError:
        where = self.uri(key)
        if isinstance(exc, ClientError):
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _NOT_FOUND:
                return ObjectNotFound(f"{where}: not found")
            if code in _DENIED:
                return StorageError(f"{action} {where}: access denied ({code}); check the credentials and the bucket policy")
            return StorageError(f"{action} {where}: S3 error {code}")
        endpoint = self.settings.endpoint_url or "AWS S3"
        if isinstance(exc, EndpointConnectionError):
            return StorageError(
                f"{action} {where}: cannot reach {endpoint} after {self.settings.max_attempts} attempts"
            )
        if isinstance(exc, (ReadTimeoutError, ConnectTimeoutError)):
            return StorageError(
                f"{action} {where}: {endpoint} did not answer within {self.settings.read_timeout:g} s "
                f"(connect {self.settings.connect_timeout:g} s) in {self.settings.max_attempts} attempts "
                f"({exc.__class__.__name__}: {exc})")
        return StorageError(f"{action} {where}: {exc.__class__.__name__}: {exc}")

    def get_bytes(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(exc, key, "get") from None

    def put_bytes(self, key: str, data: bytes) -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(exc, key, "put") from None

    def get_versioned(self, key: str):
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
            return response["Body"].read(), response["ETag"]
        except (ClientError, BotoCoreError) as exc:
            failure = self._fail(exc, key, "get")
            if isinstance(failure, ObjectNotFound):
                return None, ABSENT
            raise failure from None

    def put_if_unchanged(self, key: str, data: bytes, token: Optional[str]) -> None:
        # S3 conditional writes: If-Match <ETag>, or If-None-Match * for "must not exist yet"
        condition = {"IfMatch": token} if token is not ABSENT else {"IfNoneMatch": "*"}
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, **condition)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            # 412 PreconditionFailed; 409 ConditionalRequestConflict when two such writes race
            if code in ("PreconditionFailed", "412", "ConditionalRequestConflict", "409"):
                raise PreconditionFailed(f"{self.uri(key)} changed since it was read") from None
            raise self._fail(exc, key, "put") from None
        except BotoCoreError as exc:
            raise self._fail(exc, key, "put") from None

    def put_file(self, key: str, path, progress: Optional[ProgressCallback] = None) -> None:
        try:
            from boto3.s3.inject import upload_file  # boto3's managed (multipart) upload, on any S3 client

            upload_file(self.client, str(path), self.bucket, self._key(key), Callback=progress)
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(exc, key, "upload") from None
        except Exception as exc:  # boto3's S3UploadFailedError wraps the ClientError
            cause = exc.__cause__ or exc.__context__
            if isinstance(cause, (ClientError, BotoCoreError)):
                raise self._fail(cause, key, "upload") from None
            raise StorageError(f"upload {self.uri(key)}: {exc}") from None

    def download(self, key: str, path, progress: Optional[ProgressCallback] = None) -> None:
        def copy(fh) -> None:
            for block in self.iter_chunks(key):
                fh.write(block)
                if progress:
                    progress(len(block))

        atomic_write(path, copy)

    def iter_chunks(self, key: str, chunk_size: int = 1 << 20):
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
            for block in body.iter_chunks(chunk_size):
                yield block
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(exc, key, "get") from None

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
            return True
        except ObjectNotFound:
            return False

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(exc, key, "delete") from None

    def delete_all_versions(self, key: str) -> int:
        """Every version and delete marker of ``key`` (a versioned bucket keeps noncurrent versions
        after a plain delete); in an unversioned bucket, the one object."""
        full = self._key(key)
        removed = 0
        try:
            pages = self.client.get_paginator("list_object_versions").paginate(Bucket=self.bucket, Prefix=full)
            for page in pages:
                entries = page.get("Versions", []) + page.get("DeleteMarkers", [])
                for entry in entries:
                    if entry.get("Key") != full:
                        continue  # the prefix also matches longer keys
                    version = entry.get("VersionId")
                    args = {"VersionId": version} if version and version != "null" else {}
                    self.client.delete_object(Bucket=self.bucket, Key=full, **args)
                    removed += 1 if entry in page.get("Versions", []) else 0
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(exc, key, "delete") from None
        if removed == 0 and self.exists(key):  # a server without ListObjectVersions answers empty
            self.delete(key)
            removed = 1
        return removed

    def size(self, key: str) -> int:
        try:
            return int(self.client.head_object(Bucket=self.bucket, Key=self._key(key))["ContentLength"])
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(exc, key, "head") from None

    def list(self, prefix: str = "") -> List[str]:
        full = self._key(prefix)
        strip = len(self.prefix) + 1 if self.prefix else 0
        keys = []
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=full):
                keys.extend(obj["Key"][strip:] for obj in page.get("Contents", []))
        except (ClientError, BotoCoreError) as exc:
            raise self._fail(exc, prefix, "list") from None
        return sorted(keys)
