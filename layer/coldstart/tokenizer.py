"""ERNIE WordPiece tokenisation without Paddle, id-for-id identical to paddlenlp's ``ErnieTokenizer``.

Why not HF's ``BertWordPieceTokenizer`` as it is: its BertNormalizer/BertPreTokenizer differ
from paddlenlp's ``BasicTokenizer`` (measured over all 1.1M code points, each between two
letters; paddlenlp 2.8.1, tokenizers 0.22):

* paddlenlp splits off every Unicode *symbol* (categories S*: emoji, ``¥``, ``+``, ``©``, ...;
  plus a few listed code points such as ``µ`` and ``〇``); HF splits punctuation only, so
  ``"cool🚗"`` is one ``[UNK]`` in HF but ``cool 🚗`` in paddlenlp (~7,700 characters);
* paddlenlp drops every code point whose category starts with ``C`` (unassigned ones
  too); HF keeps unassigned code points (~830,000 characters);
* HF uses the Unicode tables compiled into Rust crates, paddlenlp Python's
  ``unicodedata``; where the versions disagree (~770 more characters, e.g. the
  punctuation U+2E5D, added in Unicode 14) the output differs.

So the *basic* step (lower-casing, control removal, whitespace, CJK spacing, accent
stripping, punctuation/symbol splitting) is done here with a per-character translation
table filled lazily from ``unicodedata``, following paddlenlp's code step by step. A word
that is itself in the vocabulary (every CJK character, punctuation, most short ASCII
words) maps with one dict lookup; other words go through HF ``tokenizers``' WordPiece
model (greedy longest match, ``##`` continuation, words over 100 characters -> ``[UNK]``),
with a bounded cache. The vocabulary is read exactly as paddlenlp reads it (line i -> id
i, only ``\\n`` stripped, a later duplicate wins). Measured: a full ``tokenizers.Tokenizer``
call costs 75-175 us per sentence in encoding-object overhead; this path costs ~20 us.

Parity holds with paddlenlp running on the *same* Python (the same ``unicodedata``
version). Python 3.9 has Unicode 13, 3.11 has Unicode 14: characters assigned in 14
(e.g. the emoji U+1FAE0) are dropped on 3.9 as unassigned and become ``[UNK]`` on 3.11.

Special tokens written in the text (``"[SEP]"``, ``"[CLS]"``, ...): paddlenlp treats them
differently depending on how the tokenizer was made. ``ErnieTokenizer(vocab_file=...)``
tokenises them as ordinary text (``[ cls ]``); ``ErnieTokenizer.from_pretrained(dir)`` and
``AutoTokenizer.from_pretrained(dir)``, which the teacher and the distillation jobs use,
keep them whole. ``atomic_special_tokens`` picks the behaviour; the default (True) matches
``from_pretrained``, i.e. how the vectors in the index were made.

Truncation follows paddlenlp's ``longest_first``: one token at a time from the longer
side, from the *second* text on a tie. HF's own pair truncation differs on ties
(max 8, two 5-token texts: HF keeps 2 + 3 tokens, paddlenlp 3 + 2), so it is not used.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from tokenizers.models import WordPiece

__all__ = ["Encoded", "WordPieceTokenizer", "load_vocab"]

PAD, CLS, SEP, UNK, MASK = "[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]"
SPECIAL_TOKENS = (UNK, SEP, PAD, CLS, MASK)
MAX_INPUT_CHARS_PER_WORD = 100  # paddlenlp WordpieceTokenizer default

_SPECIAL_RE = re.compile("(" + "|".join(re.escape(t) for t in SPECIAL_TOKENS) + ")")
_SENTINEL = "\x00"  # never in basic output (NUL is removed), marks a text needing the exact slow path
_TABLE_CAP = 65536  # per-character entries kept; rarer characters are computed each time
_PIECE_CACHE_CAP = 20000  # multi-piece words kept; further ones are split each time

_category = unicodedata.category
_combining = unicodedata.combining
_nfd = unicodedata.normalize
# paddlenlp _is_symbol: category S* or one of these code points.
_EXTRA_SYMBOLS = frozenset(chr(c) for c in (0x00AD, 0x00B2, 0x00BA, 0x3007, 0x00B5, 0x00D8, 0x014B, 0x01B1))

PathLike = Union[str, Path]


def load_vocab(path: PathLike) -> Dict[str, int]:
    """token -> id exactly as paddlenlp reads vocab.txt: line i is id i, only ``\\n`` stripped."""
    vocab: Dict[str, int] = {}
    with open(path, "r", encoding="utf-8") as fh:
        for index, line in enumerate(fh):
            vocab[line.rstrip("\n")] = index
    return vocab


def _is_cjk(cp: int) -> bool:
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def _is_control(ch: str) -> bool:  # paddlenlp _is_control, plus NUL and U+FFFD (_clean_text)
    if ch in "\t\n\r":
        return False
    return ch == "\x00" or ch == "\ufffd" or _category(ch)[0] == "C"


def _is_whitespace(ch: str) -> bool:  # paddlenlp _is_whitespace
    return ch in " \t\n\r" or _category(ch) == "Zs"


def _is_split(ch: str) -> bool:  # paddlenlp _is_punctuation or _is_symbol
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    cat = _category(ch)
    return cat[0] == "P" or cat[0] == "S" or ch in _EXTRA_SYMBOLS


def _char_piece(ch: str) -> str:
    """What paddlenlp's pipeline makes of one raw character, as text with spaces between words.

    Steps in paddlenlp's order: lower-case per character (PretrainedTokenizer.tokenize),
    drop controls / map whitespace (_clean_text), space around CJK, lower-case per word,
    NFD and drop Mn (accents), space around punctuation and symbols. A word boundary is a
    space. NFD of a *word* can reorder combining marks across characters; a character
    producing a spacing combining mark (non-Mn with non-zero combining class) returns
    the sentinel so that the whole text goes through the exact slow path.
    """
    out: List[str] = []
    for x in ch.lower():
        if _is_control(x):
            continue
        if _is_whitespace(x) or x.isspace():  # the latter: kept by _clean_text, but str.split() splits there
            out.append(" ")
            continue
        core: List[str] = []
        for z in _nfd("NFD", x.lower()):
            if _category(z) == "Mn":
                continue
            if _combining(z):
                return _SENTINEL
            if _is_split(z):
                core.append(" " + z + " ")
            elif z.isspace():
                core.append(" ")
            else:
                core.append(z)
        piece = "".join(core)
        out.append(" " + piece + " " if _is_cjk(ord(x)) else piece)
    return "".join(out)


class _CharTable(dict):
    """code point -> basic-tokenizer output, for ``str.translate``; filled on first sight, bounded."""

    def __missing__(self, cp: int) -> str:
        piece = _char_piece(chr(cp))
        if len(self) < _TABLE_CAP:
            self[cp] = piece
        return piece


def _exact_words(text: str) -> List[str]:
    """paddlenlp's BasicTokenizer literally (after per-character lower-casing); the slow path."""
    text = "".join([c.lower() for c in text])
    chars: List[str] = []
    for ch in text:
        if _is_control(ch):
            continue
        if _is_whitespace(ch):
            chars.append(" ")
        elif _is_cjk(ord(ch)):
            chars.append(" " + ch + " ")
        else:
            chars.append(ch)
    words: List[str] = []
    for token in "".join(chars).split():
        token = "".join([z for z in _nfd("NFD", token.lower()) if _category(z) != "Mn"])
        words.extend("".join([" " + z + " " if _is_split(z) else z for z in token]).split())
    return words


