"""Character vocabularies for small ERNIE models made by this project (demo teacher, tests).

Chinese text is tokenised per character by ERNIE's BasicTokenizer; ASCII words split into
WordPiece pieces, so every ASCII letter and digit gets a plain and a '##' entry.
"""
from __future__ import annotations

import string
from pathlib import Path
from typing import Iterable, List, Union

SPECIAL = ["[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]"]
PLACEHOLDER_PIECES = ["phone", "id", "bank_card", "email", "qq", "wechat"]  # masking placeholders, lower-cased


def gb2312_level1() -> List[str]:
    """The 3,755 most common simplified characters (GB2312 level 1), in code order."""
    chars = []
    for hi in range(0xB0, 0xD8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.append(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return chars


def build_char_vocab(texts: Iterable[str], common: bool = True) -> List[str]:
    seen = dict.fromkeys(SPECIAL)
    ascii_chars = string.ascii_lowercase + string.digits
    for ch in ascii_chars:
        seen.setdefault(ch)
    for ch in ascii_chars:
        seen.setdefault("##" + ch)
    for piece in PLACEHOLDER_PIECES:
        seen.setdefault(piece)
    for ch in string.punctuation + "，。！？、；：“”‘’（）《》【】…—～·":
        seen.setdefault(ch)
    for text in texts:
        for ch in text.lower():
            if not ch.isspace():
                seen.setdefault(ch)
    if common:
        for ch in gb2312_level1():
            seen.setdefault(ch)
    return list(seen)


def write_vocab(tokens: List[str], path: Union[str, Path]) -> None:
    Path(path).write_text("\n".join(tokens) + "\n", encoding="utf-8")
