#!/usr/bin/env python3
"""PII masking measured: coldstart's masker next to Microsoft Presidio on the same labelled corpus.

    .venv/bin/python bench/pii.py                    # 6,000 strings, seed 20261127, both engines
    .venv/bin/python bench/pii.py --no-presidio      # coldstart only (no presidio/spacy installed)
    .venv/bin/python bench/pii.py --errors 20        # also print up to 20 misses/false alarms per engine
    .venv/bin/python bench/pii.py --markdown out.md  # write the tables as Markdown too

Corpus: ``data/pii_corpus.py`` (deterministic; labelled spans and near-misses, see its docstring).

Scoring (span level)
    Every gold span has a type (PHONE, LANDLINE, ID_CARD, BANK_CARD, EMAIL, QQ, WECHAT) and maybe
    alternative types that are equally right (a WeChat id that is a mobile number may be called PHONE).
    Each engine's predictions are mapped to *sets* of our types (below). A prediction matches a gold
    span when the type sets intersect and
      * exact:   the boundaries are identical (character offsets in the NFKC-normalised text), or
      * overlap: the spans share at least one character.
    Matching is one-to-one (a prediction counts for at most one gold span, greedily in text order).
    Recall of type T = matched gold spans of type T / gold spans of type T.
    Precision of type T = matched predictions credited to T / predictions credited to T, where a
    matched prediction is credited to the gold span's type and an unmatched one to the first type of
    its set. Predictions of entity types we cannot map (Presidio's US_BANK_NUMBER, URL, DATE_TIME ...)
    are left out of the typed rows and shown separately, and are counted in the untyped ``ANY`` row
    (any prediction overlapping any gold span, whatever the types).
    Near-misses (order/tracking numbers, dates, amounts, invalid-checksum look-alikes) carry no
    gold span: a prediction on them is a false positive; the near-miss table counts, per kind, how
    many each engine touched (any prediction overlapping it, any entity type).

Mapping
    coldstart: ``mask_pii`` returns the masked text; spans are recovered by aligning it with the
    NFKC-normalised input (literal text between placeholders must match exactly).
    [PHONE] -> {PHONE, LANDLINE} (ordered by the masker's own count for that span alone),
    [ID] -> ID_CARD, [BANK_CARD] -> BANK_CARD, [EMAIL] -> EMAIL, [QQ] -> QQ, [WECHAT] -> WECHAT.
    Presidio: PHONE_NUMBER -> {PHONE, LANDLINE}, EMAIL_ADDRESS -> EMAIL, CREDIT_CARD -> BANK_CARD.
    It has no recognizer for mainland IDs, QQ or WeChat ids.

Presidio set-up (no model hub here)
    ``AnalyzerEngine`` with its default recognizer registry (all predefined recognizers for "en",
    default score threshold 0, i.e. every result counts) and a spaCy NLP engine built by
    ``NlpEngineProvider`` from a *blank* English pipeline (``spacy.blank("en")`` saved to a temporary
    folder: a tokenizer only, no NER, no lemmas, no vectors). The trained ``en_core_web_lg`` that
    Presidio downloads by default comes from GitHub, which is unreachable here. What that changes: the
    spaCy-NER recognizer (PERSON, LOCATION, NRP, DATE_TIME ...) finds nothing, and the context
    enhancer, which compares lemmas with context words ("phone", "card" ...), has no lemmas; the
    pattern, checksum and ``phonenumbers``-based recognizers, which are the ones relevant to these
    types, run unchanged. The text is analysed as language "en" (Presidio's defaults have no "zh").
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import re
import sys
import tempfile
import time
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layer"))

TYPES = ("PHONE", "LANDLINE", "ID_CARD", "BANK_CARD", "EMAIL", "QQ", "WECHAT")

# (start, end, types in preference order, engine label)
Pred = Tuple[int, int, Tuple[str, ...], str]


def load_corpus_module():
    spec = importlib.util.spec_from_file_location("pii_corpus", ROOT / "data" / "pii_corpus.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("pii_corpus", mod)
    spec.loader.exec_module(mod)
    return mod


# ------------------------------------------------------------------ coldstart

_PLACEHOLDER_TYPES = {
    "[PHONE]": ("PHONE", "LANDLINE"),
    "[ID]": ("ID_CARD",),
    "[BANK_CARD]": ("BANK_CARD",),
    "[EMAIL]": ("EMAIL",),
    "[QQ]": ("QQ",),
    "[WECHAT]": ("WECHAT",),
}
_PLACEHOLDER_RE = re.compile("|".join(re.escape(p) for p in _PLACEHOLDER_TYPES))


def align_masked(original: str, masked: str, check: Optional[Callable[[str, str], bool]] = None
                 ) -> List[Tuple[int, int, str]]:
    """Spans of ``original`` that became placeholders in ``masked`` (the same text otherwise).

    The literal text between placeholders must match exactly. When a placeholder could end at several
    places (e.g. ``"[PHONE] [ID]"`` against ``"185 4652 1225 23334320100611685X"``: the space is also
    inside the phone number), the first end for which ``check(span, placeholder)`` holds is taken, else
    the shortest.
    """
    parts = _PLACEHOLDER_RE.split(masked)
    holders = _PLACEHOLDER_RE.findall(masked)
    if not original.startswith(parts[0]):
        raise ValueError("cannot align masked text with its input")
    if not holders:
        if masked != original:
            raise ValueError("masked text differs from the input but has no placeholder")
        return []

    def solve(i: int, start: int) -> Optional[List[Tuple[int, int, str]]]:
        if i == len(holders):
            return [] if start == len(original) else None
        lit = parts[i + 1]
        ends = []
        for end in range(start + 1, len(original) + 1):
            if original.startswith(lit, end) and (i + 1 < len(holders) or end + len(lit) == len(original)):
                ends.append(end)
        preferred = [e for e in ends if check and check(original[start:e], holders[i])]
        for end in preferred + [e for e in ends if e not in preferred]:
            rest = solve(i + 1, end + len(lit))
            if rest is not None:
                return [(start, end, holders[i])] + rest
        return None

    spans = solve(0, len(parts[0]))
    if spans is None:
        raise ValueError("cannot align masked text with its input")
    return spans


def coldstart_predictor() -> Callable[[str], List[Pred]]:
    from coldstart.pii import mask_pii

    def check(span: str, holder: str) -> bool:  # the span on its own masks to exactly this placeholder
        return mask_pii(span).text == holder

    def predict(text: str) -> List[Pred]:
        norm = unicodedata.normalize("NFKC", text)
        result = mask_pii(text)
        out = []
        for start, end, holder in align_masked(norm, result.text, check):
            types = _PLACEHOLDER_TYPES[holder]
            if holder == "[PHONE]" and mask_pii(norm[start:end]).counts.get("LANDLINE"):
                types = ("LANDLINE", "PHONE")
            out.append((start, end, types, holder))
        return out

    return predict


# ------------------------------------------------------------------ Presidio

PRESIDIO_MAP = {
    "PHONE_NUMBER": ("PHONE", "LANDLINE"),
    "EMAIL_ADDRESS": ("EMAIL",),
    "CREDIT_CARD": ("BANK_CARD",),
}


def presidio_analyzer():
    """Presidio's AnalyzerEngine with its default recognizers on a blank spaCy English pipeline."""
    import logging

    import spacy
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="presidio-blank-en-") as tmp:
        model_dir = Path(tmp) / "blank_en"
        spacy.blank("en").to_disk(model_dir)  # an existing path: NlpEngineProvider loads it, no download
        provider = NlpEngineProvider(nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": str(model_dir)}],
        })
        engine = provider.create_engine()
        if not engine.is_loaded():
            engine.load()
        return AnalyzerEngine(nlp_engine=engine, supported_languages=["en"])


