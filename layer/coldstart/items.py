"""The index's sidecar: item number → opaque handle and tags, plus tag frequencies for fallbacks.

A release is downloaded by every Lambda and every kiosk, so it carries no user ids: each item is
named by its handle (``coldstart.pseudonyms.handle_of`` of the user's keyed pseudonym), which
cannot be turned back into an id without the deployment's secret.

On disk, ``items.npz``: a few flat arrays (handles as one ASCII blob, tags as offsets + ids),
which loads in a few ms where parsing 100k rows of JSON took ~100 ms of a cold start. Format 1
(``user_ids``, and the ``items.json`` written beside it) carried raw user ids: such releases are
refused with a message to rebuild them. ``items.json`` is still readable for small test tables.
"""
from __future__ import annotations

import json
from collections import Counter
from collections import abc
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence, Union

from .release.layout import ITEMS_JSON as ITEMS_FILE, ITEMS_NPZ  # noqa: F401  (the names live in the release layout)
_NPZ_FORMAT = 2  # 1 held raw user ids (refused since)
_SEP = "\n"  # between handles in the blob; handles containing it are refused when writing


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
    handles: List[str]                  # per item, its opaque handle (never a user id)
    tag_names: List[str]                # tag vocabulary, most frequent first
    item_tags: Sequence[Sequence[int]]  # per item, indexes into tag_names (lists, or RaggedTags from npz)
    tag_counts: List[int]               # per tag, number of users carrying it

    @classmethod
    def from_rows(cls, handles: Sequence[str], tags: Sequence[Sequence[str]]) -> "ItemTable":
        counts = Counter(t for row in tags for t in row)
        names = [t for t, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
        position = {t: i for i, t in enumerate(names)}
        return cls(list(handles), names, [[position[t] for t in row] for row in tags],
                   [counts[t] for t in names])

    def save(self, path: Union[str, Path]) -> None:
        """Write items.json, or the compact form when the name ends in .npz."""
        if str(path).endswith(".npz"):
            return self._save_npz(Path(path))
        data = {"handles": list(self.handles), "tag_names": self.tag_names,
                "item_tags": [list(t) for t in self.item_tags], "tag_counts": self.tag_counts}
        Path(path).write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")

    def _save_npz(self, path: Path) -> None:
        import numpy as np

        if any(_SEP in u for u in self.handles):
            raise ValueError("a handle contains a newline; it cannot be stored in items.npz")
        lengths = [len(t) for t in self.item_tags]
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        if offsets[-1] <= np.iinfo(np.int32).max:
            offsets = offsets.astype(np.int32)
        ids = np.fromiter((i for row in self.item_tags for i in row), dtype=np.int32, count=int(offsets[-1]))
        small = np.uint16 if len(self.tag_names) <= np.iinfo(np.uint16).max else np.int32
        with open(path, "wb") as fh:  # a file object: np.savez would append .npz to other names
            np.savez(fh, format=np.array([_NPZ_FORMAT]),
                     handles=np.frombuffer(_SEP.join(self.handles).encode("utf-8"), dtype=np.uint8),
                     tag_names=np.array(json.dumps(self.tag_names, ensure_ascii=False)),
                     tag_counts=np.asarray(self.tag_counts, dtype=np.int64),
                     tag_offsets=offsets, tag_ids=ids.astype(small))

    @classmethod
    def load(cls, path: Union[str, Path]) -> "ItemTable":
        if str(path).endswith(".npz"):
            return cls._load_npz(Path(path))
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if "handles" not in data:
            raise ValueError(f"{path}: an items table with raw user ids (from before pseudonymous releases); "
                             "rebuild the index")
        return cls(data["handles"], data["tag_names"], data["item_tags"], data["tag_counts"])

    @classmethod
    def _load_npz(cls, path: Path) -> "ItemTable":
        import numpy as np

        with np.load(path, allow_pickle=False) as z:  # no pickle: a release file must not run code
            version = int(z["format"][0])
            if version == 1:
                raise ValueError(f"{path}: items.npz format 1 carries raw user ids (a release from before "
                                 "pseudonymous items); rebuild and republish the index")
            if version != _NPZ_FORMAT:
                raise ValueError(f"{path}: unknown items.npz format {version}")
            blob = z["handles"].tobytes().decode("utf-8")
            tag_names = json.loads(str(z["tag_names"]))
            table = cls(blob.split(_SEP) if blob else [], tag_names, RaggedTags(z["tag_offsets"], z["tag_ids"]),
                        z["tag_counts"].tolist())
        if len(table.item_tags) != len(table.handles) or len(table.tag_counts) != len(tag_names):
            raise ValueError(f"{path}: inconsistent array lengths")
        return table

    def __len__(self) -> int:
        return len(self.handles)

    def tags_of(self, item: int) -> List[str]:
        return [self.tag_names[i] for i in self.item_tags[item]]

    def tag_shares(self) -> Dict[str, float]:
        total = float(len(self.handles)) or 1.0
        return {t: c / total for t, c in zip(self.tag_names, self.tag_counts)}


def load_index_items(index_dir: Union[str, Path]) -> ItemTable:
    """The table of an index directory (items.npz)."""
    return ItemTable.load(Path(index_dir) / ITEMS_NPZ)
