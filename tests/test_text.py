from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coldstart.text import nfkc, normalize_text


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("ＡＢＣａｂｃ１２３", "ABCabc123"),
        ("你好，世界！（测试）：；？", "你好,世界!(测试):;?"),
        ("１３８　１２３４", "138 1234"),  # ideographic space -> space
        ("ｅｍａｉｌ＠ｅｘａｍｐｌｅ．ｃｏｍ", "email@example.com"),
        ("①②③", "123"),  # compatibility digits
        ("ﬁ", "fi"),  # ligature
        ("e\u0301", "\u00e9"),  # composed
        ("今天天气很好。", "今天天气很好。"),  # ideographic full stop is NFKC-stable
    ],
)
def test_nfkc_full_width_to_half_width(raw, expected):
    assert normalize_text(raw) == expected
    assert nfkc(raw) == unicodedata.normalize("NFKC", raw)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("a  b", "a b"),
        ("  leading and trailing  ", "leading and trailing"),
        ("a\tb\nc\r\nd", "a b c d"),
        ("line1\n\n\n  line2", "line1 line2"),
        ("a\u3000\u3000b", "a b"),
        ("a\u00a0b", "a b"),  # NBSP
        ("a\u2028b", "a b"),  # line separator
        ("\n\t ", ""),
        ("", ""),
    ],
)
def test_whitespace_collapse(raw, expected):
    assert normalize_text(raw) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("a\x00b", "ab"),  # NUL (Cc)
        ("a\x07b\x1bc\x7fd", "abcd"),  # BEL, ESC, DEL (Cc)
        ("a\x85b", "a b"),  # NEL is whitespace -> space
        ("13\u200b8\u200c1\u200d2", "13812"),  # zero-width space / non-joiner / joiner (Cf)
        ("\ufeffhello", "hello"),  # BOM (Cf)
        ("soft\u00adhyphen", "softhyphen"),  # soft hyphen (Cf)
        ("\u202eabc\u202c", "abc"),  # bidi override (Cf)
        ("中\x01文", "中文"),
        # removing the joiner lets the accent compose; output stays stable
        ("e\u200d\u0301", "\u00e9"),
    ],
)
def test_control_chars_removed(raw, expected):
    assert normalize_text(raw) == expected


def test_truncation():
    assert normalize_text("abcdef", max_chars=3) == "abc"
    assert normalize_text("abc", max_chars=3) == "abc"
    assert normalize_text("abc", max_chars=10) == "abc"
    assert normalize_text("abc", max_chars=0) == ""
    # truncation applies after normalisation
    assert normalize_text("ａｂ　　ｃｄｅｆ", max_chars=4) == "ab c"
    assert normalize_text("  x  ", max_chars=1) == "x"
    # a cut that ends on a space does not leave it dangling
    assert normalize_text("ab cd", max_chars=3) == "ab"
    assert normalize_text("你好世界", max_chars=2) == "你好"


def test_truncation_negative_raises():
    with pytest.raises(ValueError):
        normalize_text("abc", max_chars=-1)


def test_none_max_chars_means_no_limit():
    text = "字" * 5000
    assert normalize_text(text, None) == text
    assert normalize_text(text) == text


def _reference(text: str) -> str:
    out = []
    for ch in text:
        if ch.isspace():
            out.append(" ")
        elif unicodedata.category(ch) in ("Cc", "Cf"):
            continue
        else:
            out.append(ch)
    return " ".join(unicodedata.normalize("NFKC", "".join(out)).split())


# Mix of full-width forms, CJK, combining marks, controls and whitespace.
mixed_text = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0xFF01, max_codepoint=0xFF5E),
        st.sampled_from("今天天气很好。，、“”\u3000 \t\n\r\x00\x1f\x7f\u200b\u200d\ufeff\u00ad\u00a0\u2028"),
        st.sampled_from("\u0301\u0308\u3099ｶﾞ①ﬁ㎏"),
        st.characters(max_codepoint=0x7F),
        st.characters(),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(mixed_text)
def test_prop_nfkc_matches_unicodedata(text):
    assert nfkc(text) == unicodedata.normalize("NFKC", text)


@settings(max_examples=200, deadline=None)
@given(mixed_text, st.one_of(st.none(), st.integers(0, 50)))
def test_prop_normalize_text(text, max_chars):
    out = normalize_text(text, max_chars)
    full = _reference(text)
    if max_chars is None:
        assert out == full
    else:
        assert out == full[:max_chars].rstrip()
        assert len(out) <= max_chars
    assert "  " not in out
    assert out == out.strip()
    assert not any(unicodedata.category(c) in ("Cc", "Cf") for c in out)
    # idempotent
    assert normalize_text(out) == out
