"""The student model component of a release (written by `export`; see issue on distillation)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Tuple

from coldstart.errors import ColdstartError
from coldstart.manifest import TeacherInfo, read_json, verify_files

MODEL_MANIFEST = "model_manifest.json"


def check_model_component(model_dir: Path, index_teacher: TeacherInfo) -> Tuple[Dict[str, Path], Dict[str, Any]]:
    """Files of a verified model dir, refusing one distilled from another teacher than the index's."""
    data = read_json(model_dir / MODEL_MANIFEST)
    teacher = TeacherInfo(**data["teacher"])
    if not teacher.same_space(index_teacher):
        raise ColdstartError(
            f"student was distilled from teacher {teacher.id} ({teacher.weights_sha256[:12]}…) but the index "
            f"holds vectors of {index_teacher.id} ({index_teacher.weights_sha256[:12]}…): they must match")
    from coldstart.manifest import FileEntry

    files = {name: FileEntry(**entry) for name, entry in data["files"].items()}
    verify_files(model_dir, files)
    paths = {name: model_dir / name for name in files}
    paths[MODEL_MANIFEST] = model_dir / MODEL_MANIFEST
    return paths, {"student": data.get("student", {}), "gates": data.get("gates", {})}
