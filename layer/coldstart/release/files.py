"""Writing files so that a reader sees the old version or the whole new one, and checking them.

One helper for single files and one for directories, used by every writer (jobs, loaders, kiosk):

* ``atomic_write(path, data_or_writer)``: a temporary file in the same directory (so the rename
  cannot cross filesystems), written, flushed and fsync'ed, renamed over ``path``, then the
  directory fsync'ed so the rename itself survives a power cut. On any failure (disk full, a
  verification the writer raises, a kill) the temporary file is removed and ``path`` is untouched.
* ``staged_directory(final)``: a fresh directory next to ``final``; when the block succeeds it
  replaces ``final`` whole (old one renamed aside, new one renamed in, old one removed), when it
  fails it is removed. Readers never see a directory that is half old and half new.

Temporary names start with '.' and end in ``.part`` / ``.staging``: ``LocalStore.list`` and the
release cache's pruning skip them.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Callable, Dict, Iterable, Iterator, Union

from ..errors import ManifestError, VerificationError
from ..hashing import sha256_file

if TYPE_CHECKING:  # a runtime import would be circular (manifests imports this module)
    from .manifests import FileEntry

PathLike = Union[str, Path]
Writer = Callable[[BinaryIO], Any]


def fsync_dir(path: PathLike) -> None:
    """Make a rename/creation inside ``path`` durable (no-op where directories cannot be opened)."""
    try:
        fd = os.open(str(path), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: PathLike, data: Union[bytes, Writer], mode: int = 0o644) -> None:
    """Replace ``path`` with ``data`` (bytes, or a callable that writes to the open binary file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=str(path.parent))
    try:
        with os.fdopen(fd, "wb") as fh:
            if callable(data):
                data(fh)
            else:
                fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)  # mkstemp creates 0600; release files are meant to be read by others
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    fsync_dir(path.parent)


def json_bytes(data: Any, indent: int = 2) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=indent, sort_keys=True) + "\n").encode("utf-8")


def atomic_write_json(path: PathLike, data: Any, indent: int = 2, mode: int = 0o644) -> None:
    atomic_write(path, json_bytes(data, indent), mode)


def atomic_write_text(path: PathLike, text: str, mode: int = 0o644) -> None:
    atomic_write(path, text.encode("utf-8"), mode)


def read_json(path: PathLike) -> Any:
    """Parsed JSON; missing, unreadable or malformed files raise ManifestError (and nothing else)."""
    try:
        with open(path, "r", encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        raise ManifestError(f"{path}: not found") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{path}: not valid JSON ({exc.__class__.__name__})") from None
    except RecursionError:  # fuzz finding: "[[[[..." deeper than the interpreter's limit
        raise ManifestError(f"{path}: JSON nested too deeply") from None
    except OSError as exc:
        raise ManifestError(f"{path}: cannot be read ({exc.__class__.__name__})") from None


def parse_json_bytes(data: bytes, what: str) -> Any:
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ManifestError(f"{what} is not valid JSON") from None
    except RecursionError:
        raise ManifestError(f"{what} is nested too deeply") from None


@contextmanager
def staged_directory(final: PathLike, mode: int = 0o755) -> Iterator[Path]:
    """Yield an empty directory next to ``final``; swap it in when the block succeeds."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".staging", dir=str(final.parent)))
    try:
        yield staging
        staging.chmod(mode)  # mkdtemp makes it private
        replace_directory(staging, final)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def replace_directory(staging: PathLike, final: PathLike) -> None:
    """Put ``staging`` where ``final`` is: a reader sees the old directory or the new one, not a mix.
    (Between the two renames ``final`` is briefly absent; readers treat that as "not there yet".)"""
    staging, final = Path(staging), Path(final)
    old = None
    if final.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".old", dir=str(final.parent)))
        os.rmdir(old)
        os.rename(final, old)
    os.rename(staging, final)
    fsync_dir(final.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def remove_directory(path: PathLike) -> None:
    """Remove a directory whole: renamed aside first, so a reader never sees it half deleted."""
    path = Path(path)
    if not path.exists():
        return
    gone = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=str(path.parent)))
    os.rmdir(gone)
    os.rename(path, gone)
    shutil.rmtree(gone, ignore_errors=True)


# ------------------------------------------------------------------------------ size + sha256

def describe_files(root: PathLike, names: Iterable[str]) -> Dict[str, "FileEntry"]:
    """sha256 and size of each named file under root (names are '/'-separated)."""
    from .manifests import FileEntry

    root = Path(root)
    out = {}
    for name in sorted(names):
        path = root / name
        out[name] = FileEntry(sha256=sha256_file(path), size=path.stat().st_size)
    return out


def verify_files(root: PathLike, files: Dict[str, "FileEntry"]) -> None:
    """Raise VerificationError naming the first file whose size or sha256 differs (size first: cheap)."""
    root = Path(root)
    for name, entry in sorted(files.items()):
        path = root / name
        if not path.is_file():
            raise VerificationError(f"{name}: missing")
        size = path.stat().st_size
        if size != entry.size:
            raise VerificationError(f"{name}: size {size} != manifest {entry.size}")
    for name, entry in sorted(files.items()):
        digest = sha256_file(root / name)
        if digest != entry.sha256:
            raise VerificationError(f"{name}: sha256 {digest[:12]}… != manifest {entry.sha256[:12]}…")
