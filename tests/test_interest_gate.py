"""The interest gate (coldstart.interest_gate): one learnt "does the text state an interest" decision."""
from __future__ import annotations

import json
import math

import pytest

from coldstart.calibration import FEATURES, Calibrator, TextEvidence
from coldstart.interest_gate import GATE_FEATURES, InterestGate, fit_interest_gate, gate_row
from coldstart.interest_signal import InterestSignal
from coldstart.items import ItemTable
from coldstart.voting import REASON_NO_SIGNAL, ProfileSettings, states_no_interest, vote

VOTE = {"no_interest_share": 0.6, "top_similarity": 0.9, "keyword_mass": 0.0}


def gate(threshold=0.0):
    # log-odds = reading + 2 x confidence - 1: a strong reading or a sure vote states an interest
    return InterestGate(("interest_log_odds", "confidence"), [0.0, 0.5], [1.0, 0.5], [1.0, 1.0], 0.0, threshold)


def test_gate_row_reads_the_vote_the_text_and_the_confidence():
    row = gate_row({**VOTE, "margin": 0.3}, 0.4, 0.7, -1.5)
    assert row == {"interest_log_odds": -1.5, "no_interest_share": 0.6, "top_vote_share": 0.4, "top_similarity": 0.9,
                   "keyword_mass": 0.0, "confidence": 0.7}
    assert set(row) == set(GATE_FEATURES)
    assert math.isnan(gate_row(VOTE, 0.4, 0.7, None)["interest_log_odds"])  # not read: counts as the mean


def test_log_odds_and_the_rule():
    g = gate()
    assert g.log_odds({"interest_log_odds": 0.5, "confidence": 0.5}) == pytest.approx(0.5)
    assert g.log_odds({"interest_log_odds": -1.0, "confidence": 1.0}) == pytest.approx(0.0)
    assert not g.says_none({"interest_log_odds": -1.0, "confidence": 1.0})  # at the threshold: states one
    assert g.says_none({"interest_log_odds": -1.0, "confidence": 0.9})
    assert g.log_odds({"interest_log_odds": float("nan"), "confidence": 0.5}) == 0.0  # NaN: the mean


def test_file_round_trip_and_refusals(tmp_path):
    g = gate(0.25)
    g.info["rows"] = 3
    assert InterestGate.from_dict(json.loads(json.dumps(g.to_dict()))).to_dict() == g.to_dict()
    signal = InterestSignal({"喜欢": (1.0, 2.0)}, -0.5, 0.0)
    cal = Calibrator(FEATURES, [0.0] * 8, [1.0] * 8, [0.0] * 8, 0.0, 0.3, signal=signal, gate=g)
    loaded = Calibrator.load(cal.save(tmp_path))
    assert loaded.gate.to_dict() == g.to_dict() and loaded.signal is not None
    with pytest.raises(ValueError, match="unknown feature"):
        InterestGate(("vibes",), [0.0], [1.0], [1.0], 0.0, 0.0)
    with pytest.raises(ValueError, match="finite"):
        InterestGate(("confidence",), [0.0], [0.0], [1.0], 0.0, 0.0)
    with pytest.raises(ValueError, match="finite"):
        InterestGate(("confidence",), [0.0], [1.0], [1.0], 0.0, float("inf"))
    with pytest.raises(ValueError, match="not an interest gate"):
        InterestGate.from_dict({"format": 2, "kind": "logistic"})
    with pytest.raises(ValueError, match="malformed"):
        InterestGate.from_dict({"format": 1, "kind": "logistic", "features": ["confidence"]})
    with pytest.raises(ValueError, match="detector, which is missing"):
        Calibrator(FEATURES, [0.0] * 8, [1.0] * 8, [0.0] * 8, 0.0, 0.3, gate=g)


def test_fit_learns_the_direction_and_refuses_one_kind():
    rows, labels = [], []
    for i in range(200):
        states = i % 3 != 0
        reading = (1.5 if states else -1.5) + ((i * 37) % 11 - 5) / 5.0  # overlapping, noisy
        rows.append(gate_row(VOTE, 0.5, 0.6 if states else 0.4, reading))
        labels.append(states)
    fitted = fit_interest_gate(rows, labels)
    w = dict(zip(fitted.features, fitted.weights))
    assert w["interest_log_odds"] > 1.0 and w["confidence"] > 0.0
    assert fitted.info["rows"] == 200 and fitted.info["with_interest"] == sum(labels)
    right = sum((fitted.log_odds(r) >= 0) == y for r, y in zip(rows, labels))
    assert right >= 0.9 * len(rows)
    with pytest.raises(ValueError, match="both kinds"):
        fit_interest_gate(rows[:5], [True] * 5)
    with pytest.raises(ValueError, match="detector's reading"):
        fit_interest_gate([gate_row(VOTE, 0.5, 0.5, None)] * 2, [True, False])


def test_the_gate_decides_instead_of_the_two_vetoes():
    """The neighbours' own verdict (no-interest users hold the top share) and the detector's threshold no longer
    stop a text on their own: the gate weighs them. A vote naming no tag at all still says no_signal."""
    items = ItemTable.from_rows(["a", "b", "c", "d"], [["体育"], [], [], ["科技"]])
    signal = InterestSignal({"篮球": (1.0, 3.0), "你好": (1.0, -3.0)}, -0.5, 0.0)
    cal = Calibrator(FEATURES, [0.0] * 8, [1.0] * 8, [0.0] * 8, 0.0, 0.1, signal=signal, gate=gate())
    sims = [0.9, 0.85, 0.8, 0.1]  # 体育 0.34, no interest 0.64: the neighbours say none
    says = TextEvidence(4, {}, signal.log_odds("打篮球"))
    p = vote([0, 1, 2, 3], sims, items, ProfileSettings(calibrator=cal), says)
    assert not p.fallback and p.top_tag == "体育"  # the text's own strong reading outweighs its neighbours
    cal.gate = None
    assert vote([0, 1, 2, 3], sims, items, ProfileSettings(calibrator=cal), says).reason == REASON_NO_SIGNAL
    cal.gate = gate()
    hello = TextEvidence(2, {}, signal.log_odds("你好"))
    assert vote([0, 3], [0.9, 0.8], items, ProfileSettings(calibrator=cal), hello).reason == REASON_NO_SIGNAL
    # nothing named: all voters stated no interest and the text has no keywords
    assert vote([1, 2], [0.9, 0.8], items, ProfileSettings(calibrator=cal), says).reason == REASON_NO_SIGNAL
    assert states_no_interest(cal, {**VOTE}, None, 0.0, 5.0, named=False)
