"""Issue 14: negation not voted, "no signal" abstention, the calibrator (fit, file, serving parity
between the Lambda's service and the kiosk), the evaluation figures and publish's quality gate."""
import json
import math
import shutil
import zlib
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from coldstart.calibration import (CALIBRATION_FILE, FEATURES, Calibrator, TextEvidence, choose_threshold,
                                   fit_calibrator, out_of_fold_confidences, text_evidence)
from coldstart.interest_signal import InterestSignal
from coldstart.items import ItemTable
from coldstart.voting import REASON_LOW_CONFIDENCE, REASON_NO_SIGNAL, ProfileSettings, has_signal_words, vote
from infra.cli import main

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"

# A hand-made population: who negates sport carries only what they do like, and two people
# stated no interest at all (tags []).
USERS = [
    ("u1", "喜欢运动，天天打篮球", ["体育"]),
    ("u2", "热爱运动，周末踢足球", ["体育"]),
    ("u3", "运动达人，每天跑步健身打球", ["体育"]),
    ("u4", "不爱运动，就喜欢宅家追剧", ["娱乐"]),
    ("u5", "不爱运动，喜欢宅在家里追剧看综艺", ["娱乐"]),
    ("u6", "平时喜欢追剧看综艺听音乐", ["娱乐"]),
    ("u7", "没什么爱好，也不爱运动", []),
    ("u8", "没什么兴趣爱好，随便看看", []),
]


# -- the vote on a hand-made items table ------------------------------------------------------------
@pytest.fixture
def items():
    return ItemTable.from_rows([u for u, _, _ in USERS], [t for _, _, t in USERS])


def test_the_vote_counts_labels_so_a_negated_interest_is_never_voted(items):
    # "我不爱运动，只喜欢追剧" lands among u4, u5 (negated sport, 娱乐) and u6 (娱乐), u1 further off.
    p = vote([3, 4, 5, 0], [0.95, 0.93, 0.80, 0.40], items, ProfileSettings(min_confidence=0.0))
    scores = {t.tag: t.score for t in p.tags}
    assert p.top_tag == "娱乐" and scores["娱乐"] == pytest.approx((0.95 + 0.93 + 0.80) / 3.08)
    assert scores["体育"] == pytest.approx(0.40 / 3.08)  # only u1's own label; the negated mentions add 0
    assert not p.fallback and p.about_user


def test_a_neighbourhood_of_users_without_interests_gives_no_signal(items):
    p = vote([6, 7, 3], [0.9, 0.9, 0.5], items, ProfileSettings(min_confidence=0.0))
    assert p.fallback and p.reason == REASON_NO_SIGNAL and p.about_user is False
    assert p.features["no_interest_share"] == pytest.approx(1.8 / 2.3)
    assert [t.tag for t in p.guess] == ["娱乐"]  # the withheld guess, for evaluation only
    assert "不是根据你的文字推荐的" in p.why and p.to_dict()["about_user"] is False
    # a minority of no-interest neighbours lowers the share but does not take the vote
    q = vote([0, 1, 6], [0.9, 0.9, 0.9], items, ProfileSettings(min_confidence=0.0))
    assert q.top_tag == "体育" and not q.fallback and q.features["no_interest_share"] == pytest.approx(1 / 3)


@pytest.mark.parametrize("text", ["12345", "!!!。。。", "😀😀👍", "[PHONE]", "[PHONE] [EMAIL] 2024", "", "   "])
def test_texts_without_letters_have_no_signal(text):
    assert not has_signal_words(text)


@pytest.mark.parametrize("text", ["你好", "asdfghjkl", "hello world", "年龄25", "喜欢[PHONE]打篮球", "Ｆｏｏ"])
def test_texts_with_letters_go_to_the_vote(text):
    assert has_signal_words(text)  # whether they say anything is the neighbourhood's and calibrator's call


# -- the whole serving path on a hand-made index ----------------------------------------------------
class BigramEncoder:
    """A deterministic stand-in for the student: hashed character bigrams, L2-normalised."""

    dim = 128

    def vector(self, text):
        v = np.zeros(self.dim, np.float32)
        chars = [c for c in text if c.isalnum()]
        for a, b in zip(chars, chars[1:]):
            v[zlib.crc32((a + b).encode("utf-8")) % self.dim] += 1.0
        v[-1] += 0.05  # no text is the zero vector
        return v / np.linalg.norm(v)

    def encode_ids(self, texts, attention_mask=None, token_type_ids=None):
        return np.stack([self.vector(t) for t in texts])


class TextTokenizer:
    def encode(self, text):
        return SimpleNamespace(input_ids=[text], attention_mask=None, token_type_ids=None)


def hand_made_service(root, calibrator=None):
    from annoy import AnnoyIndex

    from coldstart.release_loader import LoadedRelease, ReleaseManager
    from coldstart.service import ProfileService
    from coldstart.settings import ServingSettings

    encoder = BigramEncoder()
    index = AnnoyIndex(encoder.dim, "angular")
    for i, (_, text, _) in enumerate(USERS):
        index.add_item(i, encoder.vector(text))
    index.build(5)
    (root / "index").mkdir(parents=True, exist_ok=True)
    if calibrator is not None:
        calibrator.save(root / "index")
    release = LoadedRelease(version="hand", root=root, manifest=SimpleNamespace(files={}),
                            index_manifest=SimpleNamespace(search_k=-1), model_manifest=SimpleNamespace(fusion=None),
                            model_file="x",
                            index=index, items=ItemTable.from_rows([u for u, _, _ in USERS], [t for _, _, t in USERS]),
                            encoder=encoder, tokenizer=TextTokenizer())
    manager = ReleaseManager(loader=None, refresh_seconds=0)
    manager.current = release
    return ProfileService(ServingSettings(cache_size=0, k=3, min_confidence=0.0), manager=manager)


