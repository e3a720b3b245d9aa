"""A/B report from exposure and outcome events (JSONL; `-` reads stdin).

Events, joined by `user_key` (the keyed handle the serving exposure log writes):
`exposure` {experiment, variant, control, user_key, ts, user_type?}, `session` {user_key, ts,
impressions, dwell_s}, `click` {user_key, ts}, `return` {user_key, ts}. A user counts from their
first exposure; an outcome's day is floor((ts - exposure ts) / 86400); outcomes before exposure or
of unexposed users are ignored (and counted); users seen in two variants are dropped.

The control is the first variant listed in the experiment's definition, everywhere (serving gives
it to requests without a user id; simulate-events plants no lift in it). It is read from
--experiment-config (or COLDSTART_EXPERIMENT), else from the exposures' `control` field; --control
may only confirm it. Nothing is guessed from variant names.

Metrics per variant, 95% intervals:
  CTR                 clicks / impressions (all days): a ratio of per-user sums, so the interval and
                      test use the delta method over users (a user's clicks are correlated; a
                      per-impression interval would be too narrow). No library has this one.
  first-day CTR       share of users with a click on day 0: Wilson interval, pooled two-proportion
                      z-test (statsmodels proportion_confint / proportions_ztest);
  next-day retention  share of users active on day 1 (session, return or click): the same;
  mean dwell          mean over users of their mean session dwell time: t interval, Welch test (scipy).
Relative lift of each variant against the control: m_t / m_c - 1, interval by the delta method on
log(m_t / m_c), p-value from the test named above. Sample-ratio mismatch: chi-square goodness of fit
of exposed users per variant against the expected shares (scipy.stats.chisquare; --expected, else
the definition's shares, else equal), flagged at p < 0.001. Every metric again for cold and warm
users (`user_type` on the exposure).

Writes report.md, report.png (one panel per metric: lift with its interval, per segment) and
report.json into --out.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from collections import OrderedDict
from pathlib import Path
from typing import Dict, Iterable, List, Optional

DAY = 86400
SRM_ALPHA = 0.001
CONFIDENCE = 0.95
# metric -> (Chinese, English): labels a product manager reads, in the console, markdown and chart
METRICS = OrderedDict([
    ("ctr", ("点击率", "CTR (clicks / impressions)")),
    ("first_day_ctr", ("首日点击用户占比", "first-day click-through (share of users)")),
    ("retention_d1", ("次日留存率", "next-day retention")),
    ("dwell", ("平均停留时长", "mean dwell time (s)")),
])
SEGMENTS = {"all": ("全部用户", "all users"), "cold": ("新用户", "cold users"), "warm": ("老用户", "warm users")}


def label(metric: str) -> str:
    zh, en = METRICS[metric]
    return f"{zh} {en}"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("events", nargs="+", help="JSONL event files; - for stdin")
    p.add_argument("--out", default="build/ab-report", help="directory for report.md, report.png, report.json")
    p.add_argument("--experiment", help="experiment name (default: the only one in the events)")
    p.add_argument("--experiment-config", metavar="JSON",
                   help="the experiment definition as COLDSTART_EXPERIMENT takes it (default: that variable): "
                        "its first listed variant is the control, its shares the expected split")
    p.add_argument("--control", help="the control variant, when neither the definition nor the exposures name it; "
                                     "must agree with them when they do")
    p.add_argument("--expected", help='expected shares as JSON, e.g. {"keyword": 0.5, "semantic": 0.5} '
                                      "(default: the definition's shares, else equal)")


# ---------------------------------------------------------------- reading

class _User:
    __slots__ = ("variant", "t0", "user_type", "impressions", "clicks", "clicks_d0", "sessions", "dwell",
                 "active_d1", "conflict")

    def __init__(self, variant: str, t0: float, user_type: str):
        self.variant, self.t0, self.user_type = variant, t0, user_type
        self.impressions = self.clicks = self.clicks_d0 = self.sessions = 0
        self.dwell = 0.0
        self.active_d1 = False
        self.conflict = False


def _read_lines(paths: Iterable[str]) -> Iterable[str]:
    for path in paths:
        if path == "-":
            yield from sys.stdin
        else:
            with open(path, encoding="utf-8") as fh:
                yield from fh


def _apply(u: _User, e: dict, counts: dict) -> None:
    try:
        day = math.floor((float(e.get("ts", 0)) - u.t0) / DAY)
    except (TypeError, ValueError):
        counts["bad_lines"] += 1
        return
    if day < 0:
        counts["pre_exposure_outcomes"] += 1
        return
    kind = e["event"]
    if kind == "click":
        u.clicks += 1
        if day == 0:
            u.clicks_d0 += 1
    elif kind == "session":
        u.sessions += 1
        u.impressions += int(e.get("impressions") or 0)
        u.dwell += float(e.get("dwell_s") or 0.0)
    if day == 1 and kind in ("session", "return", "click"):
        u.active_d1 = True


def load_users(lines: Iterable[str], experiment: Optional[str] = None) -> tuple:
    """(users by key, experiment name, counters, controls named by its exposures)."""
    from coldstart.errors import InputError

    exposures: Dict[str, Dict[str, _User]] = {}
    controls: Dict[str, set] = {}
    pending: List[dict] = []
    counts = {"lines": 0, "bad_lines": 0, "unexposed_outcomes": 0, "pre_exposure_outcomes": 0}
    loads = json.loads
    for line in lines:
        if not line or line.isspace():
            continue
        counts["lines"] += 1
        try:
            e = loads(line)
            kind = e["event"]
            key = e["user_key"]
        except (ValueError, KeyError, TypeError):
            counts["bad_lines"] += 1
            continue
        if kind == "exposure":
            name = str(e.get("experiment", ""))
            users = exposures.setdefault(name, {})
            if e.get("control"):
                controls.setdefault(name, set()).add(str(e["control"]))
            u = users.get(key)
            ts = float(e.get("ts", 0))
            if u is None:
                users[key] = _User(str(e["variant"]), ts, str(e.get("user_type") or "unknown"))
            else:
                if u.variant != e["variant"]:
                    u.conflict = True
                if ts < u.t0:
                    u.t0 = ts
            continue
        pending.append(e)  # applied once every exposure is known (a user's first exposure sets day 0)
    if not exposures:
        raise InputError("no exposure events: an A/B report needs the exposure log (event \"exposure\")")
    if experiment is None:
        if len(exposures) > 1:
            raise InputError(f"several experiments ({', '.join(sorted(exposures))}); pick one with --experiment")
        experiment = next(iter(exposures))
    if experiment not in exposures:
        raise InputError(f"no exposures of experiment {experiment!r} (found: {', '.join(sorted(exposures))})")
    users = exposures[experiment]
    for e in pending:
        u = users.get(e["user_key"])
        if u is None:
            counts["unexposed_outcomes"] += 1
        else:
            _apply(u, e, counts)
    conflicts = [k for k, u in users.items() if u.conflict]
    for k in conflicts:
        del users[k]
    counts["users_in_two_variants"] = len(conflicts)
    return users, experiment, counts, controls.get(experiment, set())


# ---------------------------------------------------------------- statistics

def _z(confidence: float = CONFIDENCE) -> float:
    from scipy import stats

    return float(stats.norm.ppf(0.5 + confidence / 2))


def proportion_interval(successes: int, n: int) -> tuple:
    """Wilson score interval (statsmodels)."""
    if n == 0:
        return (float("nan"), float("nan"))
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = proportion_confint(successes, n, alpha=1 - CONFIDENCE, method="wilson")
    return (float(lo), float(hi))


def two_proportion_p(c: dict, t: dict) -> float:
    """Two-sided pooled two-proportion z-test (statsmodels)."""
    from statsmodels.stats.proportion import proportions_ztest

    if c["successes"] + t["successes"] in (0, c["n"] + t["n"]):
        return float("nan")  # no variance at all: nothing to test
    return float(proportions_ztest([t["successes"], c["successes"]], [t["n"], c["n"]])[1])


def _ratio_of_sums(clicks, imps) -> dict:
    """CTR as sum(clicks) / sum(impressions) with a delta-method standard error over users."""
    import numpy as np

    n = len(clicks)
    if not n or imps.sum() <= 0:
        return {"value": float("nan"), "se": float("nan")}
    r = clicks.sum() / imps.sum()
    var = (clicks.var(ddof=1) - 2 * r * np.cov(clicks, imps, ddof=1)[0, 1] + r * r * imps.var(ddof=1)) if n > 1 else 0.0
    return {"value": float(r), "se": math.sqrt(max(var, 0.0) / n) / imps.mean()}


def _summaries(group: List[_User]) -> Dict[str, dict]:
    import numpy as np
    from scipy import stats

    n = len(group)
    z = _z()
    out: Dict[str, dict] = {}
    clicks = np.array([u.clicks for u in group], dtype=float)
    imps = np.array([u.impressions for u in group], dtype=float)
    ctr = _ratio_of_sums(clicks, imps)
    out["ctr"] = {**ctr, "ci": (ctr["value"] - z * ctr["se"], ctr["value"] + z * ctr["se"]), "n": n,
                  "clicks": int(clicks.sum()), "impressions": int(imps.sum()), "method": "delta"}
    for name, hits in (("first_day_ctr", sum(1 for u in group if u.clicks_d0 > 0)),
                       ("retention_d1", sum(1 for u in group if u.active_d1))):
        p = hits / n if n else float("nan")
        out[name] = {"value": p, "se": math.sqrt(p * (1 - p) / n) if n else float("nan"),
                     "ci": proportion_interval(hits, n), "n": n, "successes": hits, "method": "wilson"}
    dwell = np.array([u.dwell / u.sessions for u in group if u.sessions > 0], dtype=float)
    m = float(dwell.mean()) if len(dwell) else float("nan")
    se = float(stats.sem(dwell)) if len(dwell) > 1 else float("nan")
    ci = tuple(float(x) for x in stats.t.interval(CONFIDENCE, len(dwell) - 1, loc=m, scale=se)) \
        if len(dwell) > 1 else (float("nan"), float("nan"))
    out["dwell"] = {"value": m, "se": se, "ci": ci, "n": int(len(dwell)), "method": "t", "_values": dwell}
    return out


def _compare(metric: str, c: dict, t: dict) -> dict:
    from scipy import stats

    mc, mt = c["value"], t["value"]
    if not (mc > 0 and mt > 0) or any(math.isnan(x) for x in (c["se"], t["se"])):
        return {"lift": float("nan"), "ci": (float("nan"), float("nan")), "p": float("nan"), "test": "n/a"}
    z = _z()
    lift = mt / mc - 1.0
    se_log = math.sqrt((t["se"] / mt) ** 2 + (c["se"] / mc) ** 2)
    ci = (math.exp(math.log(mt / mc) - z * se_log) - 1.0, math.exp(math.log(mt / mc) + z * se_log) - 1.0)
    if metric in ("first_day_ctr", "retention_d1"):
        p, test = two_proportion_p(c, t), "two-proportion z"
    elif metric == "ctr":
        se = math.sqrt(c["se"] ** 2 + t["se"] ** 2)
        p = float(2 * stats.norm.sf(abs(mt - mc) / se)) if se > 0 else float("nan")
        test = "delta-method z"
    else:
        p, test = float(stats.ttest_ind(t["_values"], c["_values"], equal_var=False).pvalue), "Welch t"
    return {"lift": lift, "ci": ci, "p": p, "test": test}


def srm_check(counts: Dict[str, int], expected: Dict[str, float]) -> dict:
    """Chi-square goodness of fit of the users per variant against the expected shares (scipy)."""
    from scipy import stats

    total = sum(counts.values())
    names = sorted(set(counts) | set(expected))
    share_sum = sum(expected.get(v, 0.0) for v in names) or 1.0
    shares = {v: expected.get(v, 0.0) / share_sum for v in names}
    observed = {v: counts.get(v, 0) for v in names}
    if any(observed[v] and not shares[v] for v in names):  # users in a variant expected to get none
        chi2, p = float("inf"), 0.0
    else:
        live = [v for v in names if shares[v] > 0]
        chi2, p = stats.chisquare([observed[v] for v in live], [total * shares[v] for v in live])
        chi2, p = float(chi2), float(p)
    return {"observed": observed, "expected_shares": shares, "chi2": chi2, "df": max(len(names) - 1, 1), "p": p,
            "mismatch": p < SRM_ALPHA}


# ---------------------------------------------------------------- the control

def experiment_definition(raw: Optional[str]):
    """The experiment from --experiment-config or COLDSTART_EXPERIMENT, or None."""
    import os

    from coldstart.experiments import Experiment

    text = raw if raw is not None else os.environ.get("COLDSTART_EXPERIMENT")
    return Experiment.parse(text) if text else None


def pick_control(variants: List[str], definition=None, from_exposures: Iterable[str] = (),
                 control: Optional[str] = None) -> str:
    """The first listed variant of the experiment's definition: from the definition itself, else from
    what the exposures say it is. ``control`` (--control) names it when neither source does."""
    from coldstart.errors import ConfigError

    named = set(from_exposures)
    if definition is not None:
        named.add(definition.control)
    if len(named) > 1:
        raise ConfigError(f"the control is ambiguous: {', '.join(sorted(named))} are each named as the control; "
                          "pass the experiment's definition with --experiment-config")
    if control and named and control not in named:
        raise ConfigError(f"--control {control} contradicts the experiment, whose first listed variant is "
                          f"{next(iter(named))}")
    chosen = next(iter(named)) if named else control
    if not chosen:
        raise ConfigError("cannot tell the control (the first variant listed in the experiment's definition): pass "
                          "--experiment-config '<COLDSTART_EXPERIMENT JSON>' or --control NAME")
    if chosen not in variants:
        raise ConfigError(f"the control {chosen!r} has no exposed users (variants seen: {', '.join(variants)})")
    return chosen


# ---------------------------------------------------------------- analysis

def _table(group_users: List[_User], variants: List[str], control: str) -> dict:
    by_variant = {v: [u for u in group_users if u.variant == v] for v in variants}
    summ = {v: _summaries(us) for v, us in by_variant.items()}
    comparisons = {v: {m: _compare(m, summ[control][m], summ[v][m]) for m in METRICS}
                   for v in variants if v != control}
    return {"users": {v: len(us) for v, us in by_variant.items()}, "metrics": summ, "lift": comparisons}


def analyze(lines: Iterable[str], experiment: Optional[str] = None, control: Optional[str] = None,
            expected: Optional[Dict[str, float]] = None, definition=None) -> dict:
    users, experiment, counts, controls = load_users(lines, experiment)
    seen = {u.variant for u in users.values()}
    listed = [v for v, _ in definition.variants] if definition is not None else []
    variants = [v for v in listed if v in seen] + sorted(seen - set(listed))
    control = pick_control(variants, definition, controls, control)
    source = ("experiment definition" if definition is not None else
              "exposure events" if controls else "--control")
    variants = [control] + [v for v in variants if v != control]
    allu = list(users.values())
    result = {"experiment": experiment, "control": control, "control_source": source, "variants": variants,
              "counts": counts, "overall": _table(allu, variants, control), "segments": {}}
    for seg in sorted({u.user_type for u in allu}):
        result["segments"][seg] = _table([u for u in allu if u.user_type == seg], variants, control)
    if expected is None and definition is not None:
        expected = dict(definition.variants)
    result["srm"] = srm_check(result["overall"]["users"], expected or {v: 1.0 / len(variants) for v in variants})
    return result


# ---------------------------------------------------------------- output

def fmt_p(p: float) -> str:
    """p-values in scientific notation: 0.0000 said nothing about 1e-36 vs 4e-5."""
    return "nan" if p != p else f"{p:.2e}"


def fmt_lift(x: float, digits: int = 2) -> str:
    return "nan" if x != x else f"{100 * x:+.{digits}f}%"


def fmt_value(metric: str, x: float) -> str:
    if x != x:
        return "nan"
    return f"{x:.2f} s" if metric == "dwell" else f"{100 * x:.3f}%"


def _rows(result: dict, table: dict):
    """(metric label, variant, users, value, CI, lift, lift CI, p) per metric and variant."""
    control = result["control"]
    for m in METRICS:
        for v in result["variants"]:
            s = table["metrics"][v][m]
            ci = f"[{fmt_value(m, s['ci'][0])}, {fmt_value(m, s['ci'][1])}]"
            if v == control:
                lift = liftci = p = "(control)"
            else:
                c = table["lift"][v][m]
                lift, liftci, p = fmt_lift(c["lift"]), f"[{fmt_lift(c['ci'][0])}, {fmt_lift(c['ci'][1])}]", fmt_p(c["p"])
            yield METRICS[m][1], v, table["users"][v], fmt_value(m, s["value"]), ci, lift, liftci, p


def summary_lines(result: dict, table: Optional[dict] = None) -> List[str]:
    table = table or result["overall"]
    rows = [f"{'metric':<40} {'variant':<12} {'users':>8} {'value':>10} {'95% CI':>24} {'lift':>9} "
            f"{'lift 95% CI':>22} {'p':>9}"]
    for name, v, n, value, ci, lift, liftci, p in _rows(result, table):
        rows.append(f"{name:<40} {v:<12} {n:>8} {value:>10} {ci:>24} {lift:>9} {liftci:>22} {p:>9}")
    return rows


def _markdown_table(result: dict, table: dict) -> List[str]:
    out = ["| 指标 metric | variant | users | value | 95% CI | lift vs control | lift 95% CI | p |",
           "|---|---|---:|---:|---|---:|---|---:|"]
    zh = {en: z for z, en in METRICS.values()}
    for name, v, n, value, ci, lift, liftci, p in _rows(result, table):
        out.append(f"| {zh[name]} {name} | {v} | {n:,} | {value} | {ci} | {lift} | {liftci} | {p} |")
    return out


def _markdown(result: dict) -> str:
    srm = result["srm"]
    how = {"experiment definition": "the experiment's definition (--experiment-config / COLDSTART_EXPERIMENT)",
           "exposure events": "the exposure events' `control` field",
           "--control": "--control"}[result["control_source"]]
    out = [f"# A/B report: {result['experiment']}", "",
           f"**Control (对照组): `{result['control']}`**, the first variant listed in the experiment's definition "
           f"(read from {how}). Every lift below is relative to it.", "",
           "Users per variant: " + ", ".join(f"{v} {n:,}" for v, n in result["overall"]["users"].items()) + ".", "",
           f"**Sample-ratio check**: chi2 = {srm['chi2']:.2f} (df {srm['df']}), p = {fmt_p(srm['p'])} → "
           + ("**MISMATCH: do not trust the results until the assignment/logging is fixed**" if srm["mismatch"]
              else "no mismatch (threshold p < 0.001)"), "",
           "![lift per metric](report.png)", "",
           f"## {SEGMENTS['all'][0]} {SEGMENTS['all'][1]}", "", *_markdown_table(result, result["overall"]), ""]
    for seg, table in result["segments"].items():
        zh, en = SEGMENTS.get(seg, ("", f"{seg} users"))
        out += [f"## {zh} {en}".replace("##  ", "## "), "", *_markdown_table(result, table), ""]
    out += ["## Method", "",
            "CTR: clicks/impressions with a delta-method interval over users (user-clustered); first-day "
            "click-through and next-day retention: Wilson intervals and pooled two-proportion z-tests "
            "(statsmodels); mean dwell: mean over users of their mean session dwell, t interval, Welch test "
            "(scipy); sample ratio: chi-square goodness of fit (scipy). Lift = variant/control - 1, interval by the "
            "delta method on the log ratio. No correction for multiple metrics or segments: treat CTR as the "
            "primary metric and the rest as guardrails/secondary.", "",
            f"Input: {json.dumps(result['counts'])}", ""]
    return "\n".join(out)


def _jsonable(x):
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items() if not k.startswith("_")}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, float) and (x != x or math.isinf(x)):
        return None
    return x


def run(args: argparse.Namespace) -> int:
    from coldstart.errors import ConfigError
    from infra.ab_chart import draw_chart

    expected = None
    if args.expected:
        try:
            expected = {str(k): float(v) for k, v in json.loads(args.expected).items()}
        except (ValueError, AttributeError):
            raise ConfigError('--expected must be JSON like {"keyword": 0.5, "semantic": 0.5}') from None
    definition = experiment_definition(args.experiment_config)
    result = analyze(_read_lines(args.events), args.experiment, args.control, expected, definition)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    draw_chart(result, out / "report.png")
    (out / "report.md").write_text(_markdown(result), encoding="utf-8")
    (out / "report.json").write_text(json.dumps(_jsonable(result), indent=1, ensure_ascii=False), encoding="utf-8")
    srm = result["srm"]
    print(f"experiment {result['experiment']}: control {result['control']} (first listed variant, from the "
          f"{result['control_source']}), users " + ", ".join(f"{v}={n}" for v, n in result["overall"]["users"].items()))
    print("\n".join(summary_lines(result)))
    for seg, table in result["segments"].items():
        print(f"-- {seg} users")
        print("\n".join(summary_lines(result, table)[1:]))
    print(f"SRM: chi2={srm['chi2']:.2f} p={fmt_p(srm['p'])} {'MISMATCH' if srm['mismatch'] else 'ok'}")
    for v in result["variants"][1:]:
        c = result["overall"]["lift"][v]["ctr"]
        print(f"ab-report: variant={v} control={result['control']} ctr_lift={c['lift']:.4f} "
              f"ci=[{c['ci'][0]:.4f},{c['ci'][1]:.4f}] p={fmt_p(c['p'])} srm_p={fmt_p(srm['p'])} "
              f"chart={out / 'report.png'} report={out / 'report.md'}")
    return 0
