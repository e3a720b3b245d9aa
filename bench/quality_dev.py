"""Profile quality on an independently written labelled set, every method side by side in one run.

Methods (all against the same active users, data/users.jsonl by default):
  teacher   exact top-10 cosine neighbours of the teacher's query vector, similarity-weighted tag vote
            (coldstart.voting.vote with min_confidence 0, so every text gets its ranking)
  student   the same with the exported student (ONNX INT8, as served) as the query encoder
  keyword   the release's keyword baseline (TF-IDF char 2-3-grams, ``python -m infra keywords``);
            no matching keyword -> the population fallback's top tag (what that profile answers)
  seed      the seed article's method: majority vote of the top-5 exact cosine neighbours (student)

Figures, on in-interest texts (``tags`` non-empty): top-1 = the top tag is one of the text's tags;
top-1 main = it is the first (main) tag. No-interest recognition: a text's neighbourhood is
"no-interest" when users with ``tags: []`` hold >= half of the top-10 vote weight; reported for
no-interest texts (should be high) and in-interest texts (should be low).

    .venv/bin/python bench/quality_dev.py --dev /work/evalsets/interest_dev \\
        --model build/demo/pipeline/model --keywords build/demo/pipeline/index/keywords.json

Teacher vectors of the users are cached in build/bench-cache (keyed by teacher weights and users).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections import Counter
from pathlib import Path

import zlib  # noqa: F401  (before paddle: libpaddle exports its own zlib symbols)

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layer"), str(ROOT)]


def read_jsonl(path: Path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_dev(folder: Path):
    rows = []
    for name in ("in_interest.jsonl", "no_interest.jsonl"):
        if (folder / name).is_file():
            rows += read_jsonl(folder / name)
    return rows


def teacher_vectors(teacher_dir: str, texts, max_len: int, cache: Path = None):
    from infra.teacher import load_teacher

    teacher = load_teacher(teacher_dir, max_seq_len=max_len, device="cpu")
    if cache is not None:
        key = hashlib.sha256((teacher.weights_sha256 + str(max_len) + "\n".join(texts)).encode()).hexdigest()[:16]
        path = cache / f"teacher-{key}.npy"
        if path.is_file():
            return np.load(path)
        vecs = teacher.encode(texts)
        cache.mkdir(parents=True, exist_ok=True)
        np.save(path, vecs)
        return vecs
    return teacher.encode(texts)


def student_vectors(model_dir: Path, texts, max_len: int):
    from coldstart.encoder import OnnxEncoder
    from coldstart.tokenizer import WordPieceTokenizer

    manifest = json.loads((model_dir / "model_manifest.json").read_text(encoding="utf-8"))
    encoder = OnnxEncoder(str(model_dir / manifest["serving"]["onnx"]))
    tok = WordPieceTokenizer(model_dir / "vocab.txt", max_seq_len=int(manifest["student"]["max_seq_len"]))
    out = []
    for t in texts:  # batch 1, as served
        e = tok.encode(t)
        out.append(encoder.encode_ids(e.input_ids[None, :], e.attention_mask[None, :])[0])
    return np.asarray(out, dtype=np.float32)


def semantic(queries, users, items, k: int = 10):
    """(top tag or None, no-interest share of the vote weight) per query, exact search."""
    from coldstart.voting import ProfileSettings, vote

    settings = ProfileSettings(k=k, min_confidence=0.0)
    sims = queries @ users.T
    top = np.argsort(-sims, axis=1)[:, :k]
    out = []
    for q, row in enumerate(top):
        s = sims[q, row]
        profile = vote(row.tolist(), s.tolist(), items, settings)
        w = np.clip(s, 0, None)
        empty = sum(w[i] for i, j in enumerate(row) if not items.item_tags[j]) / max(w.sum(), 1e-9)
        out.append((None if profile.fallback else profile.top_tag, float(empty)))
    return out


def seed_method(queries, users, items, k: int = 5):
    top = np.argsort(-(queries @ users.T), axis=1)[:, :k]
    out = []
    for row in top:
        votes = Counter(t for j in row for t in items.tags_of(int(j)))
        out.append(votes.most_common(1)[0][0] if votes else None)
    return out


def keyword_answers(keywords_path: Path, texts, items):
    from coldstart.keyword_baseline import KeywordProfiler

    profiler = KeywordProfiler.load(keywords_path)
    out = []
    for t in texts:
        p = profiler.profile(t, items)
        out.append((p.top_tag, p.fallback))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dev", type=Path, default=Path("/work/evalsets/interest_dev"),
                    help="folder with in_interest.jsonl / no_interest.jsonl, or one JSONL file")
    ap.add_argument("--users", type=Path, default=ROOT / "data" / "users.jsonl")
    ap.add_argument("--teacher", default=str(ROOT / "models" / "demo-teacher"))
    ap.add_argument("--model", type=Path, default=ROOT / "build" / "demo" / "pipeline" / "model",
                    help="exported model dir (model_manifest.json, student.int8.onnx); skipped if absent")
    ap.add_argument("--keywords", type=Path, default=ROOT / "build" / "demo" / "pipeline" / "index" / "keywords.json",
                    help="the keyword baseline table; skipped if absent")
    ap.add_argument("--max-seq-len", type=int, default=128)
    ap.add_argument("--by-style", action="store_true", help="also print teacher top-1 per style/kind")
    args = ap.parse_args(argv)

    from coldstart.items import ItemTable
    from coldstart.preprocess import prepare_text

    started = time.time()
    users = read_jsonl(args.users)
    items = ItemTable.from_rows([u["user_id"] for u in users], [u["tags"] for u in users])
    rows = load_dev(args.dev) if args.dev.is_dir() else read_jsonl(args.dev)
    texts = [prepare_text(r["text"], max_chars=args.max_seq_len * 4)[0] for r in rows]
    user_texts = [prepare_text(u["text"], max_chars=args.max_seq_len * 4)[0] for u in users]
    print(f"{len(rows)} texts ({sum(bool(r['tags']) for r in rows)} in-interest) from {args.dev}; "
          f"{len(users)} users ({sum(not u['tags'] for u in users)} with no interest)", flush=True)

    user_vecs = teacher_vectors(args.teacher, user_texts, args.max_seq_len, ROOT / "build" / "bench-cache")
    answers = {}
    empty_share = {}
    q_teacher = teacher_vectors(args.teacher, texts, args.max_seq_len)
    sem = semantic(q_teacher, user_vecs, items)
    answers["teacher"] = [a for a, _ in sem]
    empty_share["teacher"] = [e for _, e in sem]
    if (args.model / "model_manifest.json").is_file():
        q_student = student_vectors(args.model, texts, args.max_seq_len)
        sem = semantic(q_student, user_vecs, items)
        answers["student"] = [a for a, _ in sem]
        empty_share["student"] = [e for _, e in sem]
        answers["seed top-5"] = seed_method(q_student, user_vecs, items)
    else:
        print(f"(no exported model at {args.model}: student and seed columns skipped)")
        answers["seed top-5 (teacher)"] = seed_method(q_teacher, user_vecs, items)
    if args.keywords.is_file():
        kw = keyword_answers(args.keywords, texts, items)
        answers["keyword"] = [a for a, _ in kw]
        kw_fallback = [f for _, f in kw]
    else:
        print(f"(no keyword table at {args.keywords}: keyword column skipped)")
        kw_fallback = None

    interest = [i for i, r in enumerate(rows) if r["tags"]]
    none = [i for i, r in enumerate(rows) if not r["tags"]]
    print(f"\n{'method':<22} {'top-1':>7} {'top-1 main':>11} {'no answer':>10}")
    for name, ans in answers.items():
        hit = np.mean([ans[i] in rows[i]["tags"] for i in interest])
        main_hit = np.mean([ans[i] == rows[i]["tags"][0] for i in interest])
        missing = np.mean([ans[i] is None for i in interest])
        print(f"{name:<22} {hit:>7.3f} {main_hit:>11.3f} {missing:>10.3f}")
    if kw_fallback is not None:
        print(f"keyword: no matching keyword (population fallback) on {np.mean([kw_fallback[i] for i in interest]):.3f}"
              f" of in-interest and {np.mean([kw_fallback[i] for i in none]) if none else float('nan'):.3f}"
              " of no-interest texts")
    if "keyword" in answers:
        sem_name = "student" if "student" in answers else "teacher"
        gap = (np.mean([answers[sem_name][i] in rows[i]["tags"] for i in interest])
               - np.mean([answers["keyword"][i] in rows[i]["tags"] for i in interest]))
        print(f"{sem_name} top-1 minus keyword top-1: {gap:+.3f}")
    print("\nno-interest neighbourhood (>= half the top-10 vote weight from users with tags: [])")
    print(f"{'encoder':<10} {'on no-interest texts':>21} {'on in-interest texts':>21}")
    for name, share in empty_share.items():
        on_none = np.mean([share[i] >= 0.5 for i in none]) if none else float("nan")
        on_int = np.mean([share[i] >= 0.5 for i in interest])
        print(f"{name:<10} {on_none:>21.3f} {on_int:>21.3f}")
    if args.by_style:
        print("\nteacher top-1 by style (in-interest) / no-interest neighbourhood by kind")
        groups = {}
        for i, r in enumerate(rows):
            groups.setdefault(r.get("style") or r.get("kind") or "-", []).append(i)
        for g, idx in sorted(groups.items()):
            if rows[idx[0]]["tags"]:
                v = np.mean([answers["teacher"][i] in rows[i]["tags"] for i in idx])
            else:
                v = np.mean([empty_share["teacher"][i] >= 0.5 for i in idx])
            print(f"  {g:<28} {len(idx):>4} {v:.3f}")
    print(f"\n({time.time() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