@dataclass(frozen=True)
class Encoded:
    """Model inputs, np.int64: shape [seq] from ``encode``, [batch, seq] from ``encode_batch``.

    From ``encode`` the arrays may be read-only views of shared buffers (no allocation):
    copy before writing into them.
    """

    input_ids: np.ndarray
    token_type_ids: np.ndarray
    attention_mask: np.ndarray

    def __len__(self) -> int:
        return int(self.input_ids.shape[-1])


class WordPieceTokenizer:
    """A release's vocab.txt -> ERNIE inputs ``[CLS] text [SEP] (pair [SEP])``, paddlenlp-identical.

    Thread-safe for concurrent ``encode`` calls (the character table only ever gains
    entries, and each entry is computed deterministically).
    """

    def __init__(self, vocab: Union[PathLike, Dict[str, int]], max_seq_len: int = 128,
                 atomic_special_tokens: bool = True):
        if max_seq_len < 4:
            raise ValueError("max_seq_len must be >= 4 ([CLS] a [SEP] b [SEP] needs at least 4)")
        self.vocab: Dict[str, int] = dict(vocab) if isinstance(vocab, dict) else load_vocab(vocab)
        for token in (UNK, CLS, SEP, PAD):
            if token not in self.vocab:
                raise ValueError(f"vocabulary lacks {token}")
        self.max_seq_len = int(max_seq_len)
        self.atomic_special_tokens = bool(atomic_special_tokens)
        self.unk_id = self.vocab[UNK]
        self.cls_id = self.vocab[CLS]
        self.sep_id = self.vocab[SEP]
        self.pad_id = self.vocab[PAD]
        # A special token in the text becomes a word that WordPiece maps whole; one missing
        # from the vocabulary becomes [UNK] (paddlenlp: unknown token -> unk id).
        self._special_words = {t: (t if t in self.vocab else UNK) for t in SPECIAL_TOKENS}
        # Whole-word hits skip WordPiece: greedy longest match takes the whole word first.
        self._whole = {t: i for t, i in self.vocab.items() if len(t) <= MAX_INPUT_CHARS_PER_WORD}
        self._wordpiece = WordPiece(self.vocab, unk_token=UNK, continuing_subword_prefix="##",
                                    max_input_chars_per_word=MAX_INPUT_CHARS_PER_WORD)
        self._pieces: Dict[str, Tuple[int, ...]] = {}
        self._id_to_token: Optional[Dict[int, str]] = None
        self._table = _CharTable()
        for cp in range(128):
            self._table[cp] = _char_piece(chr(cp))
        # Shared read-only buffers: single encodes return views of these, no allocation.
        n = self.max_seq_len
        self._ones = np.ones(n, dtype=np.int64)
        self._zeros = np.zeros(n, dtype=np.int64)
        for buf in (self._ones, self._zeros):
            buf.flags.writeable = False

    # ------------------------------------------------------------------ words and ids

    def _chunk_words(self, text: str) -> List[str]:
        basic = text.translate(self._table)
        if _SENTINEL in basic:
            return _exact_words(text)
        return basic.split()

    def words(self, text: str) -> List[str]:
        """Output of the basic step (what WordPiece then splits): lower-cased, cleaned, split."""
        if self.atomic_special_tokens and "[" in text:
            out: List[str] = []
            for i, part in enumerate(_SPECIAL_RE.split(text)):
                if i % 2:
                    out.append(self._special_words[part])
                elif part:
                    out.extend(self._chunk_words(part))
            return out
        return self._chunk_words(text)

    def _word_ids(self, word: str) -> Tuple[int, ...]:
        pieces = self._pieces.get(word)
        if pieces is None:
            pieces = tuple([t.id for t in self._wordpiece.tokenize(word)])
            if len(self._pieces) < _PIECE_CACHE_CAP:
                self._pieces[word] = pieces
        return pieces

    def _ids(self, text: str, budget: Optional[int]) -> List[int]:
        """WordPiece ids of ``text`` without special tokens; at least the first ``budget`` ones.

        Every word yields at least one id, so only the first ``budget`` words can survive
        truncation: longer texts are not WordPiece-split beyond that.
        """
        words = self.words(text)
        if budget is not None and len(words) > budget:
            del words[budget:]
        whole = self._whole.get
        ids: List[int] = []
        for word in words:
            i = whole(word)
            if i is None:
                ids.extend(self._word_ids(word))
            else:
                ids.append(i)
        return ids

    def tokenize(self, text: str) -> List[str]:
        """WordPiece tokens (strings) of ``text``, no special tokens added, no truncation."""
        if self._id_to_token is None:
            self._id_to_token = {i: t for t, i in self.vocab.items()}
        return [self._id_to_token[i] for i in self._ids(text, None)]

    def token_count(self, text: str) -> int:
        """Number of WordPiece tokens of ``text``, without [CLS]/[SEP] and before truncation.

        ``token_count(t) > max_seq_len - 2`` means ``encode(t)`` cuts the text.
        """
        return len(self._ids(text, None))

    # ------------------------------------------------------------------ truncation

    def _pair_lengths(self, la: int, lb: int) -> Tuple[int, int]:
        """paddlenlp ``longest_first`` in closed form: drop from the longer, from b on a tie."""
        remove = la + lb + 3 - self.max_seq_len
        if remove <= 0:
            return la, lb
        if la - lb >= remove:
            return la - remove, lb
        if lb - la >= remove:
            return la, lb - remove
        total = la + lb - remove
        return total - total // 2, total // 2

    def _content(self, text: str, pair: Optional[str]) -> Tuple[List[int], Optional[List[int]]]:
        if pair is None:
            return self._ids(text, self.max_seq_len - 2)[: self.max_seq_len - 2], None
        budget = self.max_seq_len - 3
        a = self._ids(text, budget)
        b = self._ids(pair, budget)
        na, nb = self._pair_lengths(len(a), len(b))
        return a[:na], b[:nb]

    # ------------------------------------------------------------------ public encode

    def encode(self, text: str, pair: Optional[str] = None) -> Encoded:
        """``[CLS] text [SEP]`` or ``[CLS] text [SEP] pair [SEP]``, truncated to ``max_seq_len``.

        token_type_ids: 0 up to and including the first [SEP], 1 after it; mask all ones.
        """
        a, b = self._content(text, pair)
        if b is None:
            ids = [self.cls_id]
            ids.extend(a)
            ids.append(self.sep_id)
            n = len(ids)
            return Encoded(np.array(ids, dtype=np.int64), self._zeros[:n], self._ones[:n])
        ids = [self.cls_id]
        ids.extend(a)
        ids.append(self.sep_id)
        first = len(ids)
        ids.extend(b)
        ids.append(self.sep_id)
        n = len(ids)
        types = np.zeros(n, dtype=np.int64)
        types[first:] = 1
        return Encoded(np.array(ids, dtype=np.int64), types, self._ones[:n])

    def encode_batch(self, texts: Sequence[str], pairs: Optional[Sequence[str]] = None) -> Encoded:
        """Encode each text (and pair) and pad to the longest: [PAD] id, type 0, mask 0."""
        if pairs is not None and len(pairs) != len(texts):
            raise ValueError("texts and pairs differ in length")
        rows = [self._content(t, None if pairs is None else pairs[i]) for i, t in enumerate(texts)]
        lengths = [len(a) + 2 + (0 if b is None else len(b) + 1) for a, b in rows]
        width = max(lengths, default=0)
        batch = len(rows)
        ids = np.full((batch, width), self.pad_id, dtype=np.int64)
        types = np.zeros((batch, width), dtype=np.int64)
        mask = np.zeros((batch, width), dtype=np.int64)
        for i, (a, b) in enumerate(rows):
            row = ids[i]
            row[0] = self.cls_id
            end = 1 + len(a)
            row[1:end] = a
            row[end] = self.sep_id
            end += 1
            if b is not None:
                row[end:end + len(b)] = b
                types[i, end:end + len(b) + 1] = 1
                end += len(b)
                row[end] = self.sep_id
                end += 1
            mask[i, :end] = 1
        return Encoded(ids, types, mask)
