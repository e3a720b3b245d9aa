"""One recognizer per PII class and file; ``REGISTRY`` maps config names to classes."""
from __future__ import annotations

from typing import Dict, Type

from .address import AddressRecognizer
from .bank_card import BankCardRecognizer
from .base import Candidate, DigitRecognizer, Pattern, PatternRecognizer, Recognizer
from .email import EmailRecognizer
from .id_card import IdCardRecognizer
from .landline import LandlineRecognizer
from .license_plate import LicensePlateRecognizer
from .passport import PassportRecognizer
from .person_name import PersonNameRecognizer
from .phone import PhoneRecognizer
from .qq import QQRecognizer
from .wechat import WeChatRecognizer

REGISTRY: Dict[str, Type[Recognizer]] = {
    cls.name: cls
    for cls in (
        EmailRecognizer, WeChatRecognizer, QQRecognizer, IdCardRecognizer, BankCardRecognizer, PhoneRecognizer,
        LandlineRecognizer, PassportRecognizer, LicensePlateRecognizer, PersonNameRecognizer, AddressRecognizer,
    )
}

__all__ = ["REGISTRY", "Candidate", "Pattern", "Recognizer", "PatternRecognizer", "DigitRecognizer"] + [
    cls.__name__ for cls in REGISTRY.values()
]