def ask(service, text):
    """POST /profile through the shared API layer: the response body."""
    from coldstart.api import answer_profile

    status, body, _ = answer_profile(service, json.dumps({"text": text}), "application/json")
    assert status == 200, body
    return body


def test_negation_and_no_interest_through_the_serving_path(tmp_path):
    service = hand_made_service(tmp_path)
    negated = ask(service, "不爱运动，就喜欢宅家追剧看综艺")
    assert negated["top_tag"] == "娱乐" and not negated["fallback"]
    assert "体育" not in [t["tag"] for t in negated["tags"]]
    nothing = ask(service, "没什么兴趣爱好，也不爱运动")
    assert nothing["fallback"] and nothing["reason"] == "no_signal" and nothing["about_user"] is False
    for text in ["12345", "！！！", "😀😀", "13812345678"]:
        body = ask(service, text)
        assert body["fallback"] and body["reason"] == "no_signal" and body["about_user"] is False
        assert body["confidence"] == 0.0 and "neighbors" not in body


def test_a_calibrated_release_abstains_below_the_calibrators_threshold(tmp_path):
    # weight only on log_chars: short texts are unlikely to be right, long ones likely
    cal = Calibrator(FEATURES, [0.0] * len(FEATURES), [1.0] * len(FEATURES),
                     [0, 0, 0, 0, 0, 4.0, 0, 0], -10.0, threshold=0.5)
    service = hand_made_service(tmp_path, cal)
    short = ask(service, "追剧")
    assert short["fallback"] and short["reason"] == REASON_LOW_CONFIDENCE and short["about_user"] is False
    assert short["confidence"] == pytest.approx(round(1 / (1 + math.exp(-(4.0 * math.log1p(2) - 10))), 4))
    long_text = "不爱运动，就喜欢宅家追剧看综艺听音乐"
    body = ask(service, long_text)
    chars = sum(c.isalnum() for c in long_text)
    assert not body["fallback"] and body["reason"] == "vote"
    assert body["confidence"] == pytest.approx(round(1 / (1 + math.exp(-(4.0 * math.log1p(chars) - 10))), 4))


# -- the calibrator itself ----------------------------------------------------------------------------
def synthetic_rows(n, seed):
    """Rows whose true P(right) is a known logistic of two features."""
    rng = np.random.default_rng(seed)
    rows, labels = [], []
    for _ in range(n):
        row = {f: float(rng.uniform(0, 1)) for f in FEATURES}
        p = 1 / (1 + math.exp(-(6 * row["top_share"] - 3 * row["no_interest_share"] - 2)))
        rows.append(row)
        labels.append(int(rng.random() < p))
    return rows, labels


def test_fit_recovers_a_known_logistic_and_is_calibrated():
    from infra.jobs.evaluate import reliability

    rows, labels = synthetic_rows(4000, 0)
    cal = fit_calibrator(rows, labels, [True] * len(rows), l2=0.1)
    raw = dict(zip(cal.features, [w / s for w, s in zip(cal.weights, cal.scale)]))  # back to feature units
    assert raw["top_share"] == pytest.approx(6.0, abs=0.6) and raw["no_interest_share"] == pytest.approx(-3.0, abs=0.5)
    assert abs(raw["log_chars"]) < 0.5
    test_rows, test_labels = synthetic_rows(4000, 1)
    assert reliability(cal.confidences(test_rows), [bool(y) for y in test_labels])["ece"] < 0.03
    # the threshold abstains on at most 5% of the in-interest rows, scored out of fold
    conf = out_of_fold_confidences(rows, labels, l2=0.1)
    assert sum(c < cal.threshold for c in conf) <= 0.05 * len(conf) < sum(c <= cal.threshold for c in conf) + 1


def test_out_of_fold_confidences_are_less_sure_than_in_sample_ones_when_the_fit_overfits():
    rng = np.random.default_rng(3)
    rows = [{f: float(rng.normal()) for f in FEATURES} for _ in range(60)]  # features carry nothing
    labels = [int(rng.random() < 0.7) for _ in rows]
    in_sample = fit_calibrator(rows, labels, [True] * 60, l2=0.01).confidences(rows)
    oof = out_of_fold_confidences(rows, labels, l2=0.01)
    spread = lambda cs: float(np.mean([abs(c - 0.7) for c in cs]))  # noqa: E731
    assert len(oof) == 60 and spread(in_sample) < spread(oof)  # in sample it finds signal in noise ...
    right = [c for c, y in zip(oof, labels) if y]
    wrong = [c for c, y in zip(oof, labels) if not y]
    assert abs(np.mean(right) - np.mean(wrong)) < 0.1  # ... out of fold it cannot tell right from wrong
    assert out_of_fold_confidences(rows, labels, l2=0.01) == oof  # seeded


