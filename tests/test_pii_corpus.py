"""coldstart's PII masker held to its measured figures, as bench/pii.py reports them, on four corpora.

* The old generated corpus (data/pii_corpus.py, 6,000 strings, seed 20261127): the thresholds are the
  figures measured before issue 12 (exact-span recall 1.000 for every type, precision 0.987) or today's,
  whichever is higher, minus a small margin: the package rewrite must not lose anything there.
* The hand-written dev corpus (data/eval/pii/dev, written independently from a description of real-world
  formats; data/eval/README.md): whole-span recall per type, precision and hard negatives masked, at the
  figures measured at the end of issue 12 minus a margin; the dev2 corpus (a third writer, weighted to QQ,
  WeChat, names and addresses) likewise, at the second round's figures minus a margin; dev3 (a fourth writer)
  at the third round's.

The frozen test corpus (data/eval/pii/test) is deliberately *not* asserted here: a test that fails on it
would invite tuning on its texts. Its figures are measured by bench/pii.py only (three times, every run reported
in bench/README.md). Runs in a few seconds; Presidio is not needed here (only the bench runs it).
"""
from __future__ import annotations

import unicodedata

import pytest

from tests.pii_reference import ROOT, corpus, load_script

gen = corpus
bench = load_script("bench_pii", ROOT / "bench" / "pii.py")

# measured (exact-span matching) - margin. Measured 2026-11-27 (before issue 12): recall 1.000 for every
# type; precision PHONE 0.997, LANDLINE 0.984, BANK_CARD 0.930, else 1.000. After the package rewrite:
# recall 1.000 for every type; precision BANK_CARD 0.952 (look-alikes passing Luhn by chance), else 1.000.
MIN_RECALL = {"PHONE": 0.99, "LANDLINE": 0.99, "ID_CARD": 0.99, "BANK_CARD": 0.99, "EMAIL": 0.99, "QQ": 0.99,
              "WECHAT": 0.99}
MIN_PRECISION = {"PHONE": 0.99, "LANDLINE": 0.99, "ID_CARD": 0.99, "BANK_CARD": 0.94, "EMAIL": 0.99, "QQ": 0.99,
                 "WECHAT": 0.99}
# Formats the masker does not cover: every other format must be found completely, with exact boundaries.
KNOWN_GAPS = set()  # ("LANDLINE", "+86 intl") was one, until the international landline form was added
# Near-miss kinds that no masker rule may touch: all must be left alone (order numbers and card look-alikes
# joined this list when the veto words and the digit-run groups came in).
ALWAYS_LEFT_ALONE = ("amount", "card_bad_luhn", "code", "date", "ip_version", "not_mobile", "order",
                     "service_number", "timestamp", "tracking")
# Kinds touched by documented behaviour (measured left-alone rate; minus a margin):
#   id_bad_*:            only the ones that pass Luhn by chance (chance_valid) are masked, as BANK_CARD
#   id15_bad_date 0.983: Anhui (34) / Shandong (37) look-alikes that pass Luhn read as American Express
MIN_LEFT_ALONE = {"id15_bad_date": 0.97}

# dev corpus: whole-span recall per type, measured at the end of issue 12 (bench/README.md), minus a margin.
DEV_MIN_RECALL = {"PHONE": 0.99, "LANDLINE": 0.98, "ID_CARD": 0.98, "BANK_CARD": 0.98, "EMAIL": 0.98, "QQ": 0.97,
                  "WECHAT": 0.98, "PASSPORT": 0.95, "LICENSE_PLATE": 0.96, "PERSON_NAME": 0.97, "ADDRESS": 0.96}
DEV_MIN_RECALL_ALL = 0.99
DEV_MIN_PRECISION = 0.99
DEV_MAX_NEGATIVES_MASKED = 0.01


@pytest.fixture(scope="module")
def corpus():
    return gen.generate()


@pytest.fixture(scope="module")
def score(corpus):
    return bench.evaluate(corpus, bench.coldstart_predictor())


def test_corpus_is_deterministic_large_and_covers_the_formats(corpus):
    assert len(corpus) >= 5000
    again = gen.generate()
    assert [r["text"] for r in again] == [r["text"] for r in corpus]
    assert gen.generate(200, seed=1) != gen.generate(200, seed=2)
    spans = [s for r in corpus for s in r["spans"]]
    by_type = {t: [s for s in spans if s["type"] == t] for t in gen.TYPES}
    assert all(len(v) >= 300 for v in by_type.values()), {t: len(v) for t, v in by_type.items()}
    phone_formats = {s["format"] for s in by_type["PHONE"]}
    assert {"plain", "spaces", "dashes", "+86", "+86 space", "0086", "(+86)", "fullwidth"} <= phone_formats
    near = {n["kind"] for r in corpus for n in r["near_misses"]}
    assert {"order", "tracking", "date", "amount", "id_bad_check", "id_bad_date", "card_bad_luhn"} <= near


