"""The index's sidecar: item number → user_id and tags, plus tag frequencies for fallbacks."""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence, Union

ITEMS_FILE = "items.json"


@dataclass
class ItemTable:
    user_ids: List[str]
    tag_names: List[str]          # tag vocabulary, most frequent first
    item_tags: List[List[int]]    # per item, indexes into tag_names
    tag_counts: List[int]         # per tag, number of users carrying it

    @classmethod
    def from_rows(cls, user_ids: Sequence[str], tags: Sequence[Sequence[str]]) -> "ItemTable":
        counts = Counter(t for row in tags for t in row)
        names = [t for t, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
        position = {t: i for i, t in enumerate(names)}
        return cls(list(user_ids), names, [[position[t] for t in row] for row in tags],
                   [counts[t] for t in names])

    def save(self, path: Union[str, Path]) -> None:
        data = {"user_ids": self.user_ids, "tag_names": self.tag_names,
                "item_tags": self.item_tags, "tag_counts": self.tag_counts}
        Path(path).write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")

    @classmethod
    def load(cls, path: Union[str, Path]) -> "ItemTable":
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(data["user_ids"], data["tag_names"], data["item_tags"], data["tag_counts"])

    def __len__(self) -> int:
        return len(self.user_ids)

    def tags_of(self, item: int) -> List[str]:
        return [self.tag_names[i] for i in self.item_tags[item]]

    def tag_shares(self) -> Dict[str, float]:
        total = float(len(self.user_ids)) or 1.0
        return {t: c / total for t, c in zip(self.tag_names, self.tag_counts)}
