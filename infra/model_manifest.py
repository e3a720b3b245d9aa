"""The student model component of a release, as publish checks it (written by `export`)."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Tuple

from coldstart.errors import ColdstartError
from coldstart.release import CANARIES, ModelManifest, TeacherInfo


def check_model_component(model_dir: Path, index_teacher: TeacherInfo) -> Tuple[ModelManifest, Dict[str, Path]]:
    """The verified manifest and files (name -> path) of a model directory; refuses one distilled
    from another teacher than the index's, or one without canaries (exported before releases
    carried them: re-run export)."""
    manifest = ModelManifest.load(model_dir, verify=True)
    if not manifest.teacher.same_space(index_teacher):
        raise ColdstartError(
            f"student was distilled from teacher {manifest.teacher.id} ({manifest.teacher.weights_sha256[:12]}…) but "
            f"the index holds vectors of {index_teacher.id} ({index_teacher.weights_sha256[:12]}…): they must match")
    if CANARIES not in manifest.files:
        raise ColdstartError(f"{model_dir} has no {CANARIES} (exported before releases carried canary texts); "
                             "run `python -m infra export` again")
    return manifest, manifest.paths(model_dir)
