"""Embed active users with the teacher: mask personal data, encode, keep the L2-normalised [CLS].

Input: JSONL with user_id, text, tags (local path or s3:// URI), plus with --profiles the new
users' stored profiles (infra/profile_users.py: masked text, confident tags). Output: float32 chunks
under --out (directory or s3:// prefix). Resumable (finished chunks are skipped) and
shardable (--shard i/n, or AWS_BATCH_JOB_ARRAY_INDEX / AWS_BATCH_JOB_ARRAY_SIZE) so an
AWS Batch array job can split a large population across machines.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from typing import Tuple

from infra.flags import add_device, add_max_seq_len
from infra.keys import add_key_argument
from infra.progress import bar, summary

DEFAULT_TEACHER = "ernie-3.0-medium-zh"


def parse_shard(value: str) -> Tuple[int, int]:
    try:
        index, count = (int(x) for x in value.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--shard wants i/n (e.g. 0/4), got {value!r}") from None
    if count < 1 or not 0 <= index < count:
        raise argparse.ArgumentTypeError(f"--shard {value}: need 0 <= i < n")
    return index, count


def shard_from_env() -> Tuple[int, int]:
    index = os.environ.get("AWS_BATCH_JOB_ARRAY_INDEX")
    if index is None:
        return 0, 1
    return parse_shard(f"{index}/{os.environ.get('AWS_BATCH_JOB_ARRAY_SIZE', '1')}")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--input", required=True, help="active users JSONL (path or s3:// URI)")
    p.add_argument("--out", required=True, help="output directory or s3:// prefix")
    p.add_argument("--teacher", default=DEFAULT_TEACHER,
                   help="PaddleNLP model name (downloaded on first use) or local model directory")
    p.add_argument("--batch-size", type=int, default=64, help="texts per teacher forward pass (more: faster, more memory)")
    p.add_argument("--chunk-size", type=int, default=2048, help="users per output chunk (the unit of resume)")
    add_max_seq_len(p, 128)
    p.add_argument("--shard", type=parse_shard, default=None,
                   help="i/n: embed only chunks c with c %% n == i (default: from AWS_BATCH_JOB_ARRAY_* or 0/1)")
    add_device(p)
    p.add_argument("--skip-bad", action="store_true", help="skip malformed lines (counted) instead of failing")
    p.add_argument("--force", action="store_true", help="discard existing chunks from another teacher/input")
    p.add_argument("--replace-other-run", action="store_true",
                   help="when --out holds another run (other teacher, input, preprocessing or key), discard its "
                        "chunks and embed again; a resume of the same run keeps its chunks (the pipeline passes "
                        "this for its own work directory)")
    p.add_argument("--profiles", default=None,
                   help="also embed the new users' stored profiles (the API's profile store, e.g. "
                        "s3://bucket/PREFIX/profiles): their masked text and confident tags join the input; "
                        "the selection is frozen in --out/profiles.jsonl for every shard and resume")
    p.add_argument("--profile-min-confidence", type=float, default=0.5,
                   help="skip stored profiles whose vote confidence is below this")
    p.add_argument("--profile-min-score", type=float, default=0.3,
                   help="keep a stored profile's tags scoring at least this")
    add_key_argument(p)


def run(args: argparse.Namespace) -> int:
    from coldstart.errors import InputError
    from coldstart.preprocess import PREPROCESS_VERSION, prepare_text
    from coldstart.storage import open_store
    from infra.embeddings import EMBED_MANIFEST, EmbedSpec, chunk_key, encode_chunk
    from infra.inputs import read_input_lines
    from infra.keys import load_keys
    from infra.profile_users import KeyedUser
    from infra.records import parse_records

    started = time.time()
    shard_index, shard_count = args.shard or shard_from_env()
    lines, source, input_sha = read_input_lines(args.input)
    report = parse_records(iter(lines), source, skip_bad=args.skip_bad)
    keys = load_keys(args)
    rows = [KeyedUser(keys.user_key(r.user_id), r.text, r.tags, r.activity) for r in report.records]
    store = open_store(args.out)
    if args.force and args.profiles:
        from infra.profile_users import SNAPSHOT_KEY

        store.delete(SNAPSHOT_KEY)  # a forced new run takes a fresh selection of stored profiles
    profiles = None
    if args.profiles:
        from infra.profile_users import ProfileSelection, snapshot_profile_users

        profiles = snapshot_profile_users(store, args.profiles, keys, {r.user_key for r in rows},
                                          ProfileSelection(args.profile_min_confidence, args.profile_min_score))
        # users who asked to be forgotten leave the rebuild, also when the input still lists them
        rows = [r for r in rows if r.user_key not in profiles.erased] + profiles.users
        # the stored profiles are part of this run's input
        input_sha = hashlib.sha256(f"{input_sha}+{profiles.sha256}".encode()).hexdigest()

    from infra.teacher import load_teacher  # paddle import: after the input is known to be good

    teacher = load_teacher(args.teacher, max_seq_len=args.max_seq_len, device=args.device)
    spec = EmbedSpec(teacher=teacher.info, input_sha256=input_sha, count=len(rows),
                     chunk_size=args.chunk_size, max_seq_len=args.max_seq_len,
                     preprocess=PREPROCESS_VERSION, skipped=report.skipped, pseudonym_key_id=keys.key_id)
    _claim_output(store, spec, force=args.force or args.replace_other_run, manifest_key=EMBED_MANIFEST)

    mine = [c for c in range(spec.n_chunks) if c % shard_count == shard_index]
    done = set(store.list("chunks/"))
    todo = [c for c in mine if chunk_key(c) not in done]
    n_users = sum(len(rows[c * spec.chunk_size:(c + 1) * spec.chunk_size]) for c in todo)
    pii_total = 0
    encode_seconds = 0.0
    with bar(n_users, f"embed shard {shard_index}/{shard_count}", unit="user") as progress:
        for c in todo:
            chunk = rows[c * spec.chunk_size:(c + 1) * spec.chunk_size]
            texts = []
            for position, r in enumerate(chunk, c * spec.chunk_size + 1):
                text, counts = prepare_text(r.text, max_chars=args.max_seq_len * 4)
                pii_total += sum(counts.values())
                if not text:  # the row, not the id: ids are personal data
                    raise InputError(f"user #{position}: text is empty after masking personal data", source)
                texts.append(text)
            t0 = time.perf_counter()
            vectors = teacher.encode(texts, batch_size=args.batch_size)
            encode_seconds += time.perf_counter() - t0
            store.put_bytes(chunk_key(c), encode_chunk(vectors, [r.user_key for r in chunk], [r.tags for r in chunk],
                                                       texts, activity=[r.activity for r in chunk]))
            progress.update(len(chunk))
    if todo:  # what `python -m infra plan --embeddings` sizes the next run's array from
        _record_throughput(store, shard_index, shard_count, n_users, encode_seconds, teacher, args)
    summary("embed", teacher=teacher.id, demo=teacher.info.demo, dim=teacher.dim, users=len(rows),
            skipped_bad=report.skipped, shard=f"{shard_index}/{shard_count}", chunks_done=len(todo),
            chunks_skipped=len(mine) - len(todo), pii_masked=pii_total if todo else "-",  # counted in encoded chunks only
            **(profiles.summary() if profiles else {}),
            users_per_second=f"{n_users / max(encode_seconds, 1e-9):.0f}" if todo else "-",
            seconds=f"{time.time() - started:.1f}", out=store.uri())
    return 0


def _record_throughput(store, shard_index: int, shard_count: int, users: int, encode_seconds: float, teacher,
                       args) -> None:
    """stats/shard-i-of-n.json: users and teacher seconds of this shard's run (a rerun that resumes
    overwrites it with what it did itself)."""
    import paddle

    from infra.sizing import STATS_PREFIX

    stats = {"users": users, "encode_seconds": round(encode_seconds, 3), "device": paddle.device.get_device(),
             "teacher": teacher.id, "max_seq_len": args.max_seq_len, "batch_size": args.batch_size}
    store.put_bytes(f"{STATS_PREFIX}shard-{shard_index:05d}-of-{shard_count:05d}.json",
                    json.dumps(stats, sort_keys=True).encode())


def _claim_output(store, spec, force: bool, manifest_key: str) -> None:
    """Write embed.json, or check that the one there describes the same run."""
    from coldstart.errors import InputError

    wanted = spec.to_dict()
    if store.exists(manifest_key):
        existing = json.loads(store.get_bytes(manifest_key))
        if existing != wanted:
            if not force:
                changed = sorted(k for k in wanted if existing.get(k) != wanted[k])
                raise InputError(
                    f"{store.uri(manifest_key)} describes another run (differs in: {', '.join(changed)}); "
                    "use a new --out, or --force to discard it")
            print(f"embed: {store.uri(manifest_key)} described another run; its chunks are discarded",
                  file=sys.stderr, flush=True)
            for key in store.list("chunks/"):
                store.delete(key)
        else:
            return
    store.put_bytes(manifest_key, json.dumps(wanted, ensure_ascii=False, indent=2, sort_keys=True).encode())

