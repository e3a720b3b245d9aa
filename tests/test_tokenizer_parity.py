"""coldstart.tokenizer.WordPieceTokenizer must give exactly paddlenlp ErnieTokenizer's ids.

Two vocabularies: the tiny teacher's (demo characters only, so many [UNK]s) and a large
one (demo characters + the 3,755 common GB2312 characters + some multi-character pieces
and duplicate lines), compared on hand-picked hard cases, truncation and pair grids,
per-Unicode-category samples, and hypothesis strings from a mixed alphabet.
"""
import zlib  # noqa: F401  must precede paddle

import json
import unicodedata
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coldstart.tokenizer import Encoded, WordPieceTokenizer, load_vocab

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # paddlenlp's longest_first notice

ROOT = Path(__file__).resolve().parents[1]
EXTRA_PIECES = ["hello", "##llo", "play", "##ing", "##ed", "cafe", "nba", "123", "##23", "##ll", "phone", "##one"]
DUPLICATES = ["中", "a", "##b"]  # later line wins in paddlenlp's vocabulary


def _demo_texts():
    return [json.loads(line)["text"] for line in (ROOT / "data" / "users.jsonl").read_text("utf-8").splitlines()]


class Pair:
    """paddlenlp's tokenizer and ours over the same vocab, ours cached per max_seq_len."""

    def __init__(self, paddle_tok, vocab_path, atomic):
        self.paddle = paddle_tok
        self.vocab_path = vocab_path
        self.atomic = atomic
        self._ours = {}

    def ours(self, max_len):
        if max_len not in self._ours:
            self._ours[max_len] = WordPieceTokenizer(self.vocab_path, max_seq_len=max_len,
                                                     atomic_special_tokens=self.atomic)
        return self._ours[max_len]

    def check(self, text, pair=None, max_len=128):
        ref = self.paddle(text, text_pair=pair, max_length=max_len, truncation=True, return_attention_mask=True)
        got = self.ours(max_len).encode(text, pair)
        ctx = f"text={text!r} pair={pair!r} max_len={max_len}"
        assert got.input_ids.tolist() == ref["input_ids"], ctx
        assert got.token_type_ids.tolist() == ref["token_type_ids"], ctx
        assert got.attention_mask.tolist() == ref["attention_mask"], ctx
        for arr in (got.input_ids, got.token_type_ids, got.attention_mask):
            assert arr.dtype == np.int64


@pytest.fixture(scope="module")
def cjk_vocab(tmp_path_factory):
    from infra.char_vocab import build_char_vocab, write_vocab

    tokens = build_char_vocab(_demo_texts(), common=True) + EXTRA_PIECES + DUPLICATES
    path = tmp_path_factory.mktemp("cjk-vocab") / "vocab.txt"
    write_vocab(tokens, path)
    return path


@pytest.fixture(scope="module")
def pairs(tiny_teacher, cjk_vocab):
    from paddlenlp.transformers import ErnieTokenizer

    demo_vocab = Path(tiny_teacher) / "vocab.txt"
    return {
        "demo": Pair(ErnieTokenizer(vocab_file=str(demo_vocab)), demo_vocab, atomic=False),
        "cjk": Pair(ErnieTokenizer(vocab_file=str(cjk_vocab)), cjk_vocab, atomic=False),
        # How the teacher and distillation load it: special tokens in the text stay whole.
        "demo_pretrained": Pair(ErnieTokenizer.from_pretrained(str(tiny_teacher)), demo_vocab, atomic=True),
    }


VOCABS = ["demo", "cjk"]