def test_calibration_file_round_trip_and_refusals(tmp_path):
    rows, labels = synthetic_rows(300, 2)
    cal = fit_calibrator(rows, labels, [True] * 300, info={"note": "x"})
    path = cal.save(tmp_path)
    assert path.name == CALIBRATION_FILE
    again = Calibrator.load(tmp_path)
    assert again.confidences(rows) == cal.confidences(rows) and again.threshold == cal.threshold
    assert again.info == {"note": "x"} and again.sha256() == cal.sha256()
    assert Calibrator.for_release_dir(tmp_path) is None  # not under index/
    data = json.loads(path.read_text())
    for bad in ({**data, "format": 99}, {**data, "features": data["features"][:-1] + ["shoe_size"]},
                {**data, "scale": [0.0] * len(FEATURES)}, {**data, "threshold": 1.5}, {"kind": "logistic"}):
        path.write_text(json.dumps(bad))
        with pytest.raises(ValueError):
            Calibrator.load(path)
    extreme = cal.confidence({f: 1e9 for f in FEATURES})
    assert 0.0 <= extreme <= 1.0 and 0.0 <= cal.confidence({}) <= 1.0
    with pytest.raises(ValueError):
        fit_calibrator(rows, [1] * 300, [True] * 300)  # nothing wrong: nothing to calibrate


def test_choose_threshold():
    conf = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95]
    assert choose_threshold(conf, [True] * 10, 0.0) == 0.1    # nobody abstains
    assert choose_threshold(conf, [True] * 10, 0.2) == 0.3    # 0.1 and 0.2 abstain
    assert choose_threshold(conf + [0.99], [True] * 10 + [False], 0.1) == 0.2  # no-interest rows do not count
    assert choose_threshold([0.5], [False]) == 0.0


def test_text_evidence():
    from coldstart.keyword_baseline import KeywordProfiler

    kw = KeywordProfiler({"format": 1, "ngram": [2, 2], "tags": {"体育": [["篮球", 1.0]], "娱乐": [["追剧", 0.5]]}})
    ev = text_evidence("喜欢打篮球和追剧，电话[PHONE]", kw)
    assert ev == TextEvidence(10, {"体育": 1.0, "娱乐": 0.5})  # 喜欢打篮球和追剧 + 电话; the placeholder is no word
    assert text_evidence("你好").keyword_scores == {} and text_evidence("你好").chars == 2


# -- fusion with the text's keywords -------------------------------------------------------------------
SPORT_AND_SHOWS = {"format": 1, "ngram": [2, 2], "tags": {"体育": [["运动", 1.0], ["篮球", 1.0]],
                                                        "娱乐": [["追剧", 1.0], ["综艺", 0.5]]}}


def test_negated_clauses_are_no_keyword_evidence():
    from coldstart.keyword_baseline import KeywordProfiler, without_negated_clauses

    kw = KeywordProfiler(SPORT_AND_SHOWS)
    assert text_evidence("不爱运动，就喜欢追剧看综艺", kw).keyword_scores == {"娱乐": 1.5}
    assert text_evidence("对篮球没什么兴趣，更喜欢追剧", kw).keyword_scores == {"娱乐": 1.0}
    assert text_evidence("喜欢运动也爱追剧", kw).keyword_scores == {"体育": 1.0, "娱乐": 1.0}
    assert without_negated_clauses("喜欢打篮球") == "喜欢打篮球"
    assert without_negated_clauses("出门旅游嫌累，假期宁可在家刷剧") == "假期宁可在家刷剧"
    # the generator's own negation frames ("从不{x}") and plain refusals count too
    assert without_negated_clauses("没啥兴趣爱好，从不看音乐剧。不会游泳") == ""
    assert without_negated_clauses("娱乐八卦一概不关心，闲下来就翻翻财报") == "闲下来就翻翻财报"


def test_fuse_scores_mixes_the_vote_with_the_texts_keywords():
    from coldstart.calibration import fuse_scores

    vote_shares = [("娱乐", 0.6), ("体育", 0.4)]
    assert fuse_scores(vote_shares, {"体育": 3.0}, 0.0) == vote_shares  # weight 0: the vote alone
    fused = dict(fuse_scores(vote_shares, {"体育": 3.0, "科技": 1.0}, 0.5))
    assert fused == pytest.approx({"娱乐": 0.3, "体育": 0.2 + 0.375, "科技": 0.125})
    assert [t for t, _ in fuse_scores(vote_shares, {}, 0.5)] == ["娱乐", "体育"]  # no keyword: the vote's order
    assert all(0.0 <= v <= 1.0 for _, v in fuse_scores(vote_shares, {"体育": 1e9}, 0.9))


def test_choose_keyword_weight_takes_the_best_top1_and_the_smaller_weight_on_ties():
    from coldstart.calibration import choose_keyword_weight

    votes = [[("娱乐", 0.6), ("体育", 0.4)], [("体育", 0.9)], [("科技", 0.7), ("财经", 0.3)]]
    keywords = [{"体育": 1.0}, {}, {"科技": 1.0}]
    weight, by_weight = choose_keyword_weight(votes, keywords, [("体育",), ("体育",), ("科技",)])
    assert by_weight[0.0] == pytest.approx(2 / 3) and by_weight[0.2] == 1.0 and weight == 0.2
    # the keywords point away from the truth: fusion never helps, so 0
    weight, _ = choose_keyword_weight(votes, [{"财经": 1.0}, {}, {"财经": 1.0}], [("娱乐",), ("体育",), ("科技",)])
    assert weight == 0.0
    assert choose_keyword_weight([], [], []) == (0.0, {})


