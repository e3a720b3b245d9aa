"""Simulate an A/B test's events (JSONL) for a population, with a planted true lift, so that
``ab-report`` can be checked against a known answer.

Per user (``user_key`` = the keyed handle of a synthetic user id, computed by the serving function
``coldstart.experiments.user_key`` under a fixed simulation key: the ids are made up, so the key
protects nothing here):
  - ``exposure``: the variant from coldstart.experiments.assign (the serving function) and the
    control (the first listed variant), as the serving exposure log writes them; its
    time uniform over the --days enrolment window, and ``user_type`` cold (new, profiled from
    the sign-up text; share --cold-share) or warm (has history);
  - ``session`` events on day 0 (1 + Poisson(0.5)) with ``impressions`` (1 + Poisson(6)) and
    ``dwell_s`` (lognormal, median --dwell-median s, sigma 0.9);
  - ``click`` events: each impression clicked with the user's own CTR, drawn from a Beta with
    mean base CTR (--base-ctr for cold users, 1.25x for warm) x (1 + lift) in non-control
    variants, concentration 30 (users differ; clicks of one user are correlated);
  - ``return`` on the next day with probability 0.35 (cold) / 0.55 (warm), x (1 + --retention-lift)
    in treatment, followed by that day's sessions and clicks.
``--aa`` plants no lift at all (an A/A test). Deterministic for a given --seed.
The first variant of --experiment is the control; the lift goes to every other variant.
"""
from __future__ import annotations

import argparse
import json
import sys

DEFAULT_EXPERIMENT = '{"name": "semantic-vs-keyword", "variants": {"keyword": 0.5, "semantic": 0.5}}'
START_TS = 1764547200  # 2025-12-01T00:00:00Z
DAY = 86400
WARM_CTR_FACTOR = 1.25
RETENTION = {"cold": 0.35, "warm": 0.55}
CONCENTRATION = 30.0


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--users", type=int, default=100000, help="simulated users (each exposed once)")
    p.add_argument("--lift", type=float, default=0.05, help="true relative CTR lift of the treatment variant(s)")
    p.add_argument("--retention-lift", type=float, default=0.0, help="true relative next-day retention lift")
    p.add_argument("--dwell-lift", type=float, default=0.0, help="true relative dwell-time lift")
    p.add_argument("--aa", action="store_true", help="A/A test: no lift of any kind")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same events)")
    p.add_argument("--experiment", default=DEFAULT_EXPERIMENT, help="experiment JSON, as COLDSTART_EXPERIMENT")
    p.add_argument("--base-ctr", type=float, default=0.08, help="control CTR per impression (cold users)")
    p.add_argument("--cold-share", type=float, default=0.6, help="share of cold (new) users; the rest are warm")
    p.add_argument("--dwell-median", type=float, default=45.0, help="median session dwell time, seconds")
    p.add_argument("--days", type=int, default=7, help="enrolment window, days")
    p.add_argument("--out", default="-", help="JSONL file, or - for stdout")


