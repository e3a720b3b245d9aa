"""The checked-in demo population (data/*.jsonl) is sound and is exactly what
data/generate.py produces with its defaults."""
from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import unicodedata
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data"
FILES = ("users.jsonl", "heldout.jsonl", "samples.jsonl")
ID_RE = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")
CARD_RE = re.compile(r"(?:卡号|银行卡|转账请打到)([0-9]{4}(?: ?[0-9]{4}){3}(?:[0-9]{3})?)(?![0-9])")


def _load_generate():
    spec = importlib.util.spec_from_file_location("coldstart_demo_generate", DATA / "generate.py")
    mod = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(mod)
    return mod


gen = _load_generate()


def _read(name: str):
    with open(DATA / name, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


@pytest.fixture(scope="module")
def users():
    return _read("users.jsonl")


@pytest.fixture(scope="module")
def heldout():
    return _read("heldout.jsonl")


def test_tags_and_phrase_lists():
    assert len(gen.TAGS) >= 12 and len(set(gen.TAGS)) == len(gen.TAGS)
    assert gen.category_names() == gen.TAGS
    assert set(gen.TAGS) == {"体育", "科技", "娱乐", "教育", "旅游", "美食", "财经", "游戏", "汽车", "时尚", "健康", "母婴"}
    train, held = gen.phrase_split(gen.DEFAULT_SEED)
    for tag in gen.TAGS:
        assert len(train[tag]) + len(held[tag]) >= 40, tag
        assert held[tag], tag
        assert not set(train[tag]) & set(held[tag]), tag
    all_held = {p for tag in gen.TAGS for p in held[tag]}
    assert not all_held & set(gen.SAMPLE_PHRASES)


def test_users(users):
    assert len(users) >= 3000
    ids = [u["user_id"] for u in users]
    assert len(set(ids)) == len(ids)
    assert len({u["text"] for u in users}) == len(users)
    for u in users:
        assert set(u) == {"user_id", "text", "tags"}
        assert u["text"].strip()
        assert 1 <= len(u["tags"]) <= 3 and len(set(u["tags"])) == len(u["tags"])
        assert all(t in gen.TAGS for t in u["tags"])
    assert {t for u in users for t in u["tags"]} == set(gen.TAGS)


def test_heldout_is_phrase_disjoint(users, heldout):
    assert len(heldout) >= 400
    assert len({h["id"] for h in heldout}) == len(heldout)
    _, held = gen.phrase_split(gen.DEFAULT_SEED)
    phrases = [p for tag in gen.TAGS for p in held[tag]]
    blob = "\n".join(u["text"] for u in users)
    blob_nfkc = unicodedata.normalize("NFKC", blob)
    leaked = [p for p in phrases if p in blob or unicodedata.normalize("NFKC", p) in blob_nfkc]
    assert not leaked
    for h in heldout:
        assert h["text"].strip() and 1 <= len(h["tags"]) <= 3
        assert all(t in gen.TAGS for t in h["tags"])
    # held-out texts really use held-out phrases (full-width variants aside)
    uses = sum(any(unicodedata.normalize("NFKC", p) in unicodedata.normalize("NFKC", h["text"])
                   for t in h["tags"] for p in held[t]) for h in heldout)
    assert uses == len(heldout)


def test_fake_personal_data_is_well_formed(users, heldout):
    texts = [r["text"] for r in users + heldout]
    ids = [m for t in texts for m in ID_RE.findall(t)]
    assert ids, "expected some fake resident ID numbers"
    assert all(gen.id_is_valid(i) for i in ids)
    cards = [m.replace(" ", "") for t in texts for m in CARD_RE.findall(t)]
    assert cards and all(gen.luhn_is_valid(c) for c in cards)
    assert gen.id_check_digit("11010519491231002") == "X"  # GB 11643 worked example
    share = sum(bool(ID_RE.search(t) or "@" in t or re.search(r"1[3-9]\d[- ]?\d{4}[- ]?\d{4}", t))
                for t in texts[: len(users)]) / len(users)
    assert 0.03 < share < 0.15


def test_samples():
    samples = _read("samples.jsonl")
    texts = {s["text"]: s for s in samples}
    assert texts["我平时喜欢踢足球和看NBA比赛"]["expect_top"] == "体育"
    assert texts["最近在准备考研，想多学点编程知识"]["expect_top"] == "教育"
    assert texts["我喜欢看科幻电影和打篮球"]["expect_top"] is None
    assert any(re.search(r"1[3-9]\d{9}", t) for t in texts)
    for s in samples:
        assert s["expect_top"] is None or s["expect_top"] in gen.TAGS


def test_checked_in_files_match_generator(tmp_path):
    gen.write(tmp_path)  # defaults: same counts and seed as the checked-in files
    for name in FILES:
        a = hashlib.sha256((DATA / name).read_bytes()).hexdigest()
        b = hashlib.sha256((tmp_path / name).read_bytes()).hexdigest()
        assert a == b, "%s differs from `python data/generate.py` output; regenerate it" % name


def test_seed_changes_output(tmp_path):
    gen.write(tmp_path, n_users=50, n_heldout=10, seed=1)
    first = (tmp_path / "users.jsonl").read_bytes()
    gen.write(tmp_path, n_users=50, n_heldout=10, seed=1)
    assert (tmp_path / "users.jsonl").read_bytes() == first
    gen.write(tmp_path, n_users=50, n_heldout=10, seed=2)
    assert (tmp_path / "users.jsonl").read_bytes() != first