def test_a_calibrator_with_a_keyword_weight_fuses_the_served_ranking(items, tmp_path):
    from coldstart.keyword_baseline import KeywordProfiler

    kw = KeywordProfiler(SPORT_AND_SHOWS)
    flat = Calibrator(FEATURES, [0.0] * len(FEATURES), [1.0] * len(FEATURES), [0.0] * len(FEATURES), 2.0,
                      threshold=0.5, keyword_weight=0.6)
    evidence = text_evidence("周末打篮球", kw)
    p = vote([3, 0], [0.9, 0.6], items, ProfileSettings(calibrator=flat), evidence)  # u4 (娱乐) is nearest
    assert [t.tag for t in p.vote_shares] == ["娱乐", "体育"]
    assert p.top_tag == "体育" and p.tags[0].score == pytest.approx(0.4 * 0.4 + 0.6)
    assert p.features["top_share"] == pytest.approx(0.76) and p.features["keyword_agreement"] == 1.0
    assert "文字中也有与体育相关的词" in p.why and not p.fallback
    # the same vote without fusion (weight 0, or an older file without the field) is the vote's ranking
    data = flat.to_dict()
    del data["keyword_weight"]
    plain = Calibrator.from_dict(data)
    assert plain.keyword_weight == 0.0
    assert vote([3, 0], [0.9, 0.6], items, ProfileSettings(calibrator=plain), evidence).top_tag == "娱乐"
    flat.save(tmp_path)
    assert Calibrator.load(tmp_path).keyword_weight == 0.6
    with pytest.raises(ValueError, match="keyword_weight"):
        Calibrator.from_dict({**flat.to_dict(), "keyword_weight": 1.0})
    # a negated interest stays out of the fused ranking too
    negated = vote([3, 4], [0.9, 0.9], items, ProfileSettings(calibrator=flat), text_evidence("不爱运动，就喜欢追剧", kw))
    assert [t.tag for t in negated.tags] == ["娱乐"]
    # the neighbours' own "no interest" verdict is not overruled by keywords
    nothing = vote([6, 7, 0], [0.9, 0.9, 0.5], items, ProfileSettings(calibrator=flat), evidence)
    assert nothing.fallback and nothing.reason == REASON_NO_SIGNAL


# -- evaluation figures --------------------------------------------------------------------------------
def test_score_counts_abstentions_as_misses_and_measures_ece():
    from infra.jobs.evaluate import Labelled, Prediction, reliability, score

    rows = [Labelled("a", ("体育",)), Labelled("b", ("娱乐", "体育")), Labelled("c", ("科技",)),
            Labelled("d", ()), Labelled("e", ())]
    preds = [Prediction(True, ("体育",), ("体育",), 0.9), Prediction(True, ("科技", "体育"), ("科技", "体育"), 0.6),
             Prediction(False, (), ("科技",), 0.2), Prediction(False, (), ("体育",), 0.1),
             Prediction(True, ("娱乐",), ("娱乐",), 0.7)]
    s = score(rows, preds, ["体育", "娱乐", "科技"])
    assert s["top1"] == round(1 / 3, 4) and s["top3"] == round(2 / 3, 4)  # figures carry 4 decimals
    assert s["top1_vote"] == round(2 / 3, 4)  # the abstained guess 科技 for "c" was right
    assert s["abstain_in"] == round(1 / 3, 4) and s["abstain_no"] == 0.5
    # bins: 0.1 (wrong), 0.2 (right), 0.6 (wrong), 0.7 (wrong), 0.9 (right)
    assert s["ece"] == pytest.approx((0.1 + 0.8 + 0.6 + 0.7 + 0.1) / 5, abs=1e-4)
    assert s["per_tag"]["体育"] == {"precision": 1.0, "recall": 0.5, "support": 2, "predicted": 1}
    conf = s["confusion"]
    assert conf["counts"][conf["rows"].index("(none)")][conf["columns"].index("(abstain)")] == 1
    assert reliability([], [])["ece"] is None


