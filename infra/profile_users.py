"""Stored new-user profiles (``PREFIX/profiles/``, written by the API and the update queue) as
extra users for the next rebuild, so the index learns about the newest users too.

A record contributes its *masked* composed text (raw text is never stored) and the tags it was
profiled with, kept only when the profile was confident: a fallback or a weak vote would feed
guesses back into the index as if they were behaviour. A user that is also in the active-user
input keeps the input's row (real behaviour beats a sign-up guess).

Records carry no user id, only the keyed pseudonym (``user_key``); the input's rows are compared by
theirs. Users who asked to be forgotten (the store's tombstones, ``deleted/<user_key>``) are left
out of the rebuild, from the stored profiles and from the active-user input alike.

The selection is frozen once per embed run as ``profiles.jsonl`` next to the chunks: profiles keep
arriving while a run (or an AWS Batch array of shards) works, and every shard and every resume must
embed the same users. The first shard writes it with a create-only conditional put; the others read
the one that won. It holds user keys, masked texts and tags, and the erased keys.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Iterable, List, Optional, Set, Tuple


@dataclass(frozen=True)
class ProfileSelection:
    min_confidence: float = 0.5   # the vote's confidence
    min_tag_score: float = 0.3    # a tag's share of the vote
    max_tags: int = 3


@dataclass(frozen=True)
class KeyedUser:
    """A row of the rebuild named by its keyed pseudonym (no raw id)."""

    user_key: str
    text: str                 # masked text
    tags: Tuple[str, ...]
    activity: Optional[float] = None  # from the input's optional "activity"; stored profiles have none


@dataclass
class ProfileUsersReport:
    users: List[KeyedUser] = field(default_factory=list)
    erased: Set[str] = field(default_factory=set)   # user keys that asked to be forgotten
    seen: int = 0
    in_input: int = 0        # active users already: the input's row wins
    weak: int = 0            # fallback, low confidence or no tag over min_tag_score
    corrupt: int = 0
    sha256: str = ""         # of the frozen selection (part of the embed run's identity)
    from_snapshot: bool = False

    def summary(self) -> dict:
        if self.from_snapshot:
            return {"profiles_used": len(self.users), "erased": len(self.erased), "profiles_snapshot": SNAPSHOT_KEY}
        return {"profiles": self.seen, "profiles_used": len(self.users), "profiles_in_input": self.in_input,
                "profiles_weak": self.weak, "profiles_corrupt": self.corrupt, "erased": len(self.erased)}


SNAPSHOT_KEY = "profiles.jsonl"


def snapshot_profile_users(out_store, uri: str, keys, input_keys: Set[str],
                           selection: ProfileSelection = ProfileSelection()) -> ProfileUsersReport:
    """The run's frozen selection from ``out_store``, or a new one read from ``uri`` and frozen there."""
    from coldstart.storage import ABSENT, PreconditionFailed

    frozen, _ = out_store.get_versioned(SNAPSHOT_KEY)
    if frozen is None:
        report = read_profile_users(uri, keys, input_keys, selection)
        data = _freeze(report)
        try:
            out_store.put_if_unchanged(SNAPSHOT_KEY, data, ABSENT)
            report.sha256 = hashlib.sha256(data).hexdigest()
            return report
        except PreconditionFailed:  # another shard froze its selection first: use that one
            frozen, _ = out_store.get_versioned(SNAPSHOT_KEY)
    return _thaw(frozen)


def _freeze(report: ProfileUsersReport) -> bytes:
    lines = [{"user_key": u.user_key, "text": u.text, "tags": list(u.tags)} for u in report.users]
    lines += [{"user_key": k, "erased": True} for k in sorted(report.erased)]
    return b"".join(json.dumps(x, ensure_ascii=False).encode("utf-8") + b"\n" for x in lines)


def _thaw(frozen: bytes) -> ProfileUsersReport:
    report = ProfileUsersReport(sha256=hashlib.sha256(frozen).hexdigest(), from_snapshot=True)
    for line in frozen.splitlines():
        row = json.loads(line)
        if row.get("erased"):
            report.erased.add(row["user_key"])
        else:
            report.users.append(KeyedUser(row["user_key"], row["text"], tuple(row["tags"])))
    return report


def read_profile_users(uri: str, keys, input_keys: Set[str], selection: ProfileSelection = ProfileSelection()
                       ) -> ProfileUsersReport:
    from coldstart.profile_store import CorruptRecord, ProfileStore, StoredProfile
    from coldstart.storage import open_store

    store = open_store(uri)
    report = ProfileUsersReport(erased=set(ProfileStore(store, keys).tombstones()))
    for key in sorted(k for k in store.list("") if k.endswith(".json") and "/" not in k):
        report.seen += 1
        data = store.get_bytes(key)
        try:
            record = StoredProfile.from_bytes(data)
        except CorruptRecord:
            report.corrupt += 1
            continue
        if record.user_key in report.erased:
            continue
        if record.user_key in input_keys:
            report.in_input += 1
            continue
        tags = _confident_tags(record, selection)
        if not tags or not record.masked_text.strip():
            report.weak += 1
            continue
        report.users.append(KeyedUser(record.user_key, record.masked_text, tuple(tags)))
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
