"""Moved to ``coldstart.release`` (the one owner of the release format); this name stays for imports."""
from __future__ import annotations

from .release.files import describe_files, read_json, verify_files  # noqa: F401
from .release.files import atomic_write_json as write_json_atomic  # noqa: F401
from .release.layout import INDEX_MANIFEST, SCHEMA_VERSION  # noqa: F401
from .release.manifests import (FileEntry, IndexManifest, RecallReport, TeacherInfo, file_entries,  # noqa: F401
                                file_entry, read_index_manifest, teacher_from_dict, teacher_info, utc_now)
