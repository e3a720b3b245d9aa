"""Stored new-user profiles (``PREFIX/profiles/``, written by the API and the update queue) as
extra users for the next rebuild, so the index learns about the newest users too.

A record contributes its *masked* composed text (raw text is never stored) and the tags it was
profiled with, kept only when the profile was confident: a fallback or a weak vote would feed
guesses back into the index as if they were behaviour. A user that is also in the active-user
input keeps the input's row (real behaviour beats a sign-up guess).

The selection is frozen once per embed run as ``profiles.jsonl`` next to the chunks: profiles keep
arriving while a run (or an AWS Batch array of shards) works, and every shard and every resume must
embed the same users. The first shard writes it with a create-only conditional put; the others read
the one that won.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Iterable, List, Set

from infra.records import UserRecord


@dataclass(frozen=True)
class ProfileSelection:
    min_confidence: float = 0.5   # the vote's confidence
    min_tag_score: float = 0.3    # a tag's share of the vote
    max_tags: int = 3


@dataclass
class ProfileUsersReport:
    records: List[UserRecord] = field(default_factory=list)
    seen: int = 0
    in_input: int = 0        # active users already: the input's row wins
    weak: int = 0            # fallback, low confidence or no tag over min_tag_score
    corrupt: int = 0
    sha256: str = ""         # of the frozen selection (part of the embed run's identity)
    from_snapshot: bool = False

    def summary(self) -> dict:
        if self.from_snapshot:
            return {"profiles_used": len(self.records), "profiles_snapshot": SNAPSHOT_KEY}
        return {"profiles": self.seen, "profiles_used": len(self.records), "profiles_in_input": self.in_input,
                "profiles_weak": self.weak, "profiles_corrupt": self.corrupt}


SNAPSHOT_KEY = "profiles.jsonl"


def snapshot_profile_users(out_store, uri: str, input_ids: Set[str],
                           selection: ProfileSelection = ProfileSelection()) -> ProfileUsersReport:
    """The run's frozen selection from ``out_store``, or a new one read from ``uri`` and frozen there."""
    from coldstart.storage import ABSENT, PreconditionFailed

    frozen, _ = out_store.get_versioned(SNAPSHOT_KEY)
    if frozen is None:
        report = read_profile_users(uri, input_ids, selection)
        data = b"".join(json.dumps({"user_id": r.user_id, "text": r.text, "tags": list(r.tags)},
                                   ensure_ascii=False).encode("utf-8") + b"\n" for r in report.records)
        try:
            out_store.put_if_unchanged(SNAPSHOT_KEY, data, ABSENT)
            report.sha256 = hashlib.sha256(data).hexdigest()
            return report
        except PreconditionFailed:  # another shard froze its selection first: use that one
            frozen, _ = out_store.get_versioned(SNAPSHOT_KEY)
    return ProfileUsersReport(records=frozen_records(frozen, out_store.uri(SNAPSHOT_KEY)),
                              sha256=hashlib.sha256(frozen).hexdigest(), from_snapshot=True)


def frozen_records(frozen: bytes, source: str) -> List[UserRecord]:
    """The users of a frozen selection; an empty one (no stored profile qualified) is no users, not an error."""
    from infra.records import parse_records

    if not frozen.strip():
        return []
    return parse_records(iter(frozen.splitlines()), source).records


def read_profile_users(uri: str, input_ids: Set[str], selection: ProfileSelection = ProfileSelection()
                       ) -> ProfileUsersReport:
    from coldstart.profile_store import CorruptRecord, ProfileRecord
    from coldstart.storage import open_store

    store = open_store(uri)
    report = ProfileUsersReport()
    for key in sorted(k for k in store.list("") if k.endswith(".json") and "/" not in k):
        report.seen += 1
        data = store.get_bytes(key)
        try:
            record = ProfileRecord.from_bytes(data)
        except CorruptRecord:
            report.corrupt += 1
            continue
        if record.user_id in input_ids:
            report.in_input += 1
            continue
        tags = _confident_tags(record, selection)
        if not tags or not record.masked_text.strip():
            report.weak += 1
            continue
        report.records.append(UserRecord(record.user_id, record.masked_text, tuple(tags)))
    return report


def _confident_tags(record, selection: ProfileSelection) -> List[str]:
    if record.fallback or record.confidence < selection.min_confidence:
        return []
    ranked = sorted(_valid(record.tags), key=lambda t: -t[1])
    return [tag for tag, score in ranked if score >= selection.min_tag_score][:selection.max_tags]


def _valid(tags: Iterable) -> List[tuple]:
    out = []
    for t in tags:
        if isinstance(t, dict) and isinstance(t.get("tag"), str) and t["tag"].strip() \
                and isinstance(t.get("score"), (int, float)) and not isinstance(t.get("score"), bool):
            out.append((t["tag"].strip(), float(t["score"])))
    return out
