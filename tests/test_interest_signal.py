"""The no-signal detector (coldstart.interest_signal): what it reads, that serving reproduces the fit,
its file, and that the vote stops a text it reads as stating no interest, whatever the neighbours like."""
import json
import math
from pathlib import Path

import pytest

from coldstart.calibration import FEATURES, Calibrator, TextEvidence, text_evidence
from coldstart.interest_signal import InterestSignal, char_ngrams, fit_interest_signal
from coldstart.items import ItemTable
from coldstart.voting import REASON_NO_SIGNAL, ProfileSettings, states_no_interest, vote

LIKES = ["喜欢打篮球", "爱看电影", "每周都去爬山", "热爱烘焙", "沉迷原神", "天天追剧", "喜欢研究基金",
         "是个车迷", "喜欢逛街买衣服", "每天坚持跑步", "爱吃火锅", "周末喜欢带娃去公园"]
MENTIONS = ["我哥是开出租车的", "今天去医院体检了", "手机屏幕碎了", "明天要去成都出差", "孩子学校要交资料",
            "楼下的健身房关门了", "上班路上堵车", "刚注册", "你好", "没什么好说的", "电脑又死机了", "驾照要换证了"]


def fitted(min_df=1):
    return fit_interest_signal(LIKES * 3 + MENTIONS * 3, [True] * 36 + [False] * 36, min_df=min_df, c=10.0)


def test_char_ngrams_stay_inside_word_segments_and_skip_placeholders():
    grams = char_ngrams("爱看NBA，电话[PHONE]")
    assert grams["爱看"] == 1 and grams["nba"] == 1 and grams["看n"] == 1  # lower case, one run
    assert "a电" not in grams and "，" not in grams  # never across punctuation
    assert not any("phone" in g for g in grams)  # the placeholder is not a word
    assert sum(grams.values()) == (5 + 4 + 3) + (2 + 1)  # runs "爱看nba" and "电话"


def test_serving_reproduces_the_fitted_model():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    signal = fitted()
    texts = LIKES * 3 + MENTIONS * 3
    vec = TfidfVectorizer(analyzer=lambda t: list(char_ngrams(t).elements()), min_df=1, sublinear_tf=True)
    model = LogisticRegression(C=10.0, max_iter=5000, class_weight="balanced").fit(
        vec.fit_transform(texts), [1] * 36 + [0] * 36)
    probe = ["喜欢看电影和打篮球", "今天手机又坏了", "asdf", "", "！！！", "爱爱爱爱"]
    want = model.decision_function(vec.transform(probe))
    got = [signal.log_odds(t) for t in probe]
    assert got == pytest.approx(list(want), abs=1e-4)  # the file rounds to 6 decimals
    assert signal.log_odds("喜欢打篮球") > 0 > signal.log_odds("今天去医院体检了")
    assert signal.log_odds("") == pytest.approx(signal.intercept)  # nothing known: the prior alone


def test_min_df_keeps_only_ngrams_of_several_texts():
    rare = fit_interest_signal(["喜欢篮球"] * 5 + ["张三丰的电话"] + ["你好"] * 5, [True] * 5 + [False] * 6, min_df=2)
    assert "张三" not in rare.vocabulary and "篮球" in rare.vocabulary


def test_file_round_trip_and_refusals(tmp_path):
    signal = fitted()
    signal.threshold = -0.25
    cal = Calibrator(FEATURES, [0.0] * 8, [1.0] * 8, [0.0] * 8, 1.0, threshold=0.3, signal=signal)
    back = Calibrator.load(cal.save(tmp_path))
    assert back.signal is not None and back.signal.threshold == -0.25
    assert back.signal.log_odds("爱吃火锅") == pytest.approx(signal.log_odds("爱吃火锅"), abs=1e-9)
    assert back.sha256() == cal.sha256()
    data = json.loads((tmp_path / "calibration.json").read_text(encoding="utf-8"))
    for broken in ({"format": 2}, {"ngrams": ["爱"], "idf": [0.0], "weights": [1.0]},
                   {"ngrams": ["爱"], "idf": [1.0], "weights": [float("nan")]}, {"ngrams": ["爱", "爱"], "idf": [1.0, 1.0],
                   "weights": [1.0, 1.0]}, {"idf": [1.0]}, {"ngram_range": [3, 1]}, {"intercept": None}):
        bad = {**data, "interest_signal": {**data["interest_signal"], **broken}}
        (tmp_path / "calibration.json").write_text(json.dumps(bad), encoding="utf-8")
        with pytest.raises(ValueError):
            Calibrator.load(tmp_path)
    plain = Calibrator(FEATURES, [0.0] * 8, [1.0] * 8, [0.0] * 8, 1.0, threshold=0.3)
    assert "interest_signal" not in plain.to_dict() and Calibrator.from_dict(plain.to_dict()).signal is None


