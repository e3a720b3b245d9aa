"""Which recognizers run and what they are replaced with: a typed, frozen config the engine is built from.

``MaskerConfig()`` is the default the service uses (every recognizer, the placeholders below).
A deployment can narrow it (``MaskerConfig(recognizers=("phone", "email"))``) or load it from a
mapping (``MaskerConfig.from_mapping(json.load(f))``): unknown recognizer names and entity types
fail at construction, not at the first request.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping, Tuple

__all__ = ["MaskerConfig", "PII_TYPES", "PLACEHOLDERS", "DEFAULT_RECOGNIZERS"]

PII_TYPES = (
    "EMAIL", "WECHAT", "QQ", "ID_CARD", "BANK_CARD", "PHONE", "LANDLINE",
    "PASSPORT", "LICENSE_PLATE", "PERSON_NAME", "ADDRESS",
)

PLACEHOLDERS: Mapping[str, str] = MappingProxyType(
    {
        "PHONE": "[PHONE]",
        "LANDLINE": "[PHONE]",
        "ID_CARD": "[ID]",
        "BANK_CARD": "[BANK_CARD]",
        "EMAIL": "[EMAIL]",
        "QQ": "[QQ]",
        "WECHAT": "[WECHAT]",
        "PASSPORT": "[PASSPORT]",
        "LICENSE_PLATE": "[PLATE]",
        "PERSON_NAME": "[NAME]",
        "ADDRESS": "[ADDRESS]",
    }
)

DEFAULT_RECOGNIZERS = (
    "email", "wechat", "qq", "id_card", "bank_card", "phone", "landline",
    "passport", "license_plate", "person_name", "address",
)


@dataclass(frozen=True)
class MaskerConfig:
    recognizers: Tuple[str, ...] = DEFAULT_RECOGNIZERS
    placeholders: Mapping[str, str] = field(default_factory=lambda: PLACEHOLDERS)

    def __post_init__(self) -> None:
        from .recognizers import REGISTRY

        unknown = [name for name in self.recognizers if name not in REGISTRY]
        if unknown:
            raise ValueError("unknown PII recognizer(s) %s; known: %s" % (unknown, sorted(REGISTRY)))
        missing = [REGISTRY[name].entity for name in self.recognizers if REGISTRY[name].entity not in self.placeholders]
        if missing:
            raise ValueError("no placeholder for %s" % sorted(set(missing)))
        for entity, placeholder in self.placeholders.items():
            if entity not in PII_TYPES:
                raise ValueError("unknown PII type %r" % entity)
            if not isinstance(placeholder, str) or any(c.isdigit() or c == "@" for c in placeholder):
                raise ValueError("placeholder for %s must be a string without digits or '@'" % entity)
        object.__setattr__(self, "recognizers", tuple(self.recognizers))
        object.__setattr__(self, "placeholders", MappingProxyType(dict(self.placeholders)))

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> "MaskerConfig":
        """{"recognizers": [...], "placeholders": {...}} (either key optional; placeholders merge over the defaults)."""
        extra = set(raw) - {"recognizers", "placeholders"}
        if extra:
            raise ValueError("unknown PII config key(s) %s" % sorted(extra))
        recognizers = tuple(raw.get("recognizers", DEFAULT_RECOGNIZERS))
        placeholders = dict(PLACEHOLDERS)
        placeholders.update(raw.get("placeholders", {}))
        return cls(recognizers=recognizers, placeholders=placeholders)
