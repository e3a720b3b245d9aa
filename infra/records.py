"""Reading active-user records (JSONL: user_id, text, tags) with errors that name file and line.

``tags`` may be an empty list: a user who states no interest ("你好", "暂无", gibberish). Such users
are indexed like any other, so that a new text without an interest signal finds neighbours
that carry no tag instead of a confident stranger's (data/README.md: ~8% of the demo users).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterator, List, Optional, Tuple

from coldstart.errors import InputError

MAX_TEXT_CHARS = 10_000


@dataclass(frozen=True)
class UserRecord:
    user_id: str
    text: str
    tags: Tuple[str, ...]
    # optional "activity" (a number >= 0, e.g. active days in the last 30): the serving index's
    # sample keeps its distribution (infra/sampling.py)
    activity: Optional[float] = None


@dataclass
class ReadReport:
    records: List[UserRecord]
    skipped: int = 0
    first_skip: Optional[str] = None  # the first skip reason, for the summary line


def _activity(obj: dict, source: str, lineno: int) -> Optional[float]:
    value = obj.get("activity")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0 or value == float("inf"):
        raise InputError("activity must be a number >= 0 (e.g. active days in the last 30)", source, lineno)
    return float(value)


def _parse_line(raw: bytes, source: str, lineno: int) -> Optional[UserRecord]:
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 (byte {exc.start})", source, lineno) from None
    if not line.strip():
        return None
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON ({exc.msg} at column {exc.colno})", source, lineno) from None
    if not isinstance(obj, dict):
        raise InputError("expected a JSON object with user_id, text, tags", source, lineno)
    missing = [k for k in ("user_id", "text", "tags") if k not in obj]
    if missing:
        raise InputError(f"missing field(s): {', '.join(missing)}", source, lineno)
    user_id, text, tags = obj["user_id"], obj["text"], obj["tags"]
    if not isinstance(user_id, (str, int)) or isinstance(user_id, bool) or str(user_id).strip() == "":
        raise InputError("user_id must be a non-empty string", source, lineno)
    user_id = str(user_id)
    if any(ch in user_id for ch in "\n\r\t"):
        raise InputError("user_id must not contain control characters", source, lineno)
    if not isinstance(text, str):
        raise InputError("text must be a string", source, lineno)
    if not text.strip():
        raise InputError("text is empty", source, lineno)
    if len(text) > MAX_TEXT_CHARS:
        raise InputError(f"text longer than {MAX_TEXT_CHARS} characters", source, lineno)
    if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
        raise InputError("tags must be a list of non-empty strings (an empty list: no stated interest)",
                         source, lineno)
    return UserRecord(user_id, text, tuple(dict.fromkeys(t.strip() for t in tags)), _activity(obj, source, lineno))


def parse_records(lines: Iterator[bytes], source: str, skip_bad: bool = False) -> ReadReport:
    """Parse every line; raise on the first bad one unless ``skip_bad`` (then count them).

    Duplicate user_ids are errors too: the index maps each item to exactly one user.
    """
    report = ReadReport(records=[])
    seen = {}
    for lineno, raw in enumerate(lines, start=1):
        try:
            record = _parse_line(raw, source, lineno)
            if record is None:
                continue
            if record.user_id in seen:
                raise InputError(
                    f"duplicate user_id (first seen on line {seen[record.user_id]})", source, lineno
                )
        except InputError as exc:
            if not skip_bad:
                raise
            report.skipped += 1
            report.first_skip = report.first_skip or str(exc)
            continue
        seen[record.user_id] = lineno
        report.records.append(record)
    if not report.records:
        raise InputError("no usable records", source)
    return report