def presidio_predictor(analyzer=None) -> Callable[[str], List[Pred]]:
    analyzer = analyzer or presidio_analyzer()

    def predict(text: str) -> List[Pred]:
        norm = unicodedata.normalize("NFKC", text)  # same text coldstart sees (full-width digits -> ASCII)
        out = []
        for r in analyzer.analyze(norm, language="en"):
            out.append((r.start, r.end, PRESIDIO_MAP.get(r.entity_type, ()), r.entity_type))
        return out

    return predict


def presidio_versions() -> str:
    from importlib.metadata import version
    names = ("presidio-analyzer", "spacy", "phonenumbers")
    return ", ".join(f"{n} {version(n)}" for n in names)


# ------------------------------------------------------------------ scoring

def _overlaps(a0: int, a1: int, b0: int, b1: int) -> bool:
    return a0 < b1 and b0 < a1


def _match(golds: Sequence[dict], preds: Sequence[Pred], exact: bool) -> Dict[int, int]:
    """gold index -> prediction index, one-to-one, greedy in gold order."""
    used = set()
    out = {}
    for gi, g in enumerate(golds):
        gtypes = {g["type"], *g.get("also", ())}
        for pi, (s, e, types, _label) in enumerate(preds):
            if pi in used or not gtypes.intersection(types):
                continue
            if (s == g["start"] and e == g["end"]) if exact else _overlaps(s, e, g["start"], g["end"]):
                used.add(pi)
                out[gi] = pi
                break
    return out