HARD_CASES = [
    "",
    " ",
    "\t\n ",
    "我平时喜欢踢足球和看NBA比赛",
    "ＮＢＡ１２３，Ｈｅｌｌｏ！全角ＡＢＣ",
    "café Café CAFÉ naïve résumé Ångström",
    "e\u0301 a\u0300 o\u0308\u0301 \u0301 combining",
    "emoji😄在中间🚗cool🚗ok👍🏻⚽️",
    "👨\u200d👩\u200d👧 family",
    "tab\tnew\nline\r\n  runs   of    spaces\u3000全角空格\u00a0nbsp",
    "\x00\x01\x07\x1f\x7f\x85\u200b\ufeff\u00ad控制字符\u200d\ufffd",
    "\u2028line sep\u2029para sep\u000bvt\u000cff",
    "电话[PHONE]，邮箱[EMAIL]，微信：[WECHAT]",
    "[CLS] 不是 [SEP] 特殊[UNK][MASK][PAD] [cls] [ CLS ]",
    "HELLO hello Hello playing PLAYING played cafe nba 123 phone",
    "µ² º 〇 ŋ Ø ø Ʊ ¥100 $5 +1 ©®™ ½ ①② ±×÷→ ^`~",
    "ΑΣ ΟΔΟΣ σς İstanbul ǅǄ ß ﬁ Ⅻ",
    "한국어 日本語ひらがなカタカナ ไทย العربية",
    "𠀀𪚥 ext-B 豈 \uf900 compat 〇",
    "𝄞 \U0001D165\U0001D16E\U0001D15F 音乐符号",  # spacing combining marks: exact slow path
    "a" * 100 + " " + "b" * 101 + " 中",  # WordPiece: > 100 characters -> [UNK]
    "hellox helloing xhello",  # greedy pieces and failing words
    "混合mixed123abc中文＃＃tag ##ing # #",
    "lone \ud800 surrogate \udfff",
    "程序员一枚，爱好是收集景区门票和去冰岛。周末踢足球⚽",
]


@pytest.mark.parametrize("vocab", VOCABS)
@pytest.mark.parametrize("text", HARD_CASES)
def test_hard_cases(pairs, vocab, text):
    pairs[vocab].check(text)
    pairs[vocab].check(text, max_len=8)


@pytest.mark.parametrize("vocab", VOCABS)
def test_pairs_of_hard_cases(pairs, vocab):
    cases = HARD_CASES[::3]
    for a in cases:
        for b in cases:
            pairs[vocab].check(a, b)
            pairs[vocab].check(a, b, max_len=9)


@pytest.mark.parametrize("vocab", VOCABS)
def test_very_long_text_truncates(pairs, vocab):
    long_text = "我喜欢踢足球和看NBA比赛，周末去徒步 hiking!! " * 60  # ~1,500 tokens
    for max_len in (4, 5, 16, 128, 512):
        pairs[vocab].check(long_text, max_len=max_len)
        pairs[vocab].check(long_text, "短的第二句", max_len=max_len)
        pairs[vocab].check("短", long_text, max_len=max_len)
        pairs[vocab].check(long_text, long_text[::-1], max_len=max_len)


def test_pair_truncation_grid(pairs):
    """longest_first: ties are cut from the second text (HF's own rule differs here)."""
    pair = pairs["cjk"]
    for max_len in (4, 5, 8, 9, 16):
        for la in range(0, 13):
            for lb in range(0, 13):
                pair.check("中" * la, "文" * lb, max_len=max_len)


