"""The kiosk's own configuration file, ``<data>/kiosk.json`` (or ``--config``), and its operator token.

Why a file and not only flags: the operator token must be the same for the running kiosk and for
``python -m edge status`` run later from another shell, and it must not sit in a command line
(``ps`` shows those to every local account). The file lives in the kiosk's 0700 data directory
and is written 0600; a kiosk started without a token makes one (``secrets.token_urlsafe``) and
keeps it there.

Keys (all optional; a command-line flag wins over the file, the file over the default)::

    {"operator_token": "...", "operator_port": 8091, "port": 8090, "idle_seconds": 60}
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional

CONFIG_FILE = "kiosk.json"
DEFAULT_PORT = 8090
DEFAULT_OPERATOR_PORT = 8091
DEFAULT_IDLE_SECONDS = 60.0
MIN_TOKEN_CHARS = 16

_TYPES = {"operator_token": str, "operator_port": int, "port": int, "idle_seconds": (int, float)}


class ConfigError(ValueError):
    """The kiosk's config file is unreadable or has a bad value (the message names the key, never the token)."""


@dataclass(frozen=True)
class KioskFileConfig:
    path: Path
    operator_token: Optional[str] = None
    operator_port: Optional[int] = None
    port: Optional[int] = None
    idle_seconds: Optional[float] = None


def config_path(data: Path, override: Optional[str] = None) -> Path:
    return Path(override).expanduser() if override else Path(data).expanduser() / CONFIG_FILE


def read_config(path: Path) -> KioskFileConfig:
    """The file's values (a missing file is an empty config); unknown keys and wrong types are refused."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return KioskFileConfig(path=Path(path))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not readable as JSON ({exc.__class__.__name__})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: must be a JSON object")
    unknown = sorted(set(raw) - set(_TYPES))
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_TYPES))}")
    for key, kind in _TYPES.items():
        if key in raw and (not isinstance(raw[key], kind) or isinstance(raw[key], bool)):
            raise ConfigError(f"{path}: {key!r} has the wrong type")
    token = raw.get("operator_token")
    if token is not None and len(token) < MIN_TOKEN_CHARS:
        raise ConfigError(f"{path}: 'operator_token' is shorter than {MIN_TOKEN_CHARS} characters")
    idle = raw.get("idle_seconds")
    if idle is not None and idle <= 0:
        raise ConfigError(f"{path}: 'idle_seconds' must be positive")
    return KioskFileConfig(path=Path(path), operator_token=token, operator_port=raw.get("operator_port"),
                           port=raw.get("port"), idle_seconds=None if idle is None else float(idle))


def _write_private(path: Path, data: Dict[str, Any]) -> None:
    """0600 from the first byte (atomic_write's temporary file is created 0600), then renamed over the old file."""
    from coldstart.release import atomic_write_json

    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    atomic_write_json(path, data, mode=0o600)


def ensure_operator_token(path: Path) -> str:
    """The token in ``path``; a new random one is written there (0600, other keys kept) when absent."""
    found = read_config(path)
    if found.operator_token:
        return found.operator_token
    try:
        current = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        current = {}
    token = secrets.token_urlsafe(24)
    _write_private(Path(path), {**current, "operator_token": token})
    return token
