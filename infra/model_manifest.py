"""The student model component of a release, as publish checks it (written by `export`)."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Optional, Tuple

from coldstart.errors import ColdstartError
from coldstart.release import CANARIES, IndexManifest, ModelManifest


def check_model_component(model_dir: Path, index: IndexManifest) -> Tuple[ModelManifest, Dict[str, Path]]:
    """The verified manifest and files (name -> path) of a model directory; refuses one distilled
    from another teacher than the index's, one reduced by another projection than the index's
    (coldstart.projection), or one without canaries (exported before releases carried them: re-run
    export)."""
    from coldstart.projection import check_projection_pair

    manifest = ModelManifest.load(model_dir, verify=True)
    index_teacher = index.teacher
    if not manifest.teacher.same_space(index_teacher):
        raise ColdstartError(
            f"student was distilled from teacher {manifest.teacher.id} ({manifest.teacher.weights_sha256[:12]}…) but "
            f"the index holds vectors of {index_teacher.id} ({index_teacher.weights_sha256[:12]}…): they must match")
    check_projection_pair("to publish", index.projection, manifest.projection)
    if CANARIES not in manifest.files:
        raise ColdstartError(f"{model_dir} has no {CANARIES} (exported before releases carried canary texts); "
                             "run `python -m infra export` again")
    return manifest, manifest.paths(model_dir)


def current_student(store) -> "Tuple[Optional[str], Optional[ModelManifest]]":
    """(current release version, its verified model manifest): (None, None) when nothing is
    published, (version, None) when the current release carries no student."""
    import json

    from coldstart.errors import VerificationError
    from coldstart.hashing import sha256_bytes
    from coldstart.release import MODEL_MANIFEST, model_name, read_current, read_release, release_key

    current = read_current(store)
    if current is None:
        return None, None
    release = read_release(store, current.version)
    name = model_name(MODEL_MANIFEST)
    if name not in release.files:
        return current.version, None
    data = store.get_bytes(release_key(current.version, name))
    if sha256_bytes(data) != release.files[name].sha256:
        raise VerificationError(f"release {current.version}: {name} differs from its release.json")
    try:
        return current.version, ModelManifest.from_dict(json.loads(data))
    except ValueError:
        from coldstart.errors import ManifestError

        raise ManifestError(f"release {current.version}: {name} is not valid JSON") from None