def _category_samples(per_category=40):
    """Up to ``per_category`` code points of every Unicode category, spread over the range."""
    by_cat = defaultdict(list)
    for cp in range(0x110000):
        by_cat[unicodedata.category(chr(cp))].append(cp)
    out = []
    for cps in by_cat.values():
        step = max(1, len(cps) // per_category)
        out.extend(cps[::step][:per_category])
    return out


def test_basic_step_per_unicode_category(pairs):
    """The basic step (before WordPiece) equals paddlenlp's for samples of every category."""
    from paddlenlp.transformers.bert.tokenizer import BasicTokenizer

    basic = BasicTokenizer(do_lower_case=True)
    ours = pairs["cjk"].ours(128)

    def reference(s):  # PretrainedTokenizer.tokenize lower-cases per character first
        return basic.tokenize("".join(c if c == "\n" else c.lower() for c in s))

    bad = []
    for cp in _category_samples():
        c = chr(cp)
        for s in ("a" + c + "b", "中" + c + "B", c + c + "\u0301x"):
            if ours.words(s) != reference(s):
                bad.append((hex(cp), unicodedata.category(c), s, ours.words(s), reference(s)))
    assert not bad, bad[:10]


@pytest.mark.parametrize("vocab", VOCABS)
def test_encode_batch_matches_padded_batch(pairs, vocab):
    pair = pairs[vocab]
    texts = HARD_CASES[:12] + ["我喜欢NBA" * 30]
    ref = pair.paddle(texts, max_length=32, padding=True, truncation=True, return_attention_mask=True)
    got = pair.ours(32).encode_batch(texts)
    assert got.input_ids.tolist() == ref["input_ids"]
    assert got.token_type_ids.tolist() == ref["token_type_ids"]
    assert got.attention_mask.tolist() == ref["attention_mask"]
    seconds = list(reversed(texts))
    ref = pair.paddle(texts, text_pair=seconds, max_length=20, padding=True, truncation=True,
                      return_attention_mask=True)
    got = pair.ours(20).encode_batch(texts, seconds)
    assert got.input_ids.tolist() == ref["input_ids"]
    assert got.token_type_ids.tolist() == ref["token_type_ids"]
    assert got.attention_mask.tolist() == ref["attention_mask"]
    assert got.input_ids.dtype == got.token_type_ids.dtype == got.attention_mask.dtype == np.int64


@pytest.mark.parametrize("vocab", VOCABS)
def test_token_count_and_tokens(pairs, vocab):
    pair = pairs[vocab]
    ours = pair.ours(16)
    for text in HARD_CASES:
        assert ours.tokenize(text) == pair.paddle.tokenize(text), text
        assert ours.token_count(text) == len(pair.paddle.tokenize(text)), text


@pytest.mark.parametrize("text", HARD_CASES)
def test_special_tokens_stay_whole_like_from_pretrained(pairs, text):
    pairs["demo_pretrained"].check(text)
    pairs["demo_pretrained"].check(text, "[SEP]第二句[CLS]", max_len=16)


def test_vocab_is_read_like_paddlenlp(cjk_vocab):
    from paddlenlp.transformers import ErnieTokenizer

    ref = ErnieTokenizer(vocab_file=str(cjk_vocab)).vocab.token_to_idx
    assert load_vocab(cjk_vocab) == dict(ref)


def test_encoded_shapes_and_readonly_views(pairs):
    ours = pairs["cjk"].ours(16)
    one = ours.encode("我喜欢足球")
    assert isinstance(one, Encoded) and one.input_ids.shape == (7,) and len(one) == 7
    with pytest.raises(ValueError):
        one.attention_mask[0] = 0  # shared read-only buffer, not a per-call allocation
    batch = ours.encode_batch(["我", "我喜欢足球"])
    assert batch.input_ids.shape == (2, 7)
    assert ours.encode_batch([]).input_ids.shape == (0, 0)
    with pytest.raises(ValueError):
        WordPieceTokenizer(pairs["cjk"].vocab_path, max_seq_len=3)


# ---------------------------------------------------------------- hypothesis

_ALPHABET = list(
    "abcxyzABCXYZ0189 \t\n\r"
    "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
    "我喜欢足球篮球看电影程序员旅游美食龘䶮𠀀豈"
    "ＡＢＣＮｂａ１２３！？，。、；：“”（）《》【】…—～·"
    "éèêëÉÀçñÅøØßİǅﬁ"
    "\u0301\u0308\u0327"
    "😄🚗👍🏻⚽️\u200d"
    "\x00\x07\x1f\x7f\x85\u200b\ufeff\u00ad\ufffd\u2028\u3000\u00a0"
    "¥€©®™±×÷→µ²º〇½①"
    "ΣσςΑ한ひカ\U0001D165\U0001D16E"
)
_WORDS = ["[CLS]", "[SEP]", "[UNK]", "[MASK]", "[PAD]", "[PHONE]", "hello", "playing", "café", "ＮＢＡ１２３", "##ing"]
_TEXT = st.lists(st.one_of(st.sampled_from(_ALPHABET), st.sampled_from(_WORDS)), max_size=60).map("".join)


@pytest.mark.parametrize("vocab", VOCABS)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_TEXT, pair=st.one_of(st.none(), _TEXT), max_len=st.sampled_from([6, 16, 128]))
def test_hypothesis_parity(pairs, vocab, text, pair, max_len):
    pairs[vocab].check(text, pair, max_len=max_len)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_TEXT, pair=st.one_of(st.none(), _TEXT))
def test_hypothesis_parity_from_pretrained(pairs, text, pair):
    pairs["demo_pretrained"].check(text, pair, max_len=16)
