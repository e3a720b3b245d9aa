"""The kiosk's outbox: every profile made on the kiosk, kept durably until it is in S3.

SQLite in WAL mode with ``synchronous=FULL``: a record is on disk when ``append`` returns
(the WAL is fsynced at commit), and a process kill or a power loss mid-write loses at most the
transaction being written, never an earlier one and never the database.

What is stored: the masked text (PII already replaced by placeholders), the embedding
(float32 bytes), the tags, the release versions and the time. Never the raw text.

Upload: each pending record is put to ``<store>/kiosk-outbox/<kiosk_id>/<record_id>.json``
and then marked uploaded. The key depends only on the record, so a crash between the put and
the mark just puts the same object again: one object per record. Uploaded rows are deleted
once they are older than ``keep_uploaded_days``: the kiosk keeps no more than it must.

The database (and SQLite's -wal/-shm files, which take its mode) is created 0600 in a 0700
directory: other local accounts on a shared kiosk cannot read it.
"""
from __future__ import annotations

import base64
import json
import os
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np
from coldstart.release import atomic_write_text

from .releases import is_disk_full

OUTBOX_FILE = "outbox.sqlite"
PREFIX = "kiosk-outbox"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,
    created_at   REAL NOT NULL,
    masked_text  TEXT NOT NULL,
    embedding    BLOB,
    dim          INTEGER NOT NULL,
    tags         TEXT NOT NULL,
    versions     TEXT NOT NULL,
    uploaded_at  REAL
);
CREATE INDEX IF NOT EXISTS records_pending ON records(uploaded_at) WHERE uploaded_at IS NULL;
"""


DEFAULT_KEEP_UPLOADED_DAYS = 7.0


def _create_private(path: Path) -> None:
    """The directory 0700 and the database file 0600, before SQLite opens (and copies the mode)."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    os.close(os.open(str(path), os.O_CREAT | os.O_RDWR, 0o600))
    os.chmod(path, 0o600)  # also an older outbox made before this rule


