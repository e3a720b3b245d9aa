"""The PII rules as the tests know them, independent of coldstart.pii's code: the labelled corpus
generator's (data/pii_corpus.py, standard library only) GB 11643 check character, province codes
and Luhn. One copy, shared by tests/test_pii.py, tests/test_pii_corpus.py and tests/fuzz/plant.py.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_script(name: str, path: Path):
    """A project script (data/, bench/) as a module; they are not packages."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


corpus = load_script("pii_corpus", ROOT / "data" / "pii_corpus.py")

PROVINCES = tuple(corpus.PROVINCES)
id_check_char = corpus.id_check_char
luhn_complete = corpus.luhn_complete


def luhn_ok(digits: str) -> bool:
    """Luhn over a digit string; anything else (an ID ending in X) is not a card."""
    return digits.isdigit() and corpus.luhn_ok(digits)