class Score:
    def __init__(self) -> None:
        self.gold = Counter()
        self.tp = {"exact": Counter(), "overlap": Counter()}        # by gold type
        self.fp = {"exact": Counter(), "overlap": Counter()}        # by predicted type
        self.any_gold_hit = 0
        self.any_pred = 0
        self.any_pred_hit = 0
        self.unmapped = Counter()                                   # label -> predictions
        self.unmapped_on = defaultdict(Counter)                     # label -> {gold type / near-miss / other}
        self.near = Counter()
        self.near_hit = Counter()
        self.near_chance = Counter()
        self.near_chance_hit = Counter()
        self.near_labels = defaultdict(Counter)                     # near-miss kind -> labels that hit it
        self.fmt_gold = Counter()
        self.fmt_hit = Counter()                                    # (type, format) exact matches
        self.misses: List[Tuple[str, str, dict]] = []               # (id, text, gold) not matched (overlap)
        self.false_alarms: List[Tuple[str, str, Pred]] = []         # (id, text, prediction) matching nothing
        self.boundary: List[Tuple[str, str, dict, Pred]] = []      # found, but not with the gold boundaries
        self.seconds = 0.0
        self.strings = 0

    def add(self, rec: dict, preds: List[Pred]) -> None:
        golds = rec["spans"]
        self.strings += 1
        typed = [p for p in preds if p[2]]
        for mode, exact in (("exact", True), ("overlap", False)):
            m = _match(golds, typed, exact)
            for gi, g in enumerate(golds):
                if gi in m:
                    self.tp[mode][g["type"]] += 1
            matched = set(m.values())
            for pi, p in enumerate(typed):
                if pi not in matched:
                    self.fp[mode][p[2][0]] += 1
            if exact:
                for gi, g in enumerate(golds):
                    self.fmt_hit[(g["type"], g["format"])] += gi in m
                    if gi not in m:
                        near = [p for p in typed if _overlaps(p[0], p[1], g["start"], g["end"])]
                        if near:
                            self.boundary.append((rec["id"], rec["text"], g, near[0]))
            else:
                for gi, g in enumerate(golds):
                    if gi not in m:
                        self.misses.append((rec["id"], rec["text"], g))
                for pi, p in enumerate(typed):
                    if pi not in matched and not any(_overlaps(p[0], p[1], g["start"], g["end"]) for g in golds):
                        self.false_alarms.append((rec["id"], rec["text"], p))
        for g in golds:
            self.gold[g["type"]] += 1
            self.fmt_gold[(g["type"], g["format"])] += 1
            if any(_overlaps(s, e, g["start"], g["end"]) for s, e, _t, _l in preds):
                self.any_gold_hit += 1
        for s, e, types, label in preds:
            self.any_pred += 1
            on_gold = [g for g in golds if _overlaps(s, e, g["start"], g["end"])]
            self.any_pred_hit += bool(on_gold)
            if not types:
                self.unmapped[label] += 1
                on_near = [n for n in rec["near_misses"] if _overlaps(s, e, n["start"], n["end"])]
                where = on_gold[0]["type"] if on_gold else ("near-miss" if on_near else "other text")
                self.unmapped_on[label][where] += 1
        for n in rec["near_misses"]:
            hits = [p for p in preds if _overlaps(p[0], p[1], n["start"], n["end"])]
            self.near[n["kind"]] += 1
            self.near_hit[n["kind"]] += bool(hits)
            if n["chance_valid"]:
                self.near_chance[n["kind"]] += 1
                self.near_chance_hit[n["kind"]] += bool(hits)
            for p in hits:
                self.near_labels[n["kind"]][p[3]] += 1

    # ---- figures
    def recall(self, t: str, mode: str) -> float:
        return self.tp[mode][t] / self.gold[t] if self.gold[t] else float("nan")

    def precision(self, t: str, mode: str) -> float:
        n = self.tp[mode][t] + self.fp[mode][t]
        return self.tp[mode][t] / n if n else float("nan")

    def predicted(self, t: str, mode: str) -> int:
        return self.tp[mode][t] + self.fp[mode][t]

    def micro(self, mode: str) -> Tuple[float, float]:
        tp = sum(self.tp[mode].values())
        fp = sum(self.fp[mode].values())
        gold = sum(self.gold.values())
        return (tp / (tp + fp) if tp + fp else float("nan")), tp / gold

    def any_row(self) -> Tuple[float, float]:
        return (self.any_pred_hit / self.any_pred if self.any_pred else float("nan")), self.any_gold_hit / sum(self.gold.values())

    def near_left_alone(self, kind: Optional[str] = None, chance: Optional[bool] = None) -> Tuple[int, int]:
        """(left alone, total) near-misses, optionally of one kind / only (not) chance-valid ones."""
        kinds = [kind] if kind else list(self.near)
        total = hit = 0
        for k in kinds:
            if chance is None:
                total += self.near[k]
                hit += self.near_hit[k]
            elif chance:
                total += self.near_chance[k]
                hit += self.near_chance_hit[k]
            else:
                total += self.near[k] - self.near_chance[k]
                hit += self.near_hit[k] - self.near_chance_hit[k]
        return total - hit, total


