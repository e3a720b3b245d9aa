"""The checked-in demo population (data/*.jsonl) is sound, carries what real sign-ups carry, keeps
its held-out and calibration families out of training, and is exactly what data/generate.py
produces with its defaults."""
from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import sys
import unicodedata
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data"
FILES = ("users.jsonl", "heldout.jsonl", "calibration.jsonl", "samples.jsonl", "written.jsonl", "signal.jsonl")
ID_RE = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")
CARD_RE = re.compile(r"(?:卡号|银行卡|转账请打到)([0-9]{4}(?: ?[0-9]{4}){3}(?:[0-9]{3})?)(?![0-9])")


def _load_generate():
    spec = importlib.util.spec_from_file_location("coldstart_demo_generate", DATA / "generate.py")
    mod = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


gen = _load_generate()


def _read(name: str):
    with open(DATA / name, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


@pytest.fixture(scope="module")
def users():
    return _read("users.jsonl")


@pytest.fixture(scope="module")
def heldout():
    return _read("heldout.jsonl")


@pytest.fixture(scope="module")
def calibration():
    return _read("calibration.jsonl")


@pytest.fixture(scope="module")
def split():
    return gen.family_split(gen.DEFAULT_SEED)


def test_tags_and_lexicons():
    assert gen.category_names() == gen.TAGS
    assert set(gen.TAGS) == {"体育", "科技", "娱乐", "教育", "旅游", "美食", "财经", "游戏", "汽车", "时尚", "健康", "母婴"}
    families, negations = gen.load_families()
    assert len(families) >= 4000, "lexicons in the thousands of entries"
    per_tag = {t: [f for f in families if f.tag == t] for t in gen.TAGS}
    for tag, fams in per_tag.items():
        kinds = {f.kind for f in fams}
        assert len(fams) >= 150, tag
        assert {"act", "topic", "job"} <= kinds, (tag, kinds)
        assert negations[tag], tag
    # named entities, not only generic words
    entity_kinds = {"person", "team", "title", "brand", "place", "dish"}
    assert sum(f.kind in entity_kinds for f in families) >= 1200
    # an alias belongs to one family only: a word never carries two labels
    owners = {}
    for f in families:
        for a in f.aliases:
            owners.setdefault(_norm(a), set()).add(f.key)
    assert all(len(keys) == 1 for keys in owners.values())


def test_family_split_is_disjoint_and_deterministic(split):
    keys = {name: {f.key for f in fams} for name, fams in split.items()}
    assert not keys["train"] & keys["heldout"]
    assert not keys["train"] & keys["calibration"]
    assert not keys["heldout"] & keys["calibration"]
    for tag in gen.TAGS:
        assert any(f.tag == tag for f in split["heldout"]), tag
        assert any(f.tag == tag for f in split["calibration"]), tag
    again = gen.family_split(gen.DEFAULT_SEED)
    assert [f.key for f in again["heldout"]] == [f.key for f in split["heldout"]]
    assert [f.key for f in gen.family_split(1)["heldout"]] != [f.key for f in split["heldout"]]


def test_users(users):
    assert len(users) >= 10000
    ids = [u["user_id"] for u in users]
    assert len(set(ids)) == len(ids)
    assert len({u["text"] for u in users}) == len(users)
    for u in users:
        assert set(u) == {"user_id", "text", "tags"}
        assert u["text"].strip()
        assert len(u["tags"]) <= 3 and len(set(u["tags"])) == len(u["tags"])
        assert all(t in gen.TAGS for t in u["tags"])
        assert u["tags"] == [t for t in gen.TAGS if t in u["tags"]]  # canonical order
    assert {t for u in users for t in u["tags"]} == set(gen.TAGS)
    empty = sum(not u["tags"] for u in users) / len(users)
    assert 0.05 < empty < 0.15, "users with no stated interest"
    multi = sum(len(u["tags"]) >= 2 for u in users) / len(users)
    assert 0.2 < multi < 0.5


def test_users_talk_like_users(users):
    texts = [u["text"] for u in users]
    lengths = [len(t) for t in texts]
    assert min(lengths) <= 4 and max(lengths) >= 100, "very short and long noisy bios"
    assert sum(n >= 60 for n in lengths) > 0.05 * len(texts)
    res = gen.Resources()
    traditional = set(res.s2t.values()) - set(res.s2t)
    assert sum(any(c in traditional for c in t) for t in texts) > 0.03 * len(texts)
    assert sum(bool(re.search(r"[a-z]{4,}", t)) for t in texts) > 0.05 * len(texts)  # English / pinyin
    emoji = sum(any(ord(c) > 0x1F000 for c in t) for t in texts)
    assert emoji > 0.05 * len(texts)


def test_negated_interest_is_not_labelled(users, split):
    """A text that negates a category ("不爱运动", "对游戏没兴趣") and names nothing else of it does
    not carry that tag; a text made only of negations carries no tag at all."""
    _, negations = gen.load_families()
    phrases = {tag: {p for row in rows for p in row if len(p) >= 4} for tag, rows in negations.items()}
    aliases = {tag: {_norm(a) for f in split["train"] if f.tag == tag for a in f.aliases if len(a) >= 2}
               for tag in gen.TAGS}
    checked = 0
    for u in users:
        text = _norm(u["text"])
        for tag, ps in phrases.items():
            if any(p in u["text"] for p in ps) and not any(a in text for a in aliases[tag]):
                assert tag not in u["tags"], u
                checked += 1
    assert checked > 200
    pure = [u for u in users if not u["tags"] and any(p in u["text"] for ps in phrases.values() for p in ps)]
    assert len(pure) > 50, "pure negation is a no-interest text"


def test_negation_is_always_about_another_tag(monkeypatch):
    import random

    families, negations = gen.load_families()
    composer = gen.Composer(families, negations, gen.Resources(), pii_rate=0.0, edu_goals=False)
    monkeypatch.setattr(gen, "NEGATION_RATE", 1.0)
    rng = random.Random(3)
    own = {p for row in negations["游戏"] for p in row}
    others = {p for t, rows in negations.items() if t != "游戏" for row in rows for p in row}
    texts = [composer.compose(rng, ["游戏"]) for _ in range(300)]
    assert not [t for t in texts if any(p in t for p in own if len(p) >= 4)]
    assert sum(any(p in t for p in others if len(p) >= 4) for t in texts) > 60


def test_heldout_and_calibration_are_family_disjoint(users, heldout, calibration, split):
    assert len(heldout) >= 400 and len(calibration) >= 1000
    blob = _norm("\n".join(u["text"] for u in users))
    for name, rows in (("heldout", heldout), ("calibration", calibration)):
        aliases = {_norm(a) for f in split[name] for a in f.aliases}
        leaked = [a for a in aliases if a in blob]
        assert not leaked, (name, leaked[:5])
        assert len({r["id"] for r in rows}) == len(rows)
        for r in rows:
            assert set(r) == {"id", "text", "tags"} and r["text"].strip() and len(r["tags"]) <= 3
            assert all(t in gen.TAGS for t in r["tags"])
        # every in-interest text names at least one family of its own split
        with_tags = [r for r in rows if r["tags"]]
        uses = sum(any(a in _norm(r["text"]) for a in aliases) for r in with_tags)
        assert uses >= 0.9 * len(with_tags)
        assert sum(not r["tags"] for r in rows) > 0.04 * len(rows)
    held_aliases = {_norm(a) for f in split["heldout"] for a in f.aliases}
    cal_blob = _norm("\n".join(r["text"] for r in calibration))
    assert not [a for a in held_aliases if a in cal_blob]
    texts = [r["text"] for r in users + heldout + calibration]
    assert len(set(texts)) == len(texts)


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


def test_records_accept_users_with_no_interest():
    from infra.records import parse_records

    lines = [b'{"user_id": "a", "text": "\xe4\xbd\xa0\xe5\xa5\xbd", "tags": []}',
             '{"user_id": "b", "text": "爱打篮球", "tags": ["体育"]}'.encode()]
    report = parse_records(iter(lines), "mem")
    assert [r.tags for r in report.records] == [(), ("体育",)]


def test_checked_in_files_match_generator(tmp_path):
    gen.write(tmp_path)  # defaults: same counts and seed as the checked-in files
    for name in FILES:
        a = hashlib.sha256((DATA / name).read_bytes()).hexdigest()
        b = hashlib.sha256((tmp_path / name).read_bytes()).hexdigest()
        assert a == b, "%s differs from `python data/generate.py` output; regenerate it" % name


def test_seed_changes_output(tmp_path):
    gen.write(tmp_path, n_users=50, n_heldout=10, seed=1, n_calibration=10)
    first = (tmp_path / "users.jsonl").read_bytes()
    gen.write(tmp_path, n_users=50, n_heldout=10, seed=1, n_calibration=10)
    assert (tmp_path / "users.jsonl").read_bytes() == first
    gen.write(tmp_path, n_users=50, n_heldout=10, seed=2, n_calibration=10)
    assert (tmp_path / "users.jsonl").read_bytes() != first


def test_written_lexicons(users, heldout, split):
    """The written clauses are training families (kind ``clause``) and the written no-interest texts are
    split: the fifth kept for new-user splits never appears in a user's bio."""
    clauses = [f for f in split["train"] if f.kind == "clause"]
    assert len(clauses) >= 1000 and {f.tag for f in clauses} == set(gen.TAGS)
    assert not [f for name in ("heldout", "calibration") for f in split[name] if f.kind == "clause"]
    train, new = gen.read_written_neutral(gen.WRITTEN / "neutral.txt")
    assert len(train) >= 700 and len(new) >= 150 and not set(train) & set(new)
    blob = "\n".join(u["text"] for u in users)
    # long enough to be distinctive, Chinese (keyboard rows are also made by the gibberish maker), and
    # not inside a training line (where it may appear legitimately)
    distinctive = [t for t in new if len(t) >= 10 and re.search(r"[\u4e00-\u9fff]", t)
                   and not any(t in o for o in train)]
    assert len(distinctive) >= 50
    assert not [t for t in distinctive if t in blob]
    assert sum(any(t in r["text"] for t in new) for r in heldout if not r["tags"]) >= 10
    # every no-interest written text is labelled so where it stands alone in a bio
    standalone = {u["text"] for u in users if u["text"] in set(train)}
    assert standalone and all(not u["tags"] for u in users if u["text"] in standalone)


def test_dictionary_rows_name_training_families_only(split):
    """The demo teacher's dictionary rows (infra train-demo-teacher --lexicon): training aliases only."""
    sys.path[:0] = [str(DATA.parent / "layer"), str(DATA.parent)]
    from infra.jobs.train_demo_teacher import dictionary_rows

    rows = dictionary_rows(str(DATA / "generate.py"))
    train = {(a, f.tag) for f in split["train"] for a in f.aliases}
    assert set(rows) == train
    held = {_norm(a) for name in ("heldout", "calibration") for f in split[name] for a in f.aliases}
    assert not [a for a, _ in rows if _norm(a) in held]


def test_the_detectors_own_texts_stay_out_of_the_population_and_the_evaluation_sets(users):
    """data/signal.jsonl (lexicons/signal/) trains the no-signal detector only: no user's bio is one of its texts,
    it holds both kinds over all 12 tags, and no text of it is (after the generator's normalisation) a whole text
    of an evaluation set (dedupe.py dropped those and every 8-character overlap when importing)."""
    rows = [json.loads(line) for line in (DATA / "signal.jsonl").read_text(encoding="utf-8").splitlines()]
    texts = {gen._norm(r["text"]) for r in rows}
    assert len(rows) >= 2500 and len(texts) == len(rows)
    assert {t for r in rows for t in r["tags"]} == set(gen.TAGS) and sum(not r["tags"] for r in rows) >= 1000
    assert not texts & {gen._norm(u["text"]) for u in users}
    evaluation = {gen._norm(json.loads(line)["text"]) for path in (DATA / "eval" / "interests").glob("*/*.jsonl")
                  for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}
    assert len(evaluation) > 2400 and not texts & evaluation  # dev, dev2, dev3, test