def test_read_labelled_names_the_bad_line(tmp_path):
    from coldstart.errors import InputError
    from infra.jobs.evaluate import read_labelled

    good = tmp_path / "a.jsonl"
    good.write_text('{"text": "喜欢打篮球", "tags": ["体育"]}\n\n{"text": "你好", "tags": []}\n', encoding="utf-8")
    assert [r.in_interest for r in read_labelled([str(tmp_path)])] == [True, False]
    (tmp_path / "b.jsonl").write_text('{"text": "x", "tags": "体育"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"b.jsonl:1: .*tags"):
        read_labelled([str(tmp_path)])


def test_split_heldout_is_fixed_by_the_seed(tmp_path):
    from infra.jobs.pipeline import split_heldout

    cal, rest = split_heldout(str(DATA / "heldout.jsonl"), 0.3, 14, tmp_path / "a")
    cal_lines = Path(cal).read_text(encoding="utf-8").splitlines()
    rest_lines = Path(rest).read_text(encoding="utf-8").splitlines()
    assert len(cal_lines) + len(rest_lines) == 600 and 140 < len(cal_lines) < 220
    assert not set(cal_lines) & set(rest_lines)
    again = split_heldout(str(DATA / "heldout.jsonl"), 0.3, 14, tmp_path / "b")
    assert Path(again[0]).read_text(encoding="utf-8") == Path(cal).read_text(encoding="utf-8")
    other = split_heldout(str(DATA / "heldout.jsonl"), 0.3, 15, tmp_path / "c")
    assert Path(other[0]).read_text(encoding="utf-8") != Path(cal).read_text(encoding="utf-8")


# -- on a real (tiny) release: calibrate, serve on Lambda service and kiosk, evaluate, gate ------------
@pytest.fixture(scope="module")
def calibrated(tiny_pipeline, tmp_path_factory):
    """The tiny pipeline's index with a keyword table and a calibrator fitted on 200 held-out texts
    plus a few no-interest ones, and the evaluation of the rest."""
    root = tmp_path_factory.mktemp("calibrated")
    index = root / "idx"
    shutil.copytree(tiny_pipeline / "idx", index)
    users = root / "users.jsonl"
    lines = (DATA / "users.jsonl").read_text(encoding="utf-8").splitlines()[:300]
    users.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["keywords", "--input", str(users), "--out", str(index)]) == 0
    held = [line for line in (DATA / "heldout.jsonl").read_text(encoding="utf-8").splitlines()
            if json.loads(line)["tags"]]  # the no-interest rows are the hand-written ones below
    nothing = [json.dumps({"text": t, "tags": []}, ensure_ascii=False)
               for t in ["你好", "asdf", "今天天气不错", "随便看看", "hello", "刚注册", "没什么好说的", "嗯嗯"]]
    cal_file, eval_file = root / "cal.jsonl", root / "eval.jsonl"
    cal_file.write_text("\n".join(held[:200] + nothing[:4]) + "\n", encoding="utf-8")
    eval_file.write_text("\n".join(held[200:320] + nothing[4:]) + "\n", encoding="utf-8")
    model = tiny_pipeline / "model"
    assert main(["calibrate", "--index", str(index), "--model", str(model), "--data", str(cal_file)]) == 0
    assert main(["evaluate", "--index", str(index), "--model", str(model), "--data", str(eval_file),
                 "--out", str(root / "eval"), "--name", "tiny"]) == 0
    return SimpleNamespace(root=root, index=index, model=model, evaluation=root / "eval" / "evaluation.json",
                           cal_file=cal_file)


TEXTS = ["我平时喜欢踢足球和看NBA比赛", "最近在准备考研，想多学点编程知识", "你好", "asdfghjkl", "12345",
         "周末喜欢带娃去亲子乐园，电话13812345678", "喜欢探店，最爱吃火锅"]


def lambda_and_kiosk(index, model, tmp_path, version):
    """Publish index + model to a folder store; the Lambda's service and a kiosk over it."""
    from coldstart.service import ProfileService
    from coldstart.settings import ServingSettings
    from edge.kiosk import Kiosk, KioskConfig

    store = tmp_path / "releases"
    assert main(["publish", "--to", str(store), "--index", str(index), "--model", str(model),
                 "--version", version]) == 0
    service = ProfileService(ServingSettings(release_uri=str(store), cache_dir=str(tmp_path / "lambda"),
                                             refresh_seconds=0, cache_size=0))
    kiosk = Kiosk(KioskConfig(release=str(store), data=tmp_path / "kiosk", backend="onnx", sync_every=0,
                              kiosk_id="k1"))
    return service, kiosk


def ask_both(service, kiosk, text):
    """The same request to both; asserts they answer alike and returns (Lambda body, Lambda result)."""
    from coldstart.api import answer_profile

    body = json.dumps({"text": text})
    s_status, s_body, s_result = answer_profile(service, body, "application/json")
    k_status, k_body, _ = kiosk.profile(body.encode("utf-8"), "application/json")
    assert s_status == k_status == 200
    for key in ("confidence", "fallback", "reason", "top_tag", "tags", "about_user"):
        assert s_body[key] == k_body[key], (text, key)
    return s_body, s_result


def test_the_calibrator_is_applied_identically_by_the_service_and_the_kiosk(calibrated, tmp_path):
    from coldstart.api import answer_profile

    service, kiosk = lambda_and_kiosk(calibrated.index, calibrated.model, tmp_path, "cal1")
    try:
        assert (kiosk.manager.current.root / "index" / CALIBRATION_FILE).is_file()
        calibrator = Calibrator.load(calibrated.index / CALIBRATION_FILE)
        legacy = []
        for text in TEXTS:
            s_body, s_result = ask_both(service, kiosk, text)
            profile = s_result.profile
            if profile.features is not None:  # the served number is the calibrator's, from the vote's features
                assert profile.confidence == pytest.approx(calibrator.confidence(profile.features))
                assert s_body["fallback"] == (profile.confidence < calibrator.threshold
                                              or profile.reason == "no_signal")
                legacy.append(profile.features["top_share"] * profile.features["mean_similarity"])
                assert set(profile.features) == set(FEATURES) and profile.features["log_chars"] > 0
            else:
                assert s_body["reason"] == "no_signal" and s_body["confidence"] == 0.0
        served = [answer_profile(service, json.dumps({"text": t}), "application/json")[1]["confidence"]
                  for t in TEXTS if has_signal_words(t)]
        assert any(abs(a - round(b, 4)) > 1e-3 for a, b in zip(served, legacy))  # not the uncalibrated score
    finally:
        kiosk.close()