def evaluate(corpus: Iterable[dict], predict: Callable[[str], List[Pred]]) -> Score:
    score = Score()
    t0 = time.perf_counter()
    for rec in corpus:
        score.add(rec, predict(rec["text"]))
    score.seconds = time.perf_counter() - t0
    return score


# ------------------------------------------------------------------ report

def _f(x: float) -> str:
    return "n/a" if x != x else f"{x:.3f}"


def _f1(p: float, r: float) -> str:
    if p != p or r != r or p + r == 0:
        return "n/a" if p != p else "0.000"
    return f"{2 * p * r / (p + r):.3f}"


def tables(scores: Dict[str, Score]) -> str:
    names = list(scores)
    lines = []
    for mode, title in (("exact", "exact span (same boundaries, compatible type)"),
                        ("overlap", "overlapping span (at least one shared character, compatible type)")):
        lines.append(f"#### Matching: {title}\n")
        head = "| type | gold spans |" + "".join(f" {n} P | {n} R | {n} F1 |" for n in names)
        lines += [head, "|" + "---|" * (2 + 3 * len(names))]
        for t in TYPES:
            row = f"| {t} | {scores[names[0]].gold[t]} |"
            for n in names:
                s = scores[n]
                p, r = s.precision(t, mode), s.recall(t, mode)
                row += f" {_f(p)} | {_f(r)} | {_f1(p, r)} |"
            lines.append(row)
        row = f"| **all typed (micro)** | {sum(scores[names[0]].gold.values())} |"
        for n in names:
            p, r = scores[n].micro(mode)
            row += f" {_f(p)} | {_f(r)} | {_f1(p, r)} |"
        lines.append(row)
        if mode == "overlap":
            row = "| ANY (untyped: any entity on any PII span) | |"
            for n in names:
                p, r = scores[n].any_row()
                row += f" {_f(p)} | {_f(r)} | {_f1(p, r)} |"
            lines.append(row)
        lines.append("")
    # near-misses
    lines.append("#### Near-misses left alone (no prediction of any entity type overlapping them)\n")
    head = "| near-miss kind | count | of which pass a checksum by chance |" + "".join(f" {n} left alone |" for n in names)
    lines += [head, "|" + "---|" * (3 + len(names))]
    first = scores[names[0]]
    for k in sorted(first.near):
        row = f"| {k} | {first.near[k]} | {first.near_chance[k]} |"
        for n in names:
            alone, total = scores[n].near_left_alone(k)
            row += f" {alone} ({alone / total:.1%}) |"
        lines.append(row)
    row = f"| **all** | {sum(first.near.values())} | {sum(first.near_chance.values())} |"
    for n in names:
        alone, total = scores[n].near_left_alone()
        row += f" {alone} ({alone / total:.1%}) |"
    lines.append(row)
    row = "| all except the chance-valid ones | | |"
    for n in names:
        alone, total = scores[n].near_left_alone(chance=False)
        row += f" {alone} ({alone / total:.1%}) |"
    lines.append(row)
    lines.append("")
    # what touched the near-misses
    for n in names:
        labels = Counter()
        for k, c in scores[n].near_labels.items():
            labels.update(c)
        if labels:
            lines.append(f"{n} predictions on near-misses, by entity: "
                         + ", ".join(f"{l} {c}" for l, c in labels.most_common()) + "  ")
    for n in names:
        s = scores[n]
        if s.unmapped:
            lines.append(f"{n} unmapped entity types (not in the typed rows): " + "; ".join(
                f"{l} {c} (on: " + ", ".join(f"{w} {k}" for w, k in s.unmapped_on[l].most_common()) + ")"
                for l, c in s.unmapped.most_common()) + "  ")
    lines.append("")
    # formats with exact recall < 1 for any engine
    lines.append("#### Exact-span recall by format (rows where an engine is below 1.0)\n")
    head = "| type | format | gold |" + "".join(f" {n} R |" for n in names)
    lines += [head, "|" + "---|" * (3 + len(names))]
    for key in sorted(first.fmt_gold):
        vals = [scores[n].fmt_hit[key] / first.fmt_gold[key] for n in names]
        if min(vals) < 1.0:
            lines.append(f"| {key[0]} | {key[1]} | {first.fmt_gold[key]} |" + "".join(f" {v:.3f} |" for v in vals))
    lines.append("")
    lines.append("Time per string: " + ", ".join(
        f"{n} {scores[n].seconds / scores[n].strings * 1000:.3f} ms" for n in names) + " (one process, one thread).")
    return "\n".join(lines)


