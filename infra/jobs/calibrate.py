"""Fit the confidence calibrator (coldstart.calibration) on a calibration split and write it into
the index directory as ``calibration.json``; ``publish`` ships it as ``index/calibration.json`` and
the serving core (Lambda and kiosk) applies it to every vote.

Each calibration text goes through the serving path (masking, the INT8 student, Annoy, the vote)
against the index and model being released, so the features are exactly those served. Label:
1 when the vote's top tag is one of the text's tags, 0 otherwise (always 0 for ``tags: []``).
Texts with no letters (no vote runs) are left out. The abstention threshold is the highest one
under which at most --max-in-interest-abstention of the in-interest texts abstain *in all*, measured on
out-of-fold confidences (five folds: each text scored by a calibrator fitted without it), or on
--threshold-data texts scored by the fitted calibrator, unless --threshold fixes it. "In all": texts
that abstain anyway, because the no-signal detector stops them (below) or their neighbours' own verdict
is "no interest" where that is a veto (coldstart.voting.states_no_interest), are counted first; the
threshold spends what is left. (Until session 9 the neighbours' verdict was not counted: on the demo it
stopped ~3% of the natural in-interest texts on top of the budget.)

First the fusion weight (``keyword_weight``, coldstart.calibration): the served ranking mixes the
neighbours' vote shares with the text's keyword shares; the weight of the grid with the best top-1
on the in-interest calibration texts is kept (--keyword-weight fixes it, 0 turns fusion off). The
features and labels are then those of the fused ranking, as served.

With --signal-data the job also fits the "no signal" detector (coldstart.interest_signal: character
n-grams, logistic) on those labelled texts (tags [] = the text states no interest) and stores it in the
same file. Its threshold stops at most --max-signal-abstention of the in-interest *calibration* texts
(--data) as "no signal"; the confidence threshold is then chosen on the threshold texts with the ones the
detector stops already counted as abstaining, so on those texts the two together stay within
--max-in-interest-abstention. With a detector the neighbours' own verdict is no longer a veto (it still
lowers the confidence) unless --neighbours-veto keeps it (session 10: on the natural dev sets the
detector alone abstains less on in-interest texts and more on no-interest ones; README "Quality").
In-interest texts that leave no calibrated row (no letters, nothing names a tag) abstain whatever the
thresholds and count in the budget first (since session 10).

The file records what it was fitted on (sha256 of the index and model manifests, the keyword
table and the data), so the pipeline refits it whenever any of them changes.
"""
from __future__ import annotations

import argparse
import time

from infra.jobs.evaluate import read_labelled, rows_sha256
from pathlib import Path

from infra.progress import bar, summary


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index", required=True, help="index directory (the calibrator is written into it)")
    p.add_argument("--model", required=True, help="model directory from export")
    p.add_argument("--data", action="append", required=True,
                   help="calibration JSONL file or directory ({\"text\", \"tags\"}; tags [] = no interest); repeatable")
    p.add_argument("--out", help="where to write calibration.json (default: INDEX/calibration.json)")
    p.add_argument("--k", type=int, default=10, help="neighbours voted (as served)")
    p.add_argument("--l2", type=float, default=1.0, help="L2 penalty on the standardised feature weights")
    p.add_argument("--max-in-interest-abstention", type=float, default=0.05,
                   help="the threshold abstains on at most this share of in-interest calibration texts")
    p.add_argument("--threshold", type=float, help="fixed abstention threshold instead of the chosen one")
    p.add_argument("--threshold-data", action="append", default=[],
                   help="choose the threshold on these labelled texts instead (scored by the fitted calibrator; "
                        "repeatable), e.g. text the encoder knows less well than the --data texts")
    p.add_argument("--keyword-weight", type=float,
                   help="fixed weight of the text's keywords in the served ranking, in [0, 1) (default: chosen "
                        "on the calibration texts; 0 = the neighbours' vote alone)")
    p.add_argument("--signal-data", action="append", default=[],
                   help="labelled JSONL (tags [] = states no interest) to fit the no-signal detector on; repeatable "
                        "(default: none, no detector)")
    p.add_argument("--max-signal-abstention", type=float, default=0.02,
                   help="the detector's threshold stops at most this share of the in-interest calibration texts (--data)")
    p.add_argument("--signal-min-df", type=int, default=5,
                   help="keep n-grams found in at least this many signal texts (privacy and noise floor)")
    p.add_argument("--signal-c", type=float, default=3.0, help="inverse L2 strength of the detector's logistic fit")
    p.add_argument("--neighbours-veto", action="store_true",
                   help="with a detector, keep the neighbours' own \"no interest\" verdict as a second veto (before "
                        "session 10; without a detector it always stays)")
    p.add_argument("--force", action="store_true", help="refit even when the calibrator is up to date")