def test_evaluation_report_and_figures(calibrated):
    report = json.loads(calibrated.evaluation.read_text(encoding="utf-8"))
    assert report["n_in_interest"] == 120 and report["n_no_interest"] == 4
    assert set(report["methods"]) == {"semantic", "keyword", "seed"}
    for m in report["methods"].values():
        assert 0.0 <= m["top1"] <= m["top3"] <= 1.0 and 0.0 <= m["ece"] <= 1.0
        assert m["abstain_in"] is not None and m["abstain_no"] is not None
        assert sum(map(sum, m["confusion"]["counts"])) == 124
    assert report["fingerprint"]["calibration"] and report["fingerprint"]["keywords"]
    folder = calibrated.evaluation.parent
    for name in ("reliability.png", "confusion.png"):
        assert (folder / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| top1 |" in (folder / "evaluation.md").read_text(encoding="utf-8")


def test_publish_refuses_a_release_that_fails_the_quality_gate(calibrated, tmp_path, capsys):
    from coldstart.release import read_current, read_release
    from coldstart.storage import open_store

    store = str(tmp_path / "releases")
    base = ["publish", "--to", store, "--index", str(calibrated.index), "--model", str(calibrated.model),
            "--evaluation", str(calibrated.evaluation)]
    report = json.loads(calibrated.evaluation.read_text(encoding="utf-8"))
    sem, kw = report["methods"]["semantic"], report["methods"]["keyword"]

    assert main(base + ["--version", "strict-ece", "--max-ece", str(max(sem["ece"] - 0.001, 0.0)),
                        "--min-top1-margin", "-1"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: quality gate: ECE") and "not publishing" in err[0]

    margin = sem["top1"] - kw["top1"] + 1e-6  # a margin the release just fails (not left to float rounding)
    assert main(base + ["--version", "strict-top1", "--max-ece", "1", "--min-top1-margin", str(margin)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is not above the keyword baseline" in err[0]

    forged = tmp_path / "forged.json"  # figures of another release
    forged.write_text(json.dumps({**report, "fingerprint": {**report["fingerprint"], "model_manifest": "0" * 64}}))
    assert main(base[:-1] + [str(forged), "--version", "forged", "--max-ece", "1", "--min-top1-margin", "-1"]) == 1
    assert "measured on another" in capsys.readouterr().err
    assert read_current(open_store(store)) is None  # nothing was switched, nothing uploaded
    assert not (Path(store) / "releases").exists()

    assert main(base + ["--version", "ok", "--max-ece", "1", "--min-top1-margin", "-1"]) == 0
    quality = read_release(open_store(store), "ok").components["quality"]
    assert quality["gate"]["passed"] and quality["sets"]["tiny"]["semantic"]["top1"] == sem["top1"]


def test_publish_refuses_a_calibrator_fitted_on_another_model(calibrated, tmp_path, tiny_pipeline, capsys):
    index = tmp_path / "idx"
    shutil.copytree(calibrated.index, index)
    cal = Calibrator.load(index / CALIBRATION_FILE)
    cal.info["fitted_for"]["model_manifest"] = "f" * 64
    cal.save(index)
    assert main(["publish", "--to", str(tmp_path / "r"), "--index", str(index), "--model",
                 str(calibrated.model), "--version", "v1"]) == 1
    assert "calibration.json was fitted on another model_manifest" in capsys.readouterr().err


def test_calibrate_chooses_the_threshold_on_threshold_data(calibrated, tmp_path):
    """--threshold-data: the threshold abstains (low_confidence) on at most the share asked of those texts'
    in-interest rows, as served."""
    held = [line for line in (DATA / "heldout.jsonl").read_text(encoding="utf-8").splitlines()
            if json.loads(line)["tags"]][320:420]
    other = tmp_path / "other.jsonl"
    other.write_text("\n".join(held) + "\n", encoding="utf-8")
    index = tmp_path / "idx"
    shutil.copytree(calibrated.index, index)
    base = ["calibrate", "--index", str(index), "--model", str(calibrated.model), "--data", str(calibrated.cal_file),
            "--max-in-interest-abstention", "0.1", "--force"]
    assert main(base) == 0
    out_of_fold = Calibrator.load(index / CALIBRATION_FILE)
    assert main(base + ["--threshold-data", str(other)]) == 0
    chosen = Calibrator.load(index / CALIBRATION_FILE)
    assert chosen.info["threshold_data"] == [str(other)] and "threshold_data" not in out_of_fold.info
    assert chosen.weights == out_of_fold.weights and chosen.threshold != out_of_fold.threshold
    assert main(["evaluate", "--index", str(index), "--model", str(calibrated.model), "--data", str(other),
                 "--out", str(tmp_path / "eval"), "--name", "other"]) == 0
    semantic = json.loads((tmp_path / "eval" / "evaluation.json").read_text(encoding="utf-8"))["methods"]["semantic"]
    low = semantic["reasons"].get("low_confidence", 0)
    assert 0 < low <= 0.1 * len(held)


def test_calibrate_fits_the_no_signal_detector_and_service_and_kiosk_apply_it(calibrated, tmp_path):
    """--signal-data: the detector lands in calibration.json with a threshold that stops at most the share asked
    of the in-interest calibration texts; the Lambda's service and the kiosk then answer alike, and every text
    the detector reads as stating no interest falls back with no_signal."""
    from coldstart.preprocess import mask_input
    from infra.jobs.evaluate import read_labelled

    index = tmp_path / "idx"
    shutil.copytree(calibrated.index, index)
    signal_data = tmp_path / "signal.jsonl"
    signal_data.write_text("\n".join((DATA / "users.jsonl").read_text(encoding="utf-8").splitlines()[:2000]) + "\n",
                           encoding="utf-8")
    assert main(["calibrate", "--index", str(index), "--model", str(calibrated.model), "--data",
                 str(calibrated.cal_file), "--max-in-interest-abstention", "0.1", "--signal-data", str(signal_data),
                 "--max-signal-abstention", "0.05", "--force"]) == 0
    cal = Calibrator.load(index / CALIBRATION_FILE)
    signal = cal.signal
    assert signal is not None and signal.info["texts"] == 2000 and 0 < signal.info["with_interest"] < 2000
    assert cal.info["fit"]["signal_threshold"] == pytest.approx(signal.threshold, abs=1e-4)
    assert cal.neighbours_veto is False  # with a detector the neighbours' verdict is no veto (--neighbours-veto)
    rows = [r for r in read_labelled([str(calibrated.cal_file)]) if r.in_interest]
    below = sum(signal.log_odds(mask_input(r.text, None).composed) < signal.threshold for r in rows)
    assert below <= 0.05 * len(rows) + 1  # rows without a vote are not counted by calibrate: one of slack

    service, kiosk = lambda_and_kiosk(index, calibrated.model, tmp_path, "sig1")
    texts = TEXTS + ["今天去医院体检了", "我哥是开出租车的", "手机屏幕摔碎了", "没什么好说的"]
    stopped = 0
    try:
        for text in texts:
            s_body, s_result = ask_both(service, kiosk, text)
            masked = mask_input(text, None).composed
            if s_result.profile.features is not None and signal.log_odds(masked) < signal.threshold:
                stopped += 1
                assert s_body["fallback"] and s_body["reason"] == "no_signal" and s_body["about_user"] is False
        assert stopped >= 1  # the detector did stop something here (else this test shows nothing)
    finally:
        kiosk.close()


def test_calibrate_skips_while_up_to_date(calibrated, capsys):
    assert main(["calibrate", "--index", str(calibrated.index), "--model", str(calibrated.model),
                 "--data", str(calibrated.cal_file)]) == 0
    assert "calibrate: up to date" in capsys.readouterr().out


def test_the_kiosks_python_39_computes_the_same_confidence(calibrated, tmp_path):
    """The kiosk runs the core on Python 3.9: same features, same calibrator file → same number."""
    from tests.py39 import require_toolchain, run_py39_json

    require_toolchain()
    shutil.copy(calibrated.index / "keywords.json", tmp_path / "keywords.json")
    Calibrator(FEATURES, [0.8, 0.4, 0.1, 0.9, 0.8, 2.0, 0.5, 0.5], [0.2, 0.3, 0.2, 0.05, 0.1, 0.6, 0.5, 0.4],
               [0.5, 0.4, -0.8, 0.3, 0.3, 0.6, 0.2, 0.9], 0.2, threshold=0.3, keyword_weight=0.4,
               signal=InterestSignal({"喜欢": (1.0, 2.0), "篮球": (1.5, 1.0), "基金": (1.2, 0.5), "你好": (1.0, -3.0)},
                                     -0.5, 0.0), neighbours_veto=False).save(tmp_path)
    code = """
import json, sys
sys.path.insert(0, sys.argv[1])
from coldstart.calibration import Calibrator, text_evidence
from coldstart.items import ItemTable
from coldstart.keyword_baseline import KeywordProfiler
from coldstart.voting import ProfileSettings, vote
cal = Calibrator.load(sys.argv[2] + "/calibration.json")
kw = KeywordProfiler.load(sys.argv[2] + "/keywords.json")
items = ItemTable.from_rows(["a", "b", "c", "d"], [["体育"], ["体育", "娱乐"], [], ["科技"]])
out = [vote([0, 1, 2, 3], sims, items, ProfileSettings(calibrator=cal), text_evidence(text, kw, cal.signal)).to_dict()
       for text, sims in [("喜欢打篮球", [0.9, 0.8, 0.7, 0.1]), ("你好", [0.6, 0.5, 0.5, 0.5]),
                          ("最近在研究基金定投，偶尔炒股", [0.99, 0.98, 0.2, 0.97]), ("手机坏了", [0.9, 0.9, 0.1, 0.1])]]
print(json.dumps(out))
"""
    got = run_py39_json(code, str(ROOT / "layer"), str(tmp_path))
    cal = Calibrator.load(tmp_path / CALIBRATION_FILE)
    from coldstart.keyword_baseline import KeywordProfiler

    kw = KeywordProfiler.load(tmp_path / "keywords.json")
    items = ItemTable.from_rows(["a", "b", "c", "d"], [["体育"], ["体育", "娱乐"], [], ["科技"]])
    want = [vote([0, 1, 2, 3], sims, items, ProfileSettings(calibrator=cal), text_evidence(text, kw, cal.signal)).to_dict()
            for text, sims in [("喜欢打篮球", [0.9, 0.8, 0.7, 0.1]), ("你好", [0.6, 0.5, 0.5, 0.5]),
                               ("最近在研究基金定投，偶尔炒股", [0.99, 0.98, 0.2, 0.97]), ("手机坏了", [0.9, 0.9, 0.1, 0.1])]]
    assert got == want
    assert len({d["confidence"] for d in want}) == 4  # four different numbers, all reproduced
    # the detector (no n-gram of "手机坏了" known: the intercept, below 0) stopped that vote; without it the
    # same vote ends otherwise (here: low_confidence), so the kiosk reproduced the detector's decision
    assert want[3]["fallback"] and want[3]["reason"] == "no_signal"
    cal.signal = None
    without = vote([0, 1, 2, 3], [0.9, 0.9, 0.1, 0.1], items, ProfileSettings(calibrator=cal), text_evidence("手机坏了", kw))
    assert without.reason != "no_signal"
    # "喜欢打篮球" among neighbours most of whom stated no interest: answered, as the file turns that veto off
    # (the kiosk read the flag: with the veto the same vote says no_signal)
    crowd = [0, 2, 2, 2]
    asked = vote(crowd, [0.9, 0.8, 0.8, 0.8], items, ProfileSettings(calibrator=Calibrator.load(tmp_path)),
                 text_evidence("喜欢打篮球", kw, Calibrator.load(tmp_path).signal))
    got_crowd = run_py39_json(code.replace('out = [vote([0, 1, 2, 3], sims', 'out = [vote(%r, sims' % crowd)
                              .replace('("喜欢打篮球", [0.9, 0.8, 0.7, 0.1])', '("喜欢打篮球", [0.9, 0.8, 0.8, 0.8])'),
                              str(ROOT / "layer"), str(tmp_path))
    assert got_crowd[0] == asked.to_dict() and asked.reason != "no_signal"
    cal = Calibrator.load(tmp_path)
    cal.neighbours_veto = True
    assert vote(crowd, [0.9, 0.8, 0.8, 0.8], items, ProfileSettings(calibrator=cal),
                text_evidence("喜欢打篮球", kw, cal.signal)).reason == "no_signal"



def test_calibration_rows_come_from_the_vote_and_the_text_not_from_an_installed_calibrator(items):
    """A refit must not depend on the calibrator already in the index: its fused ranking (here: keywords
    only, the neighbours stated no interest) once kept rows that a fresh index drops."""
    from infra.jobs.calibrate import vote_to_calibrate

    fusing = Calibrator(FEATURES, [0.0] * len(FEATURES), [1.0] * len(FEATURES), [0.0] * len(FEATURES), 2.0,
                        threshold=0.5, keyword_weight=0.6)
    with_keywords = TextEvidence(6, {"体育": 1.0})
    p = vote([6, 7], [0.9, 0.9], items, ProfileSettings(calibrator=fusing), with_keywords)
    assert p.guess and not p.vote_shares and p.reason == REASON_NO_SIGNAL  # ranked by the keywords alone
    assert vote_to_calibrate(p, with_keywords) == []  # kept: the text names a tag whatever is installed
    assert vote_to_calibrate(p, TextEvidence(6, {})) is None  # nothing names a tag: left out
    plain = vote([0, 6], [0.9, 0.5], items, ProfileSettings(calibrator=fusing), with_keywords)
    assert vote_to_calibrate(plain, with_keywords) == [("体育", pytest.approx(0.9 / 1.4))]  # the vote's, unfused


def test_calibrate_counts_the_neighbours_verdict_as_abstaining():
    """The budget is in-interest abstention in all: a row whose neighbours' own verdict is "no interest" (where
    that is a veto) abstains whatever its confidence, so the confidence threshold must count it first; so must
    in-interest texts that left no calibrated row at all."""
    from infra.jobs.calibrate import _features, _stopped

    base = {"no_interest_share": 0.0, "top_similarity": 0.9, "mean_similarity": 0.8}
    votes = [[("体育", 0.9)], [("体育", 0.4)], [], [("体育", 0.5)]]
    feats = [base, {**base, "no_interest_share": 0.6}, {**base, "no_interest_share": 1.0},
             {**base, "no_interest_share": 0.5}]
    evidence = [TextEvidence(5, {"体育": 1.0})] * 4
    rows, labels, inside, odds, tops = _features(votes, evidence, feats, [["体育"]] * 4, [True] * 4, 0.5)
    assert tops == [0.9, 0.4, None, 0.5]
    assert odds == [None] * 4 and labels == [1, 1, 1, 1]  # no detector: not read, so it stops nothing
    model = Calibrator(FEATURES, [0.0] * len(FEATURES), [1.0] * len(FEATURES), [0.0] * len(FEATURES), 0.0, 0.5)
    stopped = _stopped(model, rows, tops, odds)
    assert stopped == [False, True, True, True]  # ties go to "no interest", as the vote does
    model.neighbours_veto = False
    assert _stopped(model, rows, tops, odds) == [False] * 4  # no veto, no detector: nothing stops before the threshold
    # with four in-interest rows and a 50% budget the threshold can stop nobody else: three already abstain
    assert choose_threshold([-1.0 if n else 0.9 for n in stopped], inside, 0.5) == -1.0
    # the same budget over ten in-interest texts of which six left no row: 5 may abstain, six already do
    assert choose_threshold([0.2, 0.9, 0.8, 0.7], [True] * 4, 0.5, abstaining_anyway=6) == 0.2
    assert choose_threshold([0.2, 0.9, 0.8, 0.7], [True] * 4, 0.5, abstaining_anyway=2) == 0.7  # 3 - 2: one more


def test_calibrate_refits_over_an_unreadable_calibration_file(calibrated, tmp_path):
    """The job never reads the calibrator it replaces: a file of an older format (or a damaged one) in the
    index once stopped the refit with a traceback."""
    index = tmp_path / "idx"
    shutil.copytree(calibrated.index, index)
    (index / CALIBRATION_FILE).write_text(json.dumps({"format": 1, "kind": "logistic", "interest_signal": {
        "format": 1, "kind": "char-ngram-logistic", "vocabulary": {"爱": [1.0, 1.0]}}}), encoding="utf-8")
    with pytest.raises(ValueError):
        Calibrator.load(index)
    assert main(["calibrate", "--index", str(index), "--model", str(calibrated.model), "--data",
                 str(calibrated.cal_file)]) == 0
    assert Calibrator.load(index).info["rows"] > 0