def error_examples(name: str, score: Score, limit: int) -> str:
    out = [f"--- {name}: missed gold spans (overlap matching), first {limit}"]
    for rid, text, g in score.misses[:limit]:
        out.append(f"  {rid} {g['type']}/{g['format']}: {text[g['start']:g['end']]!r} in {text!r}")
    out.append(f"--- {name}: found with other boundaries (exact matching fails, overlap matches), first {limit}")
    for rid, text, g, p in score.boundary[:limit]:
        out.append(f"  {rid} {g['type']}/{g['format']}: gold {text[g['start']:g['end']]!r}, predicted {text[p[0]:p[1]]!r}"
                   f" ({p[3]}) in {text!r}")
    out.append(f"--- {name}: false alarms (typed predictions overlapping no PII span), first {limit}")
    for rid, text, p in score.false_alarms[:limit]:
        out.append(f"  {rid} {p[3]}: {text[p[0]:p[1]]!r} in {text!r}")
    return "\n".join(out)


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=None, help="corpus size (default: the generator's, 6000)")
    ap.add_argument("--seed", type=int, default=None, help="corpus seed (default: the generator's)")
    ap.add_argument("--no-presidio", action="store_true", help="measure coldstart only")
    ap.add_argument("--errors", type=int, default=0, help="print up to N misses and false alarms per engine")
    ap.add_argument("--markdown", help="also write the tables to this file")
    args = ap.parse_args(argv)

    gen = load_corpus_module()
    size = args.size or gen.DEFAULT_SIZE
    seed = args.seed if args.seed is not None else gen.DEFAULT_SEED
    corpus = gen.generate(size, seed)
    n_spans = sum(len(r["spans"]) for r in corpus)
    n_near = sum(len(r["near_misses"]) for r in corpus)
    print(f"corpus: {len(corpus)} strings (data/pii_corpus.py, seed {seed}): {n_spans} PII spans, {n_near} near-misses")
    print(gen.stats(corpus).split("\nformats:")[0])

    engines: Dict[str, Callable[[str], List[Pred]]] = {"coldstart": coldstart_predictor()}
    if not args.no_presidio:
        t0 = time.perf_counter()
        engines["Presidio"] = presidio_predictor()
        print(f"Presidio: {presidio_versions()}; AnalyzerEngine default recognizers on a blank spaCy 'en' "
              f"pipeline (no trained model), set up in {time.perf_counter() - t0:.1f} s")
    scores = {name: evaluate(corpus, fn) for name, fn in engines.items()}
    text = tables(scores)
    print()
    print(text)
    if args.errors:
        for name, s in scores.items():
            print()
            print(error_examples(name, s, args.errors))
    if args.markdown:
        Path(args.markdown).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