def test_the_vote_stops_a_text_that_states_no_interest_whatever_its_neighbours_like():
    signal = fitted()
    signal.threshold = 0.0
    # a calibrator that is sure of every vote: only the detector can stop one
    cal = Calibrator(FEATURES, [0.0] * 8, [1.0] * 8, [0.0] * 8, 5.0, threshold=0.5, signal=signal)
    items = ItemTable.from_rows(["a", "b", "c"], [["汽车"], ["汽车"], ["汽车"]])
    settings = ProfileSettings(calibrator=cal)
    mention = "我哥是开出租车的"
    stopped = vote([0, 1, 2], [0.99, 0.98, 0.97], items, settings, text_evidence(mention, None, signal))
    assert stopped.fallback and stopped.reason == REASON_NO_SIGNAL and stopped.about_user is False
    assert stopped.guess[0].tag == "汽车" and stopped.confidence == pytest.approx(1 / (1 + math.exp(-5.0)))
    likes = vote([0, 1, 2], [0.99, 0.98, 0.97], items, settings, text_evidence("是个车迷", None, signal))
    assert not likes.fallback and likes.top_tag == "汽车"
    # without the detector's reading (an older evidence row) the vote stands
    unread = vote([0, 1, 2], [0.99, 0.98, 0.97], items, settings, TextEvidence(8, {}))
    assert not unread.fallback


def test_with_a_detector_the_neighbours_verdict_is_a_veto_only_when_the_calibrator_keeps_it(tmp_path):
    """calibrate turns the neighbours' own "no interest" verdict off as a veto when it fits a detector
    (Calibrator.neighbours_veto False): the text's own reading decides, and the neighbours' no-interest share
    only lowers the confidence. Files from before session 10 (no key) keep the veto."""
    signal = fitted()
    signal.threshold = 0.0
    cal = Calibrator(FEATURES, [0.0] * 8, [1.0] * 8, [0.0] * 8, 5.0, threshold=0.5, signal=signal,
                     neighbours_veto=False)
    items = ItemTable.from_rows(["a", "b", "c"], [["汽车"], [], []])  # two of three neighbours stated none
    says = text_evidence("是个车迷", None, signal)
    assert says.interest_log_odds > 0.0
    answered = vote([0, 1, 2], [0.99, 0.98, 0.97], items, ProfileSettings(calibrator=cal), says)
    assert not answered.fallback and answered.top_tag == "汽车"
    assert answered.features["no_interest_share"] == pytest.approx(1.95 / 2.94)
    assert states_no_interest(cal, 0.66, 0.34, says.interest_log_odds) is False
    cal.neighbours_veto = True
    vetoed = vote([0, 1, 2], [0.99, 0.98, 0.97], items, ProfileSettings(calibrator=cal), says)
    assert vetoed.fallback and vetoed.reason == REASON_NO_SIGNAL
    # the detector still stops a text that states none, and a ranking that names nothing stops whatever the flag
    cal.neighbours_veto = False
    assert states_no_interest(cal, 0.0, 0.9, -1.0) is True
    assert states_no_interest(cal, 1.0, None, 2.0, named=False) is True
    assert states_no_interest(None, 0.6, 0.4, None) is True  # uncalibrated: the verdict is the only reader
    # the file keeps the flag; an older file without it keeps the veto; anything but a boolean is refused
    data = json.loads(Path(cal.save(tmp_path)).read_text(encoding="utf-8"))
    assert data["neighbours_veto"] is False and Calibrator.load(tmp_path).neighbours_veto is False
    assert Calibrator.from_dict({k: v for k, v in data.items() if k != "neighbours_veto"}).neighbours_veto is True
    with pytest.raises(ValueError, match="neighbours_veto"):
        Calibrator.from_dict({**data, "neighbours_veto": "no"})
