"""Object storage behind one small interface: a local directory or an S3 bucket prefix.

``open_store("s3://bucket/prefix")`` or ``open_store("/some/dir")``.
"""
from __future__ import annotations

from .base import ABSENT, ObjectNotFound, ObjectStore, PreconditionFailed, StoreSettings, batch_defaults
from .local import LocalStore


def split_s3_uri(uri: str) -> "tuple[str, str]":
    """``s3://bucket/some/key`` → ("bucket", "some/key")."""
    bucket, _, key = uri[len("s3://"):].partition("/")
    return bucket, key


def open_store(uri: str, settings: "StoreSettings | None" = None) -> ObjectStore:
    if uri.startswith("s3://"):
        from .s3 import S3Store  # boto3 only when S3 is used

        return S3Store.from_uri(uri, settings or StoreSettings.from_env())
    if "://" in uri:
        raise ValueError(f"unsupported storage URI {uri!r}: use s3://bucket/prefix or a local path")
    return LocalStore(uri)


__all__ = ["ObjectStore", "ObjectNotFound", "PreconditionFailed", "ABSENT", "StoreSettings", "batch_defaults", "LocalStore",
           "open_store", "split_s3_uri"]
