"""Publish a release to S3 (or a directory): upload, verify every object, then switch current.json.

A release is never half a release: it always carries an index *and* a student model distilled
from the same teacher.

  --index DIR --model DIR     a new student (after `distill` + `export`): the first release, or
                              a release after the teacher changed;
  --index DIR                 the daily index refresh: the current release's student is carried
                              forward when its manifest names the same teacher as the new index
                              (downloaded, verified, uploaded into the new release); otherwise the
                              publish is refused and says why (distill + export first);
  --index DIR --model-if-present DIR
                              what the batch stack runs: DIR's model when the student step exported
                              one (the teacher changed), else the carry-forward above.
The summary line says which: ``model=new`` or ``model=carried-forward:<version>``.
An index reduced by a projection (build-index --width) takes only a student with the same
projection folded in (both manifests' ``projection``): a refresh carries the student forward when
its build-index reused that projection (--projection; the pipeline does), and is refused otherwise.

Publish also writes the release's ``canaries.json`` (coldstart.release.canaries): the model's canary
texts and vectors with this index's answers to them, which every loader checks before serving.

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
from typing import Dict, Optional, Tuple

from infra.progress import bar, summary


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--to", required=True, help="s3://BUCKET/PREFIX (or a local directory)")
    p.add_argument("--index", help="index directory from build-index")
    model = p.add_mutually_exclusive_group()
    model.add_argument("--model", help="student model directory from export (default: carry the current "
                                       "release's student forward if it comes from the index's teacher)")
    model.add_argument("--model-if-present", metavar="DIR",
                       help="like --model when DIR holds an exported model, else carry forward (batch stack)")
    p.add_argument("--version", help="release version (default: UTC time, e.g. 20261127T101500Z)")
    action = p.add_mutually_exclusive_group()
    action.add_argument("--rollback", metavar="VERSION", help="point current.json back to an earlier, verified release")
    action.add_argument("--list", action="store_true", help="list published releases and the current one")
    p.add_argument("--evaluation", help="evaluation.json of this index + model on the held-out split: the quality gate")
    p.add_argument("--report", action="append", default=[],
                   help="further evaluation.json files whose figures are recorded in release.json (not gated); repeatable")
    p.add_argument("--max-ece", type=float, default=0.05, help="quality gate: highest ECE of the semantic confidence")
    p.add_argument("--min-top1-margin", type=float, default=0.0,
                   help="quality gate: semantic top-1 must exceed the keyword baseline's by more than this")


def run(args: argparse.Namespace) -> int:
    from coldstart.errors import ConfigError
    from coldstart.storage import open_store

    store = open_store(args.to)
    if args.list:
        return _list(store)
    if args.rollback:
        return _rollback(store, args.rollback)
    if not args.index:
        raise ConfigError("publish needs --index DIR (from build-index), or --list / --rollback VERSION")
    with tempfile.TemporaryDirectory(prefix="coldstart-publish-") as work:
        return _publish(store, args, Path(work))


def _model_source(store, args, index_manifest, current, work: Path) -> Tuple[Path, str]:
    """(model directory, origin): the new model given, or the current release's carried forward."""
    from coldstart.errors import ColdstartError
    from coldstart.release import MODEL_MANIFEST

    if args.model:
        return Path(args.model), "new"
    if args.model_if_present and (Path(args.model_if_present) / MODEL_MANIFEST).is_file():
        return Path(args.model_if_present), "new"
    teacher = index_manifest.teacher
    if current is None:
        raise ColdstartError(
            "publish refused: this index comes without a student model and nothing is published yet to carry one "
            f"forward from. The first release needs one: run `distill` and `export` (teacher {teacher.id}) and "
            "publish with --model")
    model_dir = _download_model(store, current.version, work / "carried-model")
    from coldstart.release import ModelManifest

    carried = ModelManifest.load(model_dir, verify=True)
    if not carried.teacher.same_space(teacher):
        raise ColdstartError(
            f"publish refused: the index was built with teacher {teacher.id} ({teacher.weights_sha256[:12]}…), the "
            f"current release {current.version}'s student was distilled from {carried.teacher.id} "
            f"({carried.teacher.weights_sha256[:12]}…); a student cannot be carried into another teacher's space. "
            "Run `distill` and `export` against this index and publish with --model")
    if _projection_sha(carried) != _projection_sha(index_manifest):
        raise ColdstartError(
            f"publish refused: the index was reduced by {_projection_name(index_manifest)}, the current release "
            f"{current.version}'s student encodes into {_projection_name(carried)}; a student cannot be carried into "
            "another projection. Run `export` against this index (the projection is folded in there) and publish "
            "with --model")
    print(f"publish: carrying the student of release {current.version} forward (teacher {teacher.id}, same "
          "weights as this index's)", file=sys.stderr, flush=True)
    return model_dir, f"carried-forward:{current.version}"


