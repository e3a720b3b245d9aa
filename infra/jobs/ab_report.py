"""A/B report from exposure and outcome events (JSONL; ``-`` reads stdin).

Events, joined by ``user_key`` (sha256(user_id)[:16], as the serving exposure log writes):
``exposure`` {experiment, variant, user_key, ts, user_type?}, ``session`` {user_key, ts,
impressions, dwell_s}, ``click`` {user_key, ts}, ``return`` {user_key, ts}. A user counts from
their first exposure; an outcome's day is floor((ts - exposure ts) / 86400); outcomes before
exposure or of unexposed users are ignored (and counted), users seen in two variants are dropped.

Metrics per variant, 95% intervals:
  CTR                 clicks / impressions (all days): a ratio of per-user sums, so the interval
                      and test use the delta method over users (clicks of one user are
                      correlated; a per-impression Wilson interval would be too narrow);
  first-day CTR       share of users with a click on day 0 (Wilson; two-proportion z-test);
  next-day retention  share of users active on day 1 (session or return) (Wilson; z-test);
  mean dwell          mean over users of their mean session dwell time (t interval; Welch test).
Relative lift of each variant against the control: (m_t / m_c - 1), interval by the delta
method on log(m_t / m_c), p-value from the test named above. Sample-ratio mismatch: chi-square
of exposed users per variant against the expected shares (--expected, default equal), flagged
at p < 0.001. Every metric again for cold and warm users (``user_type`` on the exposure).
Writes report.md, report.png (matplotlib, Agg) and report.json into --out.
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
Z95 = 1.959963984540054
SRM_ALPHA = 0.001
METRICS = OrderedDict([
    ("ctr", "CTR (clicks/impressions)"),
    ("first_day_ctr", "first-day click-through"),
    ("retention_d1", "next-day retention"),
    ("dwell", "mean dwell time (s)"),
])


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("events", nargs="+", help="JSONL event files; - for stdin")
    p.add_argument("--out", default="build/ab-report", help="directory for report.md, report.png, report.json")
    p.add_argument("--experiment", help="experiment name (default: the only one in the events)")
    p.add_argument("--control", help="control variant (default: 'control', else 'keyword', else the first by name)")
    p.add_argument("--expected", help='expected shares as JSON, e.g. {"keyword": 0.5, "semantic": 0.5} (default: equal)')


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
    """(users by key, experiment name, counters)."""
    exposures: Dict[str, Dict[str, _User]] = {}
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
            users = exposures.get(name)
            if users is None:
                users = exposures[name] = {}
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
        raise SystemExit("ab-report: no exposure events")
    if experiment is None:
        if len(exposures) > 1:
            raise SystemExit(f"ab-report: several experiments ({', '.join(sorted(exposures))}); pick one with --experiment")
        experiment = next(iter(exposures))
    if experiment not in exposures:
        raise SystemExit(f"ab-report: no exposures of experiment {experiment!r}")
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
    return users, experiment, counts


# ---------------------------------------------------------------- statistics

def wilson(successes: int, n: int, z: float = Z95) -> tuple:
    if n == 0:
        return (float("nan"), float("nan"))
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (centre - half, centre + half)


def _summaries(group: List[_User]) -> Dict[str, dict]:
    import numpy as np
    from scipy import stats

    n = len(group)
    out: Dict[str, dict] = {}
    clicks = np.array([u.clicks for u in group], dtype=float)
    imps = np.array([u.impressions for u in group], dtype=float)
    if n and imps.sum() > 0:
        r = clicks.sum() / imps.sum()
        ybar = imps.mean()
        var = (clicks.var(ddof=1) - 2 * r * np.cov(clicks, imps, ddof=1)[0, 1] + r * r * imps.var(ddof=1)) if n > 1 else 0.0
        se = math.sqrt(max(var, 0.0) / n) / ybar
    else:
        r, se = float("nan"), float("nan")
    out["ctr"] = {"value": r, "se": se, "ci": (r - Z95 * se, r + Z95 * se), "n": n,
                  "clicks": int(clicks.sum()), "impressions": int(imps.sum()), "method": "delta"}
    for name, hits in (("first_day_ctr", sum(1 for u in group if u.clicks_d0 > 0)),
                       ("retention_d1", sum(1 for u in group if u.active_d1))):
        p = hits / n if n else float("nan")
        out[name] = {"value": p, "se": math.sqrt(p * (1 - p) / n) if n else float("nan"), "ci": wilson(hits, n),
                     "n": n, "successes": hits, "method": "wilson"}
    dwell = np.array([u.dwell / u.sessions for u in group if u.sessions > 0], dtype=float)
    m = float(dwell.mean()) if len(dwell) else float("nan")
    se = float(dwell.std(ddof=1) / math.sqrt(len(dwell))) if len(dwell) > 1 else float("nan")
    t = float(stats.t.ppf(0.975, len(dwell) - 1)) if len(dwell) > 1 else float("nan")
    out["dwell"] = {"value": m, "se": se, "ci": (m - t * se, m + t * se), "n": int(len(dwell)),
                    "method": "t", "_values": dwell}
    return out


def _compare(metric: str, c: dict, t: dict) -> dict:
    from scipy import stats

    mc, mt = c["value"], t["value"]
    if not (mc > 0 and mt > 0) or any(math.isnan(x) for x in (c["se"], t["se"])):
        return {"lift": float("nan"), "ci": (float("nan"), float("nan")), "p": float("nan"), "test": "n/a"}
    lift = mt / mc - 1.0
    se_log = math.sqrt((t["se"] / mt) ** 2 + (c["se"] / mc) ** 2)
    ci = (math.exp(math.log(mt / mc) - Z95 * se_log) - 1.0, math.exp(math.log(mt / mc) + Z95 * se_log) - 1.0)
    if metric in ("first_day_ctr", "retention_d1"):
        pooled = (c["successes"] + t["successes"]) / (c["n"] + t["n"])
        se = math.sqrt(pooled * (1 - pooled) * (1 / c["n"] + 1 / t["n"]))
        p = 2 * stats.norm.sf(abs(mt - mc) / se) if se > 0 else float("nan")
        test = "two-proportion z"
    elif metric == "ctr":
        se = math.sqrt(c["se"] ** 2 + t["se"] ** 2)
        p = 2 * stats.norm.sf(abs(mt - mc) / se) if se > 0 else float("nan")
        test = "delta-method z"
    else:
        p = float(stats.ttest_ind(t["_values"], c["_values"], equal_var=False).pvalue)
        test = "Welch t"
    return {"lift": lift, "ci": ci, "p": float(p), "test": test}


def srm_check(counts: Dict[str, int], expected: Dict[str, float]) -> dict:
    from scipy import stats

    total = sum(counts.values())
    names = sorted(set(counts) | set(expected))
    share_sum = sum(expected.get(v, 0.0) for v in names) or 1.0
    chi2 = 0.0
    for v in names:
        e = total * expected.get(v, 0.0) / share_sum
        o = counts.get(v, 0)
        chi2 += (o - e) ** 2 / e if e > 0 else (float("inf") if o else 0.0)
    df = max(len(names) - 1, 1)
    p = float(stats.chi2.sf(chi2, df))
    return {"observed": {v: counts.get(v, 0) for v in names}, "expected_shares": {v: expected.get(v, 0.0) / share_sum for v in names},
            "chi2": chi2, "df": df, "p": p, "mismatch": p < SRM_ALPHA}


def _pick_control(variants: List[str], control: Optional[str]) -> str:
    if control:
        if control not in variants:
            raise SystemExit(f"ab-report: control {control!r} not among the variants {variants}")
        return control
    for name in ("control", "keyword"):
        if name in variants:
            return name
    return sorted(variants)[0]


def _table(group_users: List[_User], variants: List[str], control: str) -> dict:
    by_variant = {v: [u for u in group_users if u.variant == v] for v in variants}
    summ = {v: _summaries(us) for v, us in by_variant.items()}
    comparisons = {v: {m: _compare(m, summ[control][m], summ[v][m]) for m in METRICS}
                   for v in variants if v != control}
    return {"users": {v: len(us) for v, us in by_variant.items()}, "metrics": summ, "lift": comparisons}


def analyze(lines: Iterable[str], experiment: Optional[str] = None, control: Optional[str] = None,
            expected: Optional[Dict[str, float]] = None) -> dict:
    users, experiment, counts = load_users(lines, experiment)
    variants = sorted({u.variant for u in users.values()})
    control = _pick_control(variants, control)
    variants = [control] + [v for v in variants if v != control]
    allu = list(users.values())
    result = {"experiment": experiment, "control": control, "variants": variants, "counts": counts,
              "overall": _table(allu, variants, control), "segments": {}}
    for seg in sorted({u.user_type for u in allu}):
        result["segments"][seg] = _table([u for u in allu if u.user_type == seg], variants, control)
    exp_shares = expected or {v: 1.0 / len(variants) for v in variants}
    result["srm"] = srm_check(result["overall"]["users"], exp_shares)
    return result


# ---------------------------------------------------------------- output

def _pct(x: float, digits: int = 2) -> str:
    return "nan" if x != x else f"{100 * x:+.{digits}f}%"


def _fmt(metric: str, x: float) -> str:
    if x != x:
        return "nan"
    return f"{x:.2f}" if metric == "dwell" else f"{100 * x:.3f}%"


def summary_lines(result: dict, table: Optional[dict] = None) -> List[str]:
    table = table or result["overall"]
    control = result["control"]
    rows = [f"{'metric':<26} {'variant':<12} {'users':>8} {'value':>10} {'95% CI':>22} {'lift':>9} {'lift 95% CI':>22} {'p':>8}"]
    for m, label in METRICS.items():
        for v in result["variants"]:
            s = table["metrics"][v][m]
            ci = f"[{_fmt(m, s['ci'][0])}, {_fmt(m, s['ci'][1])}]"
            if v == control:
                lift = liftci = p = "control"
            else:
                c = table["lift"][v][m]
                lift, liftci, p = _pct(c["lift"]), f"[{_pct(c['ci'][0])}, {_pct(c['ci'][1])}]", f"{c['p']:.4f}"
            rows.append(f"{label:<26} {v:<12} {table['users'][v]:>8} {_fmt(m, s['value']):>10} {ci:>22} {lift:>9} {liftci:>22} {p:>8}")
    return rows


def _chart(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    variants = result["variants"]
    segs = ["all"] + list(result["segments"])
    tables = {"all": result["overall"], **result["segments"]}
    fig, axes = plt.subplots(1, len(METRICS) + 1, figsize=(4.2 * (len(METRICS) + 1), 4.2))
    width = 0.8 / len(variants)
    for ax, (m, label) in zip(axes, METRICS.items()):
        for j, v in enumerate(variants):
            xs, ys, lo, hi = [], [], [], []
            for i, seg in enumerate(segs):
                s = tables[seg]["metrics"][v][m]
                xs.append(i + (j - (len(variants) - 1) / 2) * width)
                ys.append(s["value"])
                lo.append(s["value"] - s["ci"][0])
                hi.append(s["ci"][1] - s["value"])
            ax.bar(xs, ys, width, yerr=[lo, hi], capsize=3, label=v)
        ax.set_xticks(range(len(segs)))
        ax.set_xticklabels(segs)
        ax.set_title(label, fontsize=10)
    ax = axes[-1]
    treat = [v for v in variants if v != result["control"]]
    labels, ys, lo, hi = [], [], [], []
    for v in treat:
        for m in METRICS:
            c = result["overall"]["lift"][v][m]
            labels.append(f"{m}\n{v}" if len(treat) > 1 else m)
            ys.append(100 * c["lift"])
            lo.append(100 * (c["lift"] - c["ci"][0]))
            hi.append(100 * (c["ci"][1] - c["lift"]))
    ax.errorbar(ys, range(len(ys)), xerr=[lo, hi], fmt="o", capsize=4)
    ax.axvline(0, color="grey", lw=1)
    ax.set_yticks(range(len(ys)))
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_title(f"relative lift vs {result['control']} (%), 95% CI", fontsize=10)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"experiment {result['experiment']}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _markdown(result: dict) -> str:
    srm = result["srm"]
    out = [f"# A/B report: {result['experiment']}", "",
           f"Control: `{result['control']}`. Users per variant: "
           + ", ".join(f"{v} {n}" for v, n in result["overall"]["users"].items()) + ".", "",
           f"**Sample-ratio check**: chi2 = {srm['chi2']:.2f} (df {srm['df']}), p = {srm['p']:.3g} → "
           + ("**MISMATCH: do not trust the results until the assignment/logging is fixed**" if srm["mismatch"]
              else "no mismatch (threshold p < 0.001)"), "",
           "## All users", "", "```", *summary_lines(result), "```", ""]
    for seg, table in result["segments"].items():
        out += [f"## {seg} users", "", "```", *summary_lines(result, table), "```", ""]
    out += ["## Method", "",
            "CTR: clicks/impressions with a delta-method interval over users (user-clustered); first-day "
            "click-through and next-day retention: Wilson intervals, two-proportion z-tests; mean dwell: mean over "
            "users of their mean session dwell, t interval, Welch test. Lift = variant/control - 1, interval by the "
            "delta method on the log ratio. No correction for multiple metrics or segments: treat CTR as the "
            "primary metric and the rest as guardrails/secondary.", "",
            f"Input: {json.dumps(result['counts'])}", "", "![chart](report.png)", ""]
    return "\n".join(out)


def _jsonable(x):
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items() if not k.startswith("_")}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, float) and x != x:
        return None
    return x


def run(args: argparse.Namespace) -> int:
    expected = None
    if args.expected:
        try:
            expected = {str(k): float(v) for k, v in json.loads(args.expected).items()}
        except (ValueError, AttributeError):
            raise SystemExit('ab-report: --expected must be JSON like {"keyword": 0.5, "semantic": 0.5}') from None
    result = analyze(_read_lines(args.events), args.experiment, args.control, expected)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    _chart(result, out / "report.png")
    (out / "report.md").write_text(_markdown(result), encoding="utf-8")
    (out / "report.json").write_text(json.dumps(_jsonable(result), indent=1, ensure_ascii=False), encoding="utf-8")
    srm = result["srm"]
    print(f"experiment {result['experiment']}: control {result['control']}, users "
          + ", ".join(f"{v}={n}" for v, n in result["overall"]["users"].items()))
    print("\n".join(summary_lines(result)))
    for seg, table in result["segments"].items():
        print(f"-- {seg} users")
        print("\n".join(summary_lines(result, table)[1:]))
    print(f"SRM: chi2={srm['chi2']:.2f} p={srm['p']:.3g} {'MISMATCH' if srm['mismatch'] else 'ok'}")
    for v in result["variants"][1:]:
        c = result["overall"]["lift"][v]["ctr"]
        print(f"ab-report: variant={v} ctr_lift={c['lift']:.4f} ci=[{c['ci'][0]:.4f},{c['ci'][1]:.4f}] "
              f"p={c['p']:.3g} srm_p={srm['p']:.3g} chart={out / 'report.png'} report={out / 'report.md'}")
    return 0
