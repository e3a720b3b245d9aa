"""Stored new-user profiles (``PREFIX/profiles/``, written by the API and the update queue) as
extra users for the next rebuild, so the index learns about the newest users too.

A record contributes its *masked* composed text (raw text is never stored) and the tags it was
profiled with, kept only when the profile was confident: a fallback or a weak vote would feed
guesses back into the index as if they were behaviour. A user that is also in the active-user
input keeps the input's row (real behaviour beats a sign-up guess).
"""
from __future__ import annotations

import hashlib
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
    sha256: str = ""         # over the records taken, in key order (part of the embed run's identity)

    def summary(self) -> dict:
        return {"profiles": self.seen, "profiles_used": len(self.records), "profiles_in_input": self.in_input,
                "profiles_weak": self.weak, "profiles_corrupt": self.corrupt}


def read_profile_users(uri: str, input_ids: Set[str], selection: ProfileSelection = ProfileSelection()
                       ) -> ProfileUsersReport:
    from coldstart.profile_store import CorruptRecord, ProfileRecord
    from coldstart.storage import open_store

    store = open_store(uri)
    report = ProfileUsersReport()
    digest = hashlib.sha256()
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
        digest.update(hashlib.sha256(data).digest())
    report.sha256 = digest.hexdigest()
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