def inputs_sha256(fingerprint: dict, data_sha: str, args) -> str:
    import hashlib
    import json

    settings = {"k": args.k, "l2": args.l2, "max_in": args.max_in_interest_abstention, "threshold": args.threshold,
                "threshold_data": [rows_sha256(read_labelled([p])) for p in getattr(args, "threshold_data", [])],
                "keyword_weight": getattr(args, "keyword_weight", None), "procedure": 6,  # bumped when fitting changes
                "signal": [[rows_sha256(read_labelled([p])) for p in getattr(args, "signal_data", [])],
                           getattr(args, "max_signal_abstention", None), getattr(args, "signal_min_df", None),
                           getattr(args, "signal_c", None), getattr(args, "neighbours_veto", False)]}
    keep = {k: fingerprint[k] for k in ("index_manifest", "model_manifest", "keywords")}  # not the calibrator itself
    return hashlib.sha256(json.dumps([keep, data_sha, settings], sort_keys=True).encode("utf-8")).hexdigest()


def run(args: argparse.Namespace) -> int:
    from coldstart.calibration import (CALIBRATION_FILE, FEATURES, choose_keyword_weight, choose_threshold,
                                       fit_calibrator, out_of_fold_confidences)
    from coldstart.errors import InputError
    from coldstart.manifest import utc_now
    from infra.jobs.evaluate import open_service, reliability

    started = time.time()
    if not 0.0 <= args.max_in_interest_abstention < 1.0:
        raise InputError("--max-in-interest-abstention must be in [0, 1)")
    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        raise InputError("--threshold must be in [0, 1]")
    if args.keyword_weight is not None and not 0.0 <= args.keyword_weight < 1.0:
        raise InputError("--keyword-weight must be in [0, 1)")
    if not 0.0 <= args.max_signal_abstention <= args.max_in_interest_abstention:
        raise InputError("--max-signal-abstention must be in [0, --max-in-interest-abstention]")
    if args.signal_min_df < 1 or not args.signal_c > 0:
        raise InputError("--signal-min-df must be >= 1 and --signal-c > 0")
    rows = read_labelled(args.data)
    out = Path(args.out) if args.out else Path(args.index) / CALIBRATION_FILE
    if not args.force and _is_fresh(out, args, rows):
        print(f"calibrate: up to date ({out})", flush=True)
        return 0
    threshold_rows = read_labelled(args.threshold_data) if args.threshold_data else []
    signal = fit_signal(args.signal_data, args.signal_min_df, args.signal_c) if args.signal_data else None
    with open_service(index=args.index, model=args.model, k=args.k, without_calibration=True) as (service, root):
        from infra.jobs.evaluate import release_fingerprint

        fingerprint = release_fingerprint(root)
        votes, evidences, vote_features, row_tags, in_interest = _vote_rows(service, rows, "calibrate", signal)
        threshold_votes = _vote_rows(service, threshold_rows, "calibrate: threshold data", signal) \
            if threshold_rows else None
    if len(votes) < 20:
        raise InputError(f"only {len(votes)} calibration texts produced a vote; need at least 20")
    if args.keyword_weight is not None:
        keyword_weight, by_weight = args.keyword_weight, {}
    else:
        keyword_weight, by_weight = choose_keyword_weight(votes, [e.keyword_scores for e in evidences], row_tags)
    features, labels, in_interest, odds, top_votes = _features(votes, evidences, vote_features, row_tags,
                                                               in_interest, keyword_weight)
    data_sha = rows_sha256(rows)
    info = {"created_at": utc_now(), "rows": len(features), "right": sum(labels),
            "in_interest": sum(in_interest), "no_interest": len(in_interest) - sum(in_interest),
            "data": list(args.data), "data_sha256": data_sha, "k": args.k, "l2": args.l2,
            "max_in_interest_abstention": args.max_in_interest_abstention,
            "keyword_weight_top1": {str(w): round(a, 4) for w, a in by_weight.items()},
            "fitted_for": {k: fingerprint[k] for k in ("index_manifest", "model_manifest", "keywords")},
            "inputs_sha256": inputs_sha256(fingerprint, data_sha, args)}
    on_threshold_data = args.threshold is None and threshold_votes is not None
    model = fit_calibrator(features, labels, in_interest, FEATURES, l2=args.l2, threshold=0.0, info=info,
                           keyword_weight=keyword_weight)
    model.signal = signal
    model.neighbours_veto = signal is None or args.neighbours_veto
    if signal is not None:
        # on the calibration texts, not the threshold texts: the detector learnt from the population's own
        # phrasing, which generated threshold texts share (session 9, an earlier teacher, a throwaway script
        # not in the repository, so indicative only: a 2% share chosen on data/calibration.jsonl stopped 10.5%
        # of the natural dev set's in-interest texts)
        signal.threshold = choose_threshold(odds, in_interest, args.max_signal_abstention)  # all read: a detector
    if args.threshold is not None:
        model.threshold = args.threshold
    else:
        if on_threshold_data:
            t_features, _, t_in, t_odds, t_top = _features(*threshold_votes, keyword_weight)
            t_unranked = _unranked(threshold_rows, t_in)
            t_conf = model.confidences(t_features)
            model.info["threshold_data"] = list(args.threshold_data)
        else:
            t_features, t_in, t_odds, t_top = features, in_interest, odds, top_votes
            t_unranked = _unranked(rows, in_interest)
            try:
                t_conf = out_of_fold_confidences(features, labels, FEATURES, args.l2)
            except ValueError:  # a fold with one label only (tiny data): the in-sample confidences
                t_conf = model.confidences(features)
        # texts stopped as "no signal" (the detector; the neighbours' own verdict when it is a veto) abstain
        # whatever the confidence, and so do in-interest texts left without a calibrated row (no letters,
        # nothing names a tag): both are counted first, and the confidence threshold spends what is left
        t_conf = [-1.0 if s else c for c, s in zip(t_conf, _stopped(model, t_features, t_top, t_odds))]
        model.threshold = choose_threshold(t_conf, t_in, args.max_in_interest_abstention, t_unranked)
    conf = model.confidences(features)
    fit_ece = reliability(conf, [bool(y) for y in labels])["ece"]
    stopped = _stopped(model, features, top_votes, odds)
    ins = [c if not s else -1.0 for c, i, s in zip(conf, in_interest, stopped) if i]
    nos = [c if not s else -1.0 for c, i, s in zip(conf, in_interest, stopped) if not i]
    # in-sample: the rates on the calibration texts the model was fitted on (a sanity figure, not a measurement;
    # `evaluate` measures held-out sets)
    model.info["fit"] = {"ece": fit_ece,
                         "abstain_in": round(sum(c < model.threshold for c in ins) / len(ins), 4) if ins else None,
                         "abstain_no": round(sum(c < model.threshold for c in nos) / len(nos), 4) if nos else None}
    if signal is not None:
        model.info["fit"]["signal_threshold"] = round(signal.threshold, 4)
    model.save(out)
    summary("calibrate", rows=len(features), right=sum(labels), no_interest=info["no_interest"],
            threshold=f"{model.threshold:.4f}",
            signal_threshold=f"{signal.threshold:.3f}" if signal is not None else "none",
            neighbours_veto=model.neighbours_veto,
            keyword_weight=keyword_weight, fit_ece=fit_ece, abstain_in=model.info["fit"]["abstain_in"],
            abstain_no=model.info["fit"]["abstain_no"], out=str(out), seconds=f"{time.time() - started:.1f}")
    weights = ", ".join(f"{f} {w:+.2f}" for f, w in zip(model.features, model.weights))
    print(f"calibrate: weights (standardised) {weights}; bias {model.bias:+.2f}", flush=True)
    return 0