def _projection_sha(manifest):
    return manifest.projection.sha256 if manifest.projection is not None else None


def _projection_name(manifest) -> str:
    p = manifest.projection
    return f"projection {p.sha256[:12]}… ({p.source_dim} -> {p.width})" if p is not None else "the teacher's full width"


def _download_model(store, version: str, out: Path) -> Path:
    """The model component of a published release, every file verified against its release.json."""
    from coldstart.errors import ColdstartError
    from coldstart.release import MODEL_DIR, read_release, release_key, verify_files

    release = read_release(store, version)
    files = release.component_files(MODEL_DIR)
    if not release.has_model:
        raise ColdstartError(f"publish refused: this index comes without a student model and the current release "
                             f"{version} carries none to carry forward; publish with --model")
    for name in sorted(files):
        store.download(release_key(version, f"{MODEL_DIR}/{name}"), out / name)
    verify_files(out, files)
    return out


def _collect(store, args, current, work: Path) -> "tuple":
    """Files of the release (release-relative name -> local path), its teacher and component summaries."""
    from coldstart.errors import ManifestError
    from coldstart.items import load_index_items
    from coldstart.release import (CALIBRATION, CANARIES, INDEX_DIR, INDEX_FILE, INDEX_MANIFEST, MODEL_DIR,
                                   OPTIONAL_INDEX_FILES, Canaries, IndexManifest)
    from coldstart.vector_index import open_annoy
    from infra.model_manifest import check_model_component

    index_dir = Path(args.index)
    manifest = IndexManifest.load(index_dir, verify=True)  # refuse a locally corrupted index
    files: Dict[str, Path] = {f"{INDEX_DIR}/{name}": index_dir / name for name in manifest.files}
    files[f"{INDEX_DIR}/{INDEX_MANIFEST}"] = index_dir / INDEX_MANIFEST
    model_dir, origin = _model_source(store, args, manifest, current, work)
    model, model_files = check_model_component(model_dir, manifest)
    files.update({f"{MODEL_DIR}/{n}": p for n, p in model_files.items()})
    for name in OPTIONAL_INDEX_FILES:  # the keyword baseline's table, the confidence calibrator
        if (index_dir / name).is_file():
            if name == CALIBRATION:
                _check_calibration(index_dir, model_dir)
            files[f"{INDEX_DIR}/{name}"] = index_dir / name
    # this index's answers to the model's canary texts (checked by every loader before it serves)
    index = open_annoy(index_dir / INDEX_FILE, manifest.dim, manifest.count, manifest.n_trees)
    try:
        items = load_index_items(index_dir)
    except ValueError as exc:  # e.g. a table of raw user ids (items.npz format 1): never published
        raise ManifestError(f"refusing the release: {exc}") from None
    Canaries.load(model_dir).expect(index, items, manifest.search_k,
                                    check_votes=Canaries.votes_are_stable(model)).save(work)
    index.unload()
    files[CANARIES] = work / CANARIES
    components = {"index": {"count": manifest.count, "dim": manifest.dim, "recall_at_10": manifest.recall.recall,
                            "created_at": manifest.created_at},
                  "model": {"origin": origin, "student": {"shape": model.student.shape, "out_dim": model.student.out_dim},
                            "gates": {k: g.to_dict() for k, g in model.gates.items()}}}
    quality = quality_component(args, model_dir)
    if quality:
        components["quality"] = quality
    return files, manifest.teacher, components, origin