class Outbox:
    def __init__(self, path: Path, kiosk_id: str, keep_uploaded_days: float = DEFAULT_KEEP_UPLOADED_DAYS):
        self.path = Path(path)
        self.kiosk_id = kiosk_id
        self.keep_uploaded_seconds = max(0.0, keep_uploaded_days) * 86400.0
        _create_private(self.path)
        self._lock = threading.Lock()
        self.conn = sqlite3.connect(str(self.path), timeout=30, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute("PRAGMA secure_delete=ON")  # purged rows are overwritten, not left in free pages
        self.conn.executescript(_SCHEMA)
        self.disk_full: Optional[str] = None
        self.last_error: Optional[str] = None
        self.last_upload: Optional[float] = None
        self.last_upload_error: Optional[str] = None

    def close(self) -> None:
        with self._lock:
            self.conn.close()

    # -- writing ---------------------------------------------------------------------------
    def append(self, masked_text: str, vector: Optional[np.ndarray], tags: List[Dict[str, Any]],
               versions: Dict[str, str]) -> Optional[str]:
        """Store one profile; returns its record id, or None when it could not be written (the
        condition is kept in ``disk_full`` / ``last_error`` for the status page)."""
        record_id = str(uuid.uuid4())
        blob = None if vector is None else np.asarray(vector, dtype="<f4").tobytes()
        dim = 0 if vector is None else int(np.asarray(vector).size)
        row = (record_id, time.time(), masked_text, blob, dim, json.dumps(tags, ensure_ascii=False),
               json.dumps(versions, sort_keys=True))
        try:
            with self._lock:
                self.conn.execute("BEGIN IMMEDIATE")
                try:
                    self.conn.execute("INSERT INTO records (id, created_at, masked_text, embedding, dim, tags, versions) "
                                      "VALUES (?, ?, ?, ?, ?, ?, ?)", row)
                    self.conn.execute("COMMIT")
                except BaseException:
                    if self.conn.in_transaction:
                        self.conn.execute("ROLLBACK")
                    raise
        except (sqlite3.OperationalError, OSError) as exc:
            message = f"{exc.__class__.__name__}: {exc}"
            if is_disk_full(exc):
                self.disk_full = f"the outbox could not be written (disk full): {exc}"
            self.last_error = message
            return None
        self.disk_full = None
        self.last_error = None
        return record_id

    # -- reading ---------------------------------------------------------------------------
    def counts(self) -> Dict[str, int]:
        with self._lock:
            total, pending = self.conn.execute(
                "SELECT COUNT(*), COALESCE(SUM(uploaded_at IS NULL), 0) FROM records").fetchone()
        return {"total": int(total), "pending": int(pending), "uploaded": int(total) - int(pending)}

    def integrity(self) -> str:
        with self._lock:
            return self.conn.execute("PRAGMA integrity_check").fetchone()[0]

    def pending(self, limit: int = 500) -> List[Dict[str, Any]]:
        with self._lock:
            rows = self.conn.execute(
                "SELECT id, created_at, masked_text, embedding, dim, tags, versions FROM records "
                "WHERE uploaded_at IS NULL ORDER BY seq LIMIT ?", (limit,)).fetchall()
        return [{"id": r[0], "created_at": r[1], "masked_text": r[2], "embedding": r[3], "dim": r[4],
                 "tags": json.loads(r[5]), "versions": json.loads(r[6])} for r in rows]

    def key(self, record_id: str) -> str:
        return f"{PREFIX}/{self.kiosk_id}/{record_id}.json"

    def document(self, record: Dict[str, Any]) -> bytes:
        emb = record["embedding"]
        doc = {"record_id": record["id"], "kiosk_id": self.kiosk_id,
               "created_at": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record["created_at"]))
               + f".{int(record['created_at'] % 1 * 1e6):06d}Z",
               "masked_text": record["masked_text"], "tags": record["tags"], "versions": record["versions"],
               "embedding": {"dtype": "float32", "byteorder": "little", "dim": record["dim"],
                             "base64": base64.b64encode(emb).decode("ascii") if emb is not None else None}}
        return json.dumps(doc, ensure_ascii=False, sort_keys=True).encode("utf-8")

    def mark_uploaded(self, record_id: str) -> None:
        with self._lock:
            self.conn.execute("UPDATE records SET uploaded_at = ? WHERE id = ?", (time.time(), record_id))

    def purge_uploaded(self, now: Optional[float] = None) -> int:
        """Delete rows uploaded more than ``keep_uploaded_seconds`` ago; pending rows never go."""
        cutoff = (time.time() if now is None else now) - self.keep_uploaded_seconds
        with self._lock:
            cursor = self.conn.execute("DELETE FROM records WHERE uploaded_at IS NOT NULL AND uploaded_at <= ?",
                                       (cutoff,))
        return cursor.rowcount

    # -- upload ----------------------------------------------------------------------------
    def upload(self, store, batch: int = 500) -> Dict[str, Any]:
        """Put every pending record to ``store``, then mark it; stops at the first failure (the
        network is down: the rest stay pending for the next run)."""
        sent = 0
        error = None
        while True:
            records = self.pending(batch)
            if not records:
                break
            for record in records:
                try:
                    store.put_bytes(self.key(record["id"]), self.document(record))
                except Exception as exc:  # StorageError, network, credentials: retry next time
                    error = f"{exc.__class__.__name__}: {exc}"
                    break
                try:
                    self.mark_uploaded(record["id"])
                except (sqlite3.OperationalError, OSError) as exc:  # re-put next time, same key
                    error = f"{exc.__class__.__name__}: {exc}"
                    if is_disk_full(exc):
                        self.disk_full = f"the outbox could not be updated (disk full): {exc}"
                    break
                sent += 1
            if error:
                break
        self.last_upload_error = error
        purged = 0
        if error is None:
            self.last_upload = time.time()
            try:
                purged = self.purge_uploaded()
            except (sqlite3.OperationalError, OSError) as exc:  # kept until the next upload run
                self.last_error = f"{exc.__class__.__name__}: {exc}"
        return {**self.counts(), "put": sent, "purged": purged, "error": error}

    def status(self) -> Dict[str, Any]:
        try:
            counts = self.counts()
        except sqlite3.Error as exc:
            counts = {"error": f"{exc.__class__.__name__}: {exc}"}
        return {**counts, "kiosk_id": self.kiosk_id, "path": str(self.path), "disk_full": self.disk_full,
                "last_error": self.last_error, "last_upload": self.last_upload,
                "last_upload_error": self.last_upload_error}


def kiosk_id(data_dir: Path) -> str:
    """This kiosk's id: made once (uuid4), kept in ``<data>/kiosk_id``."""
    path = Path(data_dir) / "kiosk_id"
    try:
        found = path.read_text(encoding="utf-8").strip()
        if found:
            return found
    except OSError:
        pass
    new = f"kiosk-{uuid.uuid4().hex[:12]}"
    atomic_write_text(path, new + "\n")
    return new