def _stopped(model, features, top_votes, odds):
    """Per row: is it stopped as "no signal" before any confidence threshold? The vote's own rule
    (coldstart.voting.states_no_interest); every calibrated row names a tag."""
    from coldstart.voting import states_no_interest

    return [states_no_interest(model, f["no_interest_share"], t, o) for f, t, o in zip(features, top_votes, odds)]


def _unranked(rows, kept_in_interest) -> int:
    """In-interest texts of ``rows`` that left no calibrated row."""
    return sum(r.in_interest for r in rows) - sum(kept_in_interest)


def fit_signal(paths, min_df: int, c: float):
    """The no-signal detector fitted on the masked texts of labelled JSONL files (coldstart.interest_signal)."""
    from coldstart.errors import InputError
    from coldstart.interest_signal import fit_interest_signal
    from coldstart.preprocess import mask_input

    rows = read_labelled(paths)
    texts = []
    with bar(len(rows), "calibrate: masking the signal texts", unit="text") as progress:
        for row in rows:
            texts.append(mask_input(row.text, None).composed)
            progress.update(1)
    try:
        return fit_interest_signal(texts, [r.in_interest for r in rows], min_df=min_df, c=c,
                                   info={"data": list(paths), "data_sha256": rows_sha256(rows)})
    except ValueError as exc:
        raise InputError(f"--signal-data: {exc}") from None