def _check_calibration(index_dir: Path, model_dir: Path) -> None:
    """A calibrator is only valid for the index, model and keyword table it was fitted on."""
    from coldstart.calibration import Calibrator
    from coldstart.errors import ManifestError
    from coldstart.release import CALIBRATION
    from infra.jobs.evaluate import fingerprint_of

    try:
        calibrator = Calibrator.load(index_dir / CALIBRATION)
    except ValueError as exc:
        raise ManifestError(f"refusing the release: {exc}") from None
    now = fingerprint_of(str(index_dir), str(model_dir))
    fitted = calibrator.info.get("fitted_for", {})
    stale = [k for k in ("index_manifest", "model_manifest", "keywords") if fitted.get(k) != now[k]]
    if stale:
        raise ManifestError(f"refusing the release: calibration.json was fitted on another {', '.join(stale)}; "
                            "rerun `python -m infra calibrate`")


def quality_component(args, model_dir: Path) -> dict:
    """components.quality of release.json, after the gate; {} without --evaluation."""
    from coldstart.errors import ColdstartError
    from coldstart.release import read_json
    from infra.jobs.evaluate import fingerprint_of, headline

    if not getattr(args, "evaluation", None):
        print("publish: no --evaluation given, so no quality gate (the pipeline always passes one)",
              file=sys.stderr, flush=True)
        return {}
    report = read_json(args.evaluation)
    now = fingerprint_of(args.index, str(model_dir))
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


def _publish(store, args, work: Path) -> int:
    from coldstart.hashing import sha256_bytes
    from coldstart.release import (CURRENT_KEY, RELEASE_MANIFEST, CurrentPointer, ReleaseManifest, check_version,
                                   describe_files, read_current, release_key)

    started = time.time()
    version = check_version(args.version or datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ"))
    previous = read_current(store)
    files, teacher, components, origin = _collect(store, args, previous, work)
    entries = {}
    for name, path in files.items():
        entries[name] = describe_files(path.parent, [path.name])[path.name]
    release = ReleaseManifest(version=version, teacher=teacher, files=entries, components=components)
    total = sum(e.size for e in entries.values())

    _upload_projection(store, Path(args.index))
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
    pointer = CurrentPointer(version=version, release_sha256=sha256_bytes(manifest_bytes), published_at=_now(),
                             previous=previous.version if previous else None,
                             previous_release_sha256=previous.release_sha256 if previous else None)
    store.put_bytes(CURRENT_KEY, pointer.to_bytes())
    summary("publish", version=version, model=origin, files=len(entries), bytes=total, teacher=teacher.id,
            demo=teacher.demo, previous=pointer.previous, current=store.uri(CURRENT_KEY),
            seconds=f"{time.time() - started:.1f}")
    return 0


def _upload_projection(store, index_dir: Path) -> None:
    """An index at a reduced width: its projection, at projections/<sha256>.npz (outside every
    release: no loader downloads it), so the next refresh's build-index --projection-from can reuse
    it and the student stays carried forward. Uploaded once per projection."""
    from coldstart.release import PROJECTION_FILE, IndexManifest, projection_key
    from infra.projection import index_projection

    manifest = IndexManifest.load(index_dir, verify=False)
    if manifest.projection is None:
        return
    key = projection_key(manifest.projection.sha256)
    if store.exists(key):
        return
    index_projection(index_dir, manifest)  # the file is there and is the one the manifest names
    store.put_bytes(key, (index_dir / PROJECTION_FILE).read_bytes())
    print(f"uploaded {key}", file=sys.stderr, flush=True)


def _unfinished_same_release(store, version: str, release, previous) -> Optional[bytes]:
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
    from coldstart.release import read_release, release_key, verify_files
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
    from coldstart.errors import ColdstartError, ConfigError
    from coldstart.hashing import sha256_bytes
    from coldstart.release import CURRENT_KEY, RELEASE_MANIFEST, CurrentPointer, read_current, release_key
    from coldstart.storage import ObjectNotFound

    current = read_current(store)
    if current is not None and current.version == version:
        # switching to itself would "succeed" and make `previous` point at the same release
        raise ConfigError(f"release {version} is already current in {store.uri()}; nothing to roll back "
                          "(name an earlier one from `publish --list`)")
    try:
        manifest_bytes = store.get_bytes(release_key(version, RELEASE_MANIFEST))
    except ObjectNotFound:
        raise ColdstartError(f"no complete release {version} in {store.uri()} (see `publish --list`)") from None
    _verify_remote(store, version)
    previous = read_current(store)  # again: it may have moved while the release was verified
    pointer = CurrentPointer(version=version, release_sha256=sha256_bytes(manifest_bytes), published_at=_now(),
                             previous=previous.version if previous else None,
                             previous_release_sha256=previous.release_sha256 if previous else None)
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
