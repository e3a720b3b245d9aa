"""Keyed pseudonyms for user ids: nothing that leaves the batch side carries a raw id.

User ids are often phone numbers or e-mail addresses. A plain hash of one is no protection (the
space of mainland mobile numbers is 1e10: an unsalted sha256 is reversed by enumeration in
minutes), so every id is replaced by an HMAC under a secret the deployment provides:

    user_key(id) = "k" + key_id + "." + hex(HMAC-SHA256(key, "coldstart/user\\0" + id))[:32]
    handle(user_key) = hex(SHA-256("coldstart/handle\\0" + user_key))[:16]

``user_key`` names the stored profile (``profiles/<user_key>.json``) and the rows of the batch
embeddings; ``handle`` is what a release's items table and, when an operator turns neighbours on,
an API response carry. A handle is derived from the user key without the secret, so the batch
side can compute it for stored profiles whose raw id it never sees, and it differs from the
user key, so a response never names a stored object. Without the secret neither can be linked to
an id; with it, the operator's own backend can recompute both for its users.

Keys and rotation
    A key file (``COLDSTART_PSEUDONYM_KEY_FILE``, or the secret's value in AWS Secrets Manager /
    SSM Parameter Store, ``COLDSTART_PSEUDONYM_SECRET``) holds one key per line, hex or base64,
    at least 32 bytes; the FIRST line is the current key, later lines are previous keys. New
    writes use the current key; lookups also try the previous ones (``lookup_keys``), and the
    profile store moves a record found under an old key to the current one on its next write.
    The next batch rebuild re-keys every release. See SECURITY.md ("Rotating the pseudonym key").
    ``key_id`` (8 hex digits of the key's sha256) is part of each user key, so a record says
    which key made it without revealing it.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import List, Optional, Sequence, Union

from .errors import ConfigError

MIN_KEY_BYTES = 32
_USER = b"coldstart/user\x00"
_HANDLE = b"coldstart/handle\x00"
KEY_FILE_ENV = "COLDSTART_PSEUDONYM_KEY_FILE"
KEY_ENV = "COLDSTART_PSEUDONYM_KEY"  # the key text itself (AWS Batch injects a secret this way)


def _decode_key(line: str) -> bytes:
    text = line.strip()
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise ConfigError("a pseudonym key line is neither hex nor base64") from None
    if len(raw) < MIN_KEY_BYTES:
        raise ConfigError(f"a pseudonym key must be at least {MIN_KEY_BYTES} bytes ({len(raw)} given)")
    return raw


def handle_of(user_key: str) -> str:
    """The opaque handle of a user key (no secret needed; not reversible to the key or the id)."""
    return hashlib.sha256(_HANDLE + user_key.encode("utf-8")).hexdigest()[:16]


class Pseudonymizer:
    """HMAC pseudonyms under the current key; ``lookup_keys`` also under the previous ones."""

    def __init__(self, keys: Sequence[bytes]):
        if not keys:
            raise ConfigError("no pseudonym key given")
        for key in keys:
            if len(key) < MIN_KEY_BYTES:
                raise ConfigError(f"a pseudonym key must be at least {MIN_KEY_BYTES} bytes")
        self._keys = [bytes(k) for k in keys]
        self._ids = [hashlib.sha256(k).hexdigest()[:8] for k in self._keys]

    @classmethod
    def from_text(cls, text: str) -> "Pseudonymizer":
        lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
        return cls([_decode_key(ln) for ln in lines])

    @classmethod
    def from_file(cls, path: Union[str, Path]) -> "Pseudonymizer":
        try:
            text = Path(path).read_text(encoding="ascii")
        except FileNotFoundError:
            raise ConfigError(f"pseudonym key file {path} not found (create one with "
                              f"`python -m infra new-key --out {path}`)") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"pseudonym key file {path} is not readable ({type(exc).__name__})") from None
        return cls.from_text(text)

    @classmethod
    def from_env(cls, env=None) -> Optional["Pseudonymizer"]:
        """From ``COLDSTART_PSEUDONYM_KEY`` (the key text) or ``COLDSTART_PSEUDONYM_KEY_FILE``; None
        when neither is set."""
        env = os.environ if env is None else env
        if env.get(KEY_ENV):
            return cls.from_text(env[KEY_ENV])
        path = env.get(KEY_FILE_ENV)
        return cls.from_file(path) if path else None

    @property
    def key_id(self) -> str:
        return self._ids[0]

    def _user_key(self, index: int, user_id: str) -> str:
        mac = hmac.new(self._keys[index], _USER + user_id.encode("utf-8"), hashlib.sha256).hexdigest()[:32]
        return f"k{self._ids[index]}.{mac}"

    def user_key(self, user_id: str) -> str:
        """The id's pseudonym under the current key."""
        return self._user_key(0, user_id)

    def lookup_keys(self, user_id: str) -> List[str]:
        """The id's pseudonym under every key, current first (reads during a key rotation)."""
        return [self._user_key(i, user_id) for i in range(len(self._keys))]

    def handle(self, user_id: str) -> str:
        return handle_of(self.user_key(user_id))

    def __repr__(self) -> str:  # never the key material
        return f"Pseudonymizer(key_id={self.key_id!r}, keys={len(self._keys)})"


def new_key_text() -> str:
    """A fresh random key, as one hex line (for a key file)."""
    return secrets.token_hex(MIN_KEY_BYTES) + "\n"


def looks_like_user_key(value: str) -> bool:
    return (isinstance(value, str) and len(value) == 42 and value[0] == "k" and value[9] == "."
            and all(c in "0123456789abcdef" for c in value[1:9] + value[10:]))