def _vote_rows(service, rows, desc: str, signal=None):
    """(vote shares, text evidence, vote features, tags, in_interest) of the rows that produced a vote,
    each through the serving path (masking, student, index, vote). The evidence is the one the service read
    for the vote, plus the reading of the detector being fitted (the service runs without a calibrator)."""
    from coldstart.preprocess import mask_input

    votes, evidences, vote_features, row_tags, in_interest = [], [], [], [], []
    with bar(len(rows), desc, unit="text") as progress:
        for row in rows:
            masked = mask_input(row.text, None, service.settings.max_text_chars).composed
            result = service.profile_text(masked, use_cache=False)
            progress.update(1)
            profile, evidence = result.profile, result.evidence
            if profile.features is None or evidence is None:
                continue  # no vote ran
            if signal is not None:
                evidence = evidence._replace(interest_log_odds=signal.log_odds(masked))
            shares = vote_to_calibrate(profile, evidence)
            if shares is None:
                continue
            votes.append(shares)
            evidences.append(evidence)
            vote_features.append(profile.features)
            row_tags.append(row.tags)
            in_interest.append(row.in_interest)
    return votes, evidences, vote_features, row_tags, in_interest


def _features(votes, evidences, vote_features, row_tags, in_interest, keyword_weight: float):
    """(feature rows, labels, in_interest, the detector's log-odds, the neighbours' top vote share) of the fused
    ranking at ``keyword_weight``; rows that weight leaves without a ranking (no votes, keywords at weight 0)
    are not calibrated. Without a detector the log-odds are None; without a neighbour naming a tag the top
    vote share is None."""
    from coldstart.calibration import feature_row, fuse_scores

    features, labels, kept_in, odds, top_votes = [], [], [], [], []
    for vote_shares, evidence, f, tags, inside in zip(votes, evidences, vote_features, row_tags, in_interest):
        ranking = fuse_scores(vote_shares, evidence.keyword_scores, keyword_weight)
        if not ranking:
            continue
        top = ranking[0][0]
        features.append(feature_row(ranking[0][1], ranking[1][1] if len(ranking) > 1 else 0.0,
                                    f["no_interest_share"], f["top_similarity"], f["mean_similarity"], top, evidence))
        labels.append(int(top in tags))
        kept_in.append(inside)
        odds.append(evidence.interest_log_odds)
        top_votes.append(vote_shares[0][1] if vote_shares else None)
    return features, labels, kept_in, odds, top_votes


def vote_to_calibrate(profile, evidence):
    """The neighbours' vote shares [(tag, share)] of a calibration text, or None when there is nothing to
    rank: no vote ran (no letters, no neighbours), or neither the neighbours nor the text's keywords name a
    tag. Read from the vote and the text only, never from the ranking of a calibrator already in the index
    (which fuses with its own weight): a refit must not depend on the fit before it."""
    if profile.features is None:
        return None
    if not profile.vote_shares and not evidence.keyword_scores:
        return None
    return [(t.tag, t.score) for t in profile.vote_shares]


def _is_fresh(out: Path, args, rows) -> bool:
    """True when ``out`` was fitted on exactly this index, model, keyword table, data and settings."""
    from coldstart.calibration import Calibrator
    from infra.jobs.evaluate import fingerprint_of, rows_sha256

    if not out.is_file():
        return False
    try:
        fitted = Calibrator.load(out).info.get("inputs_sha256")
    except ValueError:
        return False
    return fitted == inputs_sha256(fingerprint_of(args.index, args.model), rows_sha256(rows), args)