def test_labels_are_right_by_an_independent_check(corpus):
    for rec in corpus:
        text = unicodedata.normalize("NFKC", rec["text"])
        assert len(text) == len(rec["text"])
        for s in rec["spans"]:
            value = text[s["start"]:s["end"]]
            digits = value.replace(" ", "").replace("-", "")
            if s["type"] == "ID_CARD":
                assert gen.id18_valid(digits) or gen.id15_valid(digits), value
            elif s["type"] == "BANK_CARD":
                assert gen.luhn_ok(digits) and 16 <= len(digits) <= 19, value
            elif s["type"] == "EMAIL":
                assert "@" in value
        for n in rec["near_misses"]:
            value = text[n["start"]:n["end"]]
            if n["kind"].startswith("id") and len(value) == 18:
                assert not gen.id18_valid(value), value
            if n["kind"] == "card_bad_luhn":
                assert not gen.luhn_ok(value.replace(" ", "").replace("-", "")), value


@pytest.mark.parametrize("pii_type", sorted(MIN_RECALL))
def test_recall_and_precision_per_type(score, pii_type):
    recall = score.recall(pii_type, "exact")
    precision = score.precision(pii_type, "exact")
    assert recall >= MIN_RECALL[pii_type], (pii_type, recall)
    assert precision >= MIN_PRECISION[pii_type], (pii_type, precision)


def test_every_covered_format_is_found_with_exact_boundaries(score):
    missed = {key: (score.fmt_gold[key] - score.fmt_hit[key], score.fmt_gold[key])
              for key in score.fmt_gold if key not in KNOWN_GAPS and score.fmt_hit[key] < score.fmt_gold[key]}
    assert not missed, f"PII left in the text or cut at the wrong place (missed, of): {missed}"


def test_near_misses_are_left_alone(score):
    for kind in ALWAYS_LEFT_ALONE:
        alone, total = score.near_left_alone(kind)
        assert total and alone == total, (kind, total - alone, "of", total)
    for kind, minimum in MIN_LEFT_ALONE.items():
        alone, total = score.near_left_alone(kind)
        assert alone / total >= minimum, (kind, alone, total)
    # apart from look-alikes that pass a checksum by chance, >= 99% of all near-misses are untouched
    alone, total = score.near_left_alone(chance=False)
    assert alone / total >= 0.99, (alone, total)


@pytest.fixture(scope="module")
def dev_score():
    return bench.evaluate_whole(bench.load_eval_corpus("dev"), bench.coldstart_predictor())


@pytest.mark.parametrize("pii_type", sorted(DEV_MIN_RECALL))
def test_dev_corpus_whole_span_recall_per_type(dev_score, pii_type):
    assert dev_score.gold[pii_type] >= 20, (pii_type, dev_score.gold[pii_type])
    assert dev_score.recall(pii_type) >= DEV_MIN_RECALL[pii_type], (pii_type, dev_score.recall(pii_type))


def test_dev_corpus_overall_recall_precision_and_negatives(dev_score):
    assert dev_score.recall() >= DEV_MIN_RECALL_ALL, dev_score.recall()
    assert dev_score.precision() >= DEV_MIN_PRECISION, dev_score.precision()
    assert sum(dev_score.neg.values()) >= 150
    assert dev_score.negatives_masked() <= DEV_MAX_NEGATIVES_MASKED, dict(dev_score.neg_masked)


# dev2 corpus (the second round was tuned on it): measured 2026-12-04 (bench/README.md, second round) - margin.
DEV2_MIN_RECALL = {"QQ": 0.98, "WECHAT": 0.98, "PERSON_NAME": 0.98, "ADDRESS": 0.98}


@pytest.fixture(scope="module")
def dev2_score():
    return bench.evaluate_whole(bench.load_eval_corpus("dev2"), bench.coldstart_predictor())


@pytest.mark.parametrize("pii_type", sorted(DEV2_MIN_RECALL))
def test_dev2_corpus_whole_span_recall_of_the_keyword_and_context_types(dev2_score, pii_type):
    assert dev2_score.gold[pii_type] >= 150, (pii_type, dev2_score.gold[pii_type])
    assert dev2_score.recall(pii_type) >= DEV2_MIN_RECALL[pii_type], (pii_type, dev2_score.recall(pii_type))


