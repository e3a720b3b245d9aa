"""Object storage behind one small interface: a local directory or an S3 bucket prefix.

``open_store("s3://bucket/prefix")`` or ``open_store("/some/dir")``.
"""
from __future__ import annotations

from ..errors import ConfigError
from .base import ABSENT, ObjectNotFound, ObjectStore, PreconditionFailed, StoreSettings, batch_defaults
from .local import LocalStore


def split_s3_uri(uri: str) -> "tuple[str, str]":
    """``s3://bucket/some/key`` → ("bucket", "some/key")."""
    bucket, _, key = uri[len("s3://"):].partition("/")
    return bucket, key


def open_store(uri: str, settings: "StoreSettings | None" = None) -> ObjectStore:
    if uri.startswith("s3://"):
        from .s3 import S3Store  # boto3 only when S3 is used

        if not split_s3_uri(uri)[0]:
            raise ConfigError(f"storage URI {uri!r} has no bucket: write s3://BUCKET/PREFIX")
        return S3Store.from_uri(uri, settings or StoreSettings.from_env())
    scheme = uri.split(":", 1)[0].lower() if ":" in uri else ""
    if "://" in uri or scheme in _SCHEMES:
        # `s3:/bucket/x` (one slash) used to become a local folder named "s3:" without a word
        raise ConfigError(f"unsupported storage URI {uri!r}: write s3://BUCKET/PREFIX (two slashes) "
                          "or a local path")
    return LocalStore(uri)


# Schemes that are never meant as a local folder name.
_SCHEMES = ("s3", "s3a", "s3n", "gs", "http", "https", "file")


__all__ = ["ObjectStore", "ObjectNotFound", "PreconditionFailed", "ABSENT", "StoreSettings", "batch_defaults", "LocalStore",
           "open_store", "split_s3_uri"]