def simulate(users: int, lift: float = 0.05, seed: int = 0, experiment: str = DEFAULT_EXPERIMENT,
             aa: bool = False, retention_lift: float = 0.0, dwell_lift: float = 0.0, base_ctr: float = 0.08,
             cold_share: float = 0.6, dwell_median: float = 45.0, days: int = 7):
    """Yield event JSON lines."""
    import numpy as np

    from coldstart.errors import ConfigError
    from coldstart.experiments import Experiment, assign, user_key
    from coldstart.pseudonyms import Pseudonymizer

    exp = Experiment.parse(experiment)
    if exp is None:
        raise ConfigError("simulate-events: --experiment is empty; pass an experiment JSON as COLDSTART_EXPERIMENT takes")
    if aa:
        lift = retention_lift = dwell_lift = 0.0
    rng = np.random.default_rng(seed)
    ids = [f"sim{seed}-{i:08d}" for i in range(users)]
    simulation_key = Pseudonymizer([b"coldstart-simulated-users-not-a-secret"])
    keys = [user_key(u, simulation_key) for u in ids]
    variants = [assign(exp, u) for u in ids]
    treated = np.array([v != exp.control for v in variants])
    cold = rng.random(users) < cold_share
    t0 = START_TS + rng.integers(0, days * DAY, users)
    mean_ctr = np.where(cold, base_ctr, base_ctr * WARM_CTR_FACTOR) * np.where(treated, 1.0 + lift, 1.0)
    mean_ctr = np.clip(mean_ctr, 1e-6, 0.999)
    ctr = rng.beta(mean_ctr * CONCENTRATION, (1.0 - mean_ctr) * CONCENTRATION)
    p_ret = np.where(cold, RETENTION["cold"], RETENTION["warm"]) * np.where(treated, 1.0 + retention_lift, 1.0)
    returned = rng.random(users) < np.clip(p_ret, 0.0, 1.0)
    mu = np.log(dwell_median) + np.log1p(np.where(treated, dwell_lift, 0.0))

    n0 = 1 + rng.poisson(0.5, users)
    n1 = np.where(returned, 1 + rng.poisson(0.5, users), 0)
    back = rng.integers(0, DAY // 2, users)  # next-day return time after t0 + 1 day
    # every session at once: owner, day, impressions, dwell, clicks
    owner = np.concatenate([np.repeat(np.arange(users), n0), np.repeat(np.arange(users), n1)])
    day = np.concatenate([np.zeros(int(n0.sum()), dtype=int), np.ones(int(n1.sum()), dtype=int)])
    order = np.lexsort((day, owner))  # stable: by user, then day
    owner, day = owner[order], day[order]
    imps = 1 + rng.poisson(6, len(owner))
    dwell = np.round(rng.lognormal(mu[owner], 0.9), 1)
    clicks = rng.binomial(imps, ctr[owner])
    owner_l, day_l, imps_l, dwell_l, clicks_l = (a.tolist() for a in (owner, day, imps, dwell, clicks))
    t0_l, back_l = t0.tolist(), back.tolist()
    name = json.dumps(exp.name)
    control = json.dumps(exp.control)
    s = 0
    n_sessions = len(owner_l)
    for i in range(users):
        k = keys[i]
        yield (f'{{"event":"exposure","experiment":{name},"variant":{json.dumps(variants[i])},"control":{control},'
               f'"user_key":"{k}","ts":{t0_l[i]},"user_type":"{"cold" if cold[i] else "warm"}"}}')
        current_day = -1
        ts = 0
        while s < n_sessions and owner_l[s] == i:
            if day_l[s] != current_day:
                current_day = day_l[s]
                if current_day == 0:
                    ts = t0_l[i] + 5
                else:
                    ts = t0_l[i] + DAY + back_l[i]
                    yield f'{{"event":"return","user_key":"{k}","ts":{ts}}}'
            yield f'{{"event":"session","user_key":"{k}","ts":{ts},"impressions":{imps_l[s]},"dwell_s":{dwell_l[s]}}}'
            for c in range(clicks_l[s]):
                yield f'{{"event":"click","user_key":"{k}","ts":{ts + 1 + c}}}'
            ts += int(dwell_l[s]) + 600
            s += 1


def run(args: argparse.Namespace) -> int:
    from coldstart.errors import ConfigError
    from infra.progress import summary

    if args.users < 1:
        raise ConfigError("simulate-events: --users must be at least 1")
    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")
    n = 0
    try:
        buf = []
        for line in simulate(args.users, args.lift, args.seed, args.experiment, args.aa, args.retention_lift,
                             args.dwell_lift, args.base_ctr, args.cold_share, args.dwell_median, args.days):
            buf.append(line)
            if len(buf) >= 10000:
                out.write("\n".join(buf) + "\n")
                n += len(buf)
                buf = []
        if buf:
            out.write("\n".join(buf) + "\n")
            n += len(buf)
        out.flush()
    finally:
        if out is not sys.stdout:
            out.close()
    if args.out != "-":
        summary("simulate-events", users=args.users, events=n, lift=0.0 if args.aa else args.lift, out=args.out)
    return 0
