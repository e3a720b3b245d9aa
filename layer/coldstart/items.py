"""The index's sidecar: item number → user_id and tags, plus tag frequencies for fallbacks.

Two on-disk forms of the same table. ``items.json`` is the original (every release has it, so
loaders that predate the compact form keep working); ``items.npz`` holds the same data as a
few flat arrays (user ids as one UTF-8 blob, tags as offsets + ids), which loads in a few ms
where parsing 100k rows of JSON takes ~100 ms of a cold start. ``load_index_items`` prefers
the npz and falls back to the json (older releases).
"""
from __future__ import annotations

import json
from collections import Counter
from collections import abc
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence, Union

ITEMS_FILE = "items.json"
ITEMS_NPZ = "items.npz"
_NPZ_FORMAT = 1
_SEP = "\n"  # between user ids in the blob; ids containing it are refused when writing


class RaggedTags(abc.Sequence):
    """Per-item tag indexes backed by two arrays (offsets, ids): no 100k Python lists at load.
    ``table[i]`` is a list of ints, like the json form's rows."""

    def __init__(self, offsets, ids):
        self._offsets = offsets
        self._ids = ids

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, item):
        if isinstance(item, slice):
            return [self[i] for i in range(*item.indices(len(self)))]
        if item < 0:
            item += len(self)
        if not 0 <= item < len(self):
            raise IndexError("item out of range")
        return self._ids[self._offsets[item]:self._offsets[item + 1]].tolist()

    def __eq__(self, other) -> bool:
        return isinstance(other, abc.Sequence) and len(self) == len(other) and all(
            a == list(b) for a, b in zip(self, other))


@dataclass
class ItemTable:
    user_ids: List[str]
    tag_names: List[str]                # tag vocabulary, most frequent first
    item_tags: Sequence[Sequence[int]]  # per item, indexes into tag_names (lists, or RaggedTags from npz)
    tag_counts: List[int]               # per tag, number of users carrying it

    @classmethod
    def from_rows(cls, user_ids: Sequence[str], tags: Sequence[Sequence[str]]) -> "ItemTable":
        counts = Counter(t for row in tags for t in row)
        names = [t for t, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
        position = {t: i for i, t in enumerate(names)}
        return cls(list(user_ids), names, [[position[t] for t in row] for row in tags],
                   [counts[t] for t in names])

    def save(self, path: Union[str, Path]) -> None:
        """Write items.json, or the compact form when the name ends in .npz."""
        if str(path).endswith(".npz"):
            return self._save_npz(Path(path))
        data = {"user_ids": list(self.user_ids), "tag_names": self.tag_names,
                "item_tags": [list(t) for t in self.item_tags], "tag_counts": self.tag_counts}
        Path(path).write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")

    def _save_npz(self, path: Path) -> None:
        import numpy as np

        if any(_SEP in u for u in self.user_ids):
            raise ValueError("a user_id contains a newline; it cannot be stored in items.npz")
        lengths = [len(t) for t in self.item_tags]
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        if offsets[-1] <= np.iinfo(np.int32).max:
            offsets = offsets.astype(np.int32)
        ids = np.fromiter((i for row in self.item_tags for i in row), dtype=np.int32, count=int(offsets[-1]))
        small = np.uint16 if len(self.tag_names) <= np.iinfo(np.uint16).max else np.int32
        with open(path, "wb") as fh:  # a file object: np.savez would append .npz to other names
            np.savez(fh, format=np.array([_NPZ_FORMAT]),
                     user_ids=np.frombuffer(_SEP.join(self.user_ids).encode("utf-8"), dtype=np.uint8),
                     tag_names=np.array(json.dumps(self.tag_names, ensure_ascii=False)),
                     tag_counts=np.asarray(self.tag_counts, dtype=np.int64),
                     tag_offsets=offsets, tag_ids=ids.astype(small))

    @classmethod
    def load(cls, path: Union[str, Path]) -> "ItemTable":
        if str(path).endswith(".npz"):
            return cls._load_npz(Path(path))
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(data["user_ids"], data["tag_names"], data["item_tags"], data["tag_counts"])

    @classmethod
    def _load_npz(cls, path: Path) -> "ItemTable":
        import numpy as np

        with np.load(path, allow_pickle=False) as z:  # no pickle: a release file must not run code
            if int(z["format"][0]) != _NPZ_FORMAT:
                raise ValueError(f"{path}: unknown items.npz format {int(z['format'][0])}")
            blob = z["user_ids"].tobytes().decode("utf-8")
            tag_names = json.loads(str(z["tag_names"]))
            table = cls(blob.split(_SEP) if blob else [], tag_names, RaggedTags(z["tag_offsets"], z["tag_ids"]),
                        z["tag_counts"].tolist())
        if len(table.item_tags) != len(table.user_ids) or len(table.tag_counts) != len(tag_names):
            raise ValueError(f"{path}: inconsistent array lengths")
        return table

    def __len__(self) -> int:
        return len(self.user_ids)

    def tags_of(self, item: int) -> List[str]:
        return [self.tag_names[i] for i in self.item_tags[item]]

    def tag_shares(self) -> Dict[str, float]:
        total = float(len(self.user_ids)) or 1.0
        return {t: c / total for t, c in zip(self.tag_names, self.tag_counts)}


def load_index_items(index_dir: Union[str, Path]) -> ItemTable:
    """The table of an index directory: items.npz when present, else items.json (older releases)."""
    index_dir = Path(index_dir)
    npz = index_dir / ITEMS_NPZ
    return ItemTable.load(npz if npz.is_file() else index_dir / ITEMS_FILE)
