"""Serving settings: environment → one typed, frozen object → code.

Two other places read the environment, because the batch jobs use them without serving settings:
``coldstart.storage.base.StoreSettings.from_env`` (the S3 connection: ``AWS_ENDPOINT_URL``/
``AWS_ENDPOINT_URL_S3``, ``AWS_REGION``/``AWS_DEFAULT_REGION``, ``COLDSTART_S3_*`` attempts and
timeouts) and ``coldstart.pseudonyms.Pseudonymizer.from_env`` (``COLDSTART_PSEUDONYM_KEY_FILE``);
boto3 itself reads the credentials.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, fields
from typing import Mapping, Optional


@dataclass(frozen=True)
class ServingSettings:
    release_uri: Optional[str] = None       # s3://bucket/prefix or a local directory holding current.json
    cache_dir: str = "/tmp/coldstart"        # downloaded releases (Lambda: /tmp)
    refresh_seconds: float = 300.0           # how often current.json is checked; 0 disables refresh
    refresh_background: int = 1              # 1: a due refresh runs on a thread, requests never wait for it
    threads: int = 1                         # ONNX Runtime intra-op threads
    k: int = 10                              # neighbours voted
    max_k: int = 50
    min_confidence: float = 0.35             # below it the profile falls back to popular tags
    cache_size: int = 10000                  # SimHash embedding cache entries (0 disables)
    simhash_distance: int = 3                # Hamming distance counted as a near-duplicate
    max_text_chars: int = 2000               # longer inputs are rejected with 413
    keep_releases: int = 2                   # releases kept in cache_dir (current + previous)
    profile_store_uri: Optional[str] = None # s3://bucket/PREFIX/profiles or a directory (coldstart.profile_store)
    store_profiles: int = 0                  # 1: store every profile that has a user_id (else only "store": true)
    experiment: str = ""                    # JSON {"name", "variants": {variant: share}} (coldstart.experiments)
    fusion: str = ""                         # avatar text fusion: concat | weighted | gated ("": coldstart.fusion.DEFAULT_FUSION)
    fusion_typed_weight: Optional[float] = None  # weighted fusion: the typed text's share w, the image gets 1 - w
                                             # (None: coldstart.fusion.DEFAULT_TYPED_WEIGHT, measured)
    avatar_prefix: str = "avatars"           # "avatar": "s3://..." is read only under RELEASE_URI/<this>/
    expose_neighbors: int = 0                # 1: responses list the neighbours' opaque handles and similarities
    pseudonym_key_file: Optional[str] = None  # key file for keyed user pseudonyms (coldstart.pseudonyms)
    pseudonym_secret: Optional[str] = None   # or: an AWS Secrets Manager secret / SSM parameter holding the keys
                                             # (read by the Lambda at init through Powertools Parameters)

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "ServingSettings":
        env = os.environ if env is None else env
        values = {}
        for f in fields(cls):
            raw = env.get("COLDSTART_" + f.name.upper())
            if raw is None or raw == "":
                continue
            kind = {"int": int, "float": float}.get(str(f.type).replace("Optional[", "").rstrip("]"), str)
            try:
                values[f.name] = kind(raw)
            except ValueError:
                raise ValueError(f"COLDSTART_{f.name.upper()}={raw!r} is not a valid {kind.__name__}") from None
        return cls(**values)