def test_dev2_corpus_overall_recall_precision_and_negatives(dev2_score):
    assert dev2_score.recall() >= DEV_MIN_RECALL_ALL, dev2_score.recall()
    assert dev2_score.precision() >= DEV_MIN_PRECISION, dev2_score.precision()
    assert sum(dev2_score.neg.values()) >= 300
    assert dev2_score.negatives_masked() <= DEV_MAX_NEGATIVES_MASKED, dict(dev2_score.neg_masked)


# dev3 (the third round was tuned on it) and dev4-dev6 (the fourth): measured 2026-12-05 (bench/README.md, third
# and fourth rounds) - margin. Before its round each measured: dev3 0.930 (QQ 0.871, WeChat 0.923, names 0.885),
# dev4 0.930 (names 0.797), dev5 0.911 (names 0.805), dev6 0.888; the rules written from dev4 alone took dev5 to
# 0.927, and dev4 + dev5's took dev6 (held out, unread) to 0.935.
LATER_DEV_MIN_RECALL = {"dev3": {"QQ": 0.97, "WECHAT": 0.98, "PERSON_NAME": 0.96, "ADDRESS": 0.95},
                        "dev4": {"QQ": 0.97, "WECHAT": 0.98, "PERSON_NAME": 0.92, "ADDRESS": 0.97},
                        "dev5": {"QQ": 0.97, "WECHAT": 0.95, "PERSON_NAME": 0.91, "ADDRESS": 0.95},
                        "dev6": {"QQ": 0.93, "WECHAT": 0.94, "PERSON_NAME": 0.88, "ADDRESS": 0.95}}
LATER_DEV_MIN_RECALL_ALL = {"dev3": 0.98, "dev4": 0.97, "dev5": 0.955, "dev6": 0.955}
LATER_DEV_MAX_NEGATIVES_MASKED = {"dev3": 0.015, "dev4": 0.02, "dev5": 0.02, "dev6": 0.02}


@pytest.fixture(scope="module", params=sorted(LATER_DEV_MIN_RECALL))
def later_dev_score(request):
    return request.param, bench.evaluate_whole(bench.load_eval_corpus(request.param), bench.coldstart_predictor())


def test_dev3_to_dev6_corpora_recall_per_type_overall_precision_and_negatives(later_dev_score):
    name, score = later_dev_score
    for pii_type, floor in LATER_DEV_MIN_RECALL[name].items():
        assert score.gold[pii_type] >= 100, (name, pii_type, score.gold[pii_type])
        assert score.recall(pii_type) >= floor, (name, pii_type, score.recall(pii_type))
    assert score.recall() >= LATER_DEV_MIN_RECALL_ALL[name], (name, score.recall())
    assert score.precision() >= DEV_MIN_PRECISION, (name, score.precision())
    assert sum(score.neg.values()) >= 300
    assert score.negatives_masked() <= LATER_DEV_MAX_NEGATIVES_MASKED[name], (name, dict(score.neg_masked))


def test_eval_corpora_place_every_span():
    """Every labelled value of the hand-written corpora can be located (counts only: no test text is read)."""
    for name, bios, negatives in (("dev", 511, 178), ("dev2", 811, 322), ("dev3", 794, 314), ("dev4", 756, 313),
                                    ("dev5", 785, 316), ("dev6", 856, 329), ("test", 1050, 320)):
        c = bench.load_eval_corpus(name)
        assert len(c["bios"]) >= bios and len(c["negatives"]) >= negatives, name
        assert all(not r["spans"] for r in c["negatives"])


def test_invalid_ids_are_never_called_ids(score):
    for kind in ("id_bad_check", "id_bad_date", "id_bad_province", "id15_bad_date"):
        assert "ID_CARD" not in score.near_labels[kind], (kind, dict(score.near_labels[kind]))
    # and what is masked among them is only what passes Luhn by chance (then it is masked as a card)
    for kind in ("id_bad_check", "id_bad_date", "id_bad_province", "order"):
        alone, total = score.near_left_alone(kind, chance=False)
        assert alone == total, kind


def test_findings_carry_positions_in_the_input():
    """The bench scores analyze_pii's positions (no re-alignment of masked text any more)."""
    from coldstart.pii import analyze_pii

    text = "手机:185 4652 1225 23334320100611685X 好"
    assert [(f.start, f.end, f.entity) for f in analyze_pii(text)] == [(3, 16, "PHONE"), (17, 35, "ID_CARD")]
    # positions are in the caller's text, also when normalisation changes lengths (zero-width, ⑴)
    text = "电话1\u200b3\u200b8\u200b12345678 好"
    (f,) = analyze_pii(text)
    assert text[f.start:f.end] == "1\u200b3\u200b8\u200b12345678"
    assert analyze_pii("abc") == []
