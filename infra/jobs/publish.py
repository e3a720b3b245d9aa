"""Publish a release to S3 (or a directory): upload, verify every object, then switch current.json.

Uploads to PREFIX/releases/<version>/, with release.json last; downloads every object back
and checks size and sha256; only then replaces PREFIX/current.json (a single PUT, so the
switch is atomic). A failed or killed publish leaves current.json as it was, and rerunning
the same command finishes it (a run killed after release.json was uploaded is resumed: the
stored release is verified and switched to, instead of being refused as "already exists").
Earlier releases stay, for --rollback.

Quality gate: with ``--evaluation EVALUATION.json`` (``python -m infra evaluate`` on the held-out
split, of exactly this index, model, keyword table and calibrator: their sha256s must match) the
release is refused, before anything is uploaded, when its semantic top-1 is not above the keyword
baseline's by more than --min-top1-margin, or its ECE exceeds --max-ece. The headline figures of
that evaluation and of every ``--report`` go into release.json (``components.quality``).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict

from infra.progress import bar, summary


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--to", required=True, help="s3://BUCKET/PREFIX (or a local directory)")
    p.add_argument("--index", help="index directory from build-index")
    p.add_argument("--model", help="student model directory from export (optional)")
    p.add_argument("--version", help="release version (default: UTC time, e.g. 20261127T101500Z)")
    p.add_argument("--rollback", metavar="VERSION", help="point current.json back to an earlier, verified release")
    p.add_argument("--list", action="store_true", help="list published releases and the current one")
    p.add_argument("--evaluation", help="evaluation.json of this index + model on the held-out split: the quality gate")
    p.add_argument("--report", action="append", default=[],
                   help="further evaluation.json files whose figures are recorded in release.json (not gated); repeatable")
    p.add_argument("--max-ece", type=float, default=0.05, help="quality gate: highest ECE of the semantic confidence")
    p.add_argument("--min-top1-margin", type=float, default=0.0,
                   help="quality gate: semantic top-1 must exceed the keyword baseline's by more than this")


def run(args: argparse.Namespace) -> int:
    from coldstart.storage import open_store

    store = open_store(args.to)
    if args.list:
        return _list(store)
    if args.rollback:
        return _rollback(store, args.rollback)
    if not args.index:
        raise SystemExit("publish: --index is required (or --rollback VERSION / --list)")
    return _publish(store, args)


def _collect(args) -> "tuple":
    """Files of the release (release-relative name -> local path), its teacher and component summaries."""
    from coldstart.manifest import read_index_manifest
    from infra.model_manifest import check_model_component

    index_dir = Path(args.index)
    manifest = read_index_manifest(index_dir, verify=True)  # refuse a locally corrupted index
    files: Dict[str, Path] = {f"index/{name}": index_dir / name for name in manifest.files}
    files["index/manifest.json"] = index_dir / "manifest.json"
    if (index_dir / "keywords.json").is_file():  # the keyword baseline's table (`python -m infra keywords`)
        files["index/keywords.json"] = index_dir / "keywords.json"
    if (index_dir / "calibration.json").is_file():  # the confidence calibrator (`python -m infra calibrate`)
        _check_calibration(index_dir, args.model)
        files["index/calibration.json"] = index_dir / "calibration.json"
    components = {"index": {"count": manifest.count, "dim": manifest.dim,
                            "recall_at_10": manifest.recall.recall, "created_at": manifest.created_at}}
    if args.model:
        model_files, model_summary = check_model_component(Path(args.model), manifest.teacher)
        files.update({f"model/{n}": p for n, p in model_files.items()})
        components["model"] = model_summary
    quality = quality_component(args)
    if quality:
        components["quality"] = quality
    return files, manifest.teacher, components


def _check_calibration(index_dir: Path, model) -> None:
    """A calibrator is only valid for the index, model and keyword table it was fitted on."""
    from coldstart.calibration import Calibrator
    from coldstart.errors import ManifestError

    try:
        calibrator = Calibrator.load(index_dir / "calibration.json")
    except ValueError as exc:
        raise ManifestError(f"refusing the release: {exc}") from None
    if not model:
        raise ManifestError("refusing the release: index/calibration.json calibrates a model, but no --model is published")
    from infra.jobs.evaluate import fingerprint_of

    now = fingerprint_of(str(index_dir), str(model))
    fitted = calibrator.info.get("fitted_for", {})
    stale = [k for k in ("index_manifest", "model_manifest", "keywords") if fitted.get(k) != now[k]]
    if stale:
        raise ManifestError(f"refusing the release: calibration.json was fitted on another {', '.join(stale)}; "
                            "rerun `python -m infra calibrate`")


def quality_component(args) -> dict:
    """components.quality of release.json, after the gate; {} without --evaluation."""
    from coldstart.errors import ColdstartError
    from coldstart.manifest import read_json
    from infra.jobs.evaluate import fingerprint_of, headline

    if not getattr(args, "evaluation", None):
        if getattr(args, "model", None):
            print("publish: no --evaluation given, so no quality gate (the pipeline always passes one)",
                  file=sys.stderr, flush=True)
        return {}
    if not args.model:
        raise ColdstartError("quality gate: --evaluation needs --model (an evaluation is of an index and a model)")
    report = read_json(args.evaluation)
    now = fingerprint_of(args.index, args.model)
    if report.get("fingerprint") != now:
        raise ColdstartError(f"quality gate: {args.evaluation} was measured on another index, model, keyword table "
                             "or calibrator than this release; rerun `python -m infra evaluate`")
    sem, kw = report["methods"]["semantic"], report["methods"]["keyword"]
    gate = {"set": report["name"], "semantic_top1": sem["top1"], "keyword_top1": kw["top1"],
            "min_top1_margin": args.min_top1_margin, "ece": sem["ece"], "max_ece": args.max_ece}
    if sem["top1"] is None or kw["top1"] is None or not sem["top1"] > kw["top1"] + args.min_top1_margin:
        raise ColdstartError(f"quality gate: semantic top-1 {sem['top1']} is not above the keyword baseline's "
                             f"{kw['top1']} (+{args.min_top1_margin}) on {report['name']}; not publishing")
    if sem["ece"] is None or sem["ece"] > args.max_ece:
        raise ColdstartError(f"quality gate: ECE {sem['ece']} exceeds --max-ece {args.max_ece} on {report['name']}; "
                             "not publishing")
    sets = {report["name"]: headline(report)}
    for path in args.report:
        other = read_json(path)
        sets[other["name"]] = {**headline(other), "same_release": other.get("fingerprint") == now}
    return {"gate": {**gate, "passed": True}, "sets": sets}


def _publish(store, args) -> int:
    from coldstart.errors import ColdstartError
    from coldstart.manifest import describe_files
    from coldstart.release import (CURRENT_KEY, RELEASE_MANIFEST, CurrentPointer, ReleaseManifest,
                                   check_version, read_current, release_key)

    started = time.time()
    version = check_version(args.version or datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ"))
    files, teacher, components = _collect(args)
    entries = {}
    for name, path in files.items():
        entries[name] = describe_files(path.parent, [path.name])[path.name]
    release = ReleaseManifest(version=version, teacher=teacher, files=entries, components=components)
    previous = read_current(store)
    total = sum(e.size for e in entries.values())

    manifest_bytes = _unfinished_same_release(store, version, release, previous)
    if manifest_bytes is None:
        with bar(total, f"upload {version}", unit="B", unit_scale=True) as progress:
            for name in sorted(files):
                store.put_file(release_key(version, name), files[name], progress=progress.update)
                print(f"uploaded {name}", file=sys.stderr, flush=True)
        manifest_bytes = release.to_bytes()
        store.put_bytes(release_key(version, RELEASE_MANIFEST), manifest_bytes)
    else:  # an earlier run of this publish was killed after release.json, before the switch
        print(f"resuming: release {version} was uploaded by an earlier run that did not switch current.json; "
              "verifying it", file=sys.stderr, flush=True)
    _verify_remote(store, version)
    from coldstart.hashing import sha256_bytes

    pointer = CurrentPointer(version=version, release_sha256=sha256_bytes(manifest_bytes),
                             published_at=_now(), previous=previous.version if previous else None)
    store.put_bytes(CURRENT_KEY, pointer.to_bytes())
    summary("publish", version=version, files=len(entries), bytes=total, teacher=teacher.id,
            demo=teacher.demo, previous=pointer.previous, current=store.uri(CURRENT_KEY),
            seconds=f"{time.time() - started:.1f}")
    return 0


def _unfinished_same_release(store, version: str, release, previous):
    """The stored release.json of ``version`` when an earlier run of this same publish uploaded
    it but was stopped before switching current.json (same files, same sha256s, same teacher,
    and current.json does not name it): the rerun then verifies and switches instead of
    refusing. None when ``version`` does not exist yet; any other existing ``version`` is refused.
    """
    from coldstart.errors import ColdstartError
    from coldstart.release import RELEASE_MANIFEST, ReleaseManifest, release_key
    from coldstart.storage import ObjectNotFound

    try:
        stored = store.get_bytes(release_key(version, RELEASE_MANIFEST))
    except ObjectNotFound:
        return None
    refuse = ColdstartError(f"release {version} already exists in {store.uri()}; choose another --version")
    if previous is not None and previous.version == version:
        raise refuse  # published and current: nothing to finish
    try:
        existing = ReleaseManifest.from_bytes(stored)
    except ColdstartError:
        raise refuse from None
    if existing.files != release.files or existing.teacher != release.teacher:
        raise refuse
    return stored


def _verify_remote(store, version: str):
    """Download every object of the release back and check size and sha256."""
    from coldstart.errors import VerificationError
    from coldstart.manifest import verify_files
    from coldstart.release import read_release, release_key
    from coldstart.storage import ObjectNotFound

    release = read_release(store, version)
    with tempfile.TemporaryDirectory(prefix="coldstart-verify-") as tmp:
        with bar(len(release.files), f"verify {version}", unit="file") as progress:
            for name, entry in release.files.items():
                try:
                    size = store.size(release_key(version, name))
                except ObjectNotFound:
                    raise VerificationError(f"release {version}: {name} is missing") from None
                if size != entry.size:
                    raise VerificationError(f"release {version}: {name} has {size} bytes, expected {entry.size}")
                store.download(release_key(version, name), Path(tmp) / name)
                progress.update(1)
        verify_files(tmp, release.files)
    return release


def _rollback(store, version: str) -> int:
    from coldstart.errors import ColdstartError
    from coldstart.hashing import sha256_bytes
    from coldstart.release import CURRENT_KEY, RELEASE_MANIFEST, CurrentPointer, read_current, release_key
    from coldstart.storage import ObjectNotFound

    try:
        manifest_bytes = store.get_bytes(release_key(version, RELEASE_MANIFEST))
    except ObjectNotFound:
        raise ColdstartError(f"no complete release {version} in {store.uri()} (see `publish --list`)") from None
    _verify_remote(store, version)
    previous = read_current(store)
    pointer = CurrentPointer(version=version, release_sha256=sha256_bytes(manifest_bytes),
                             published_at=_now(), previous=previous.version if previous else None)
    store.put_bytes(CURRENT_KEY, pointer.to_bytes())
    summary("rollback", current=version, previous=pointer.previous)
    return 0


def _list(store) -> int:
    from coldstart.release import RELEASE_MANIFEST, RELEASES, read_current

    current = read_current(store)
    versions = sorted({k.split("/")[1] for k in store.list(f"{RELEASES}/") if k.endswith("/" + RELEASE_MANIFEST)})
    for v in versions:
        print(("* " if current and current.version == v else "  ") + v)
    if not versions:
        print("no releases")
    return 0


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
