"""Canary texts: a release proves it works before it is swapped in.

Files that verify (size + sha256) can still be wrong: a model or index rebuilt with the same hash
recorded, a runtime that parses the model differently, an Annoy file whose trees point nowhere.
So every release carries a handful of fixed, non-personal texts with what they must produce:

* ``export`` writes ``model/canaries.json``: each text (normalised as the encoder sees it) and the
  vector the *served* ONNX model gave for it;
* ``publish`` writes ``canaries.json`` at the release root: the same texts and vectors plus, for
  the release's own index, each vector's nearest neighbours and the tags they vote for. (An index
  refresh carries the student forward, so the expectations must be recomputed per index; the
  vectors come from export, never from the loader that is being tested.)

Before a release serves (cold start or refresh) the loader encodes each text with the runtime it
will serve with and checks: the vector is finite and within ``min_cosine[runtime]`` of the recorded
one; the index returns at least ``min_neighbor_overlap`` of the recorded neighbours for the recorded
vector; and, where a vote means something (a model whose neighbours are stable, a decisive recorded
vote: STABLE_NEIGHBOR_OVERLAP, DECISIVE_MARGIN), the vote for the served vector lands on one of the
recorded top tags. Any failure raises SmokeTestError and the release is not used.

Tolerances: ONNX INT8 in the same runtime reproduces its own vectors to ~1e-6 (0.99 leaves room for
another CPU's integer kernels); Paddle Lite's .nb is gated at export at >= 0.999 (FP32) / >= 0.99
(INT8) mean cosine to ONNX FP32, and ONNX INT8 to FP32 at >= 0.99, so Lite against the recorded
INT8 vector gets 0.95. A broken model lands far below either (random vectors: ~0).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from ..errors import ManifestError, SmokeTestError
from . import layout
from .files import atomic_write, json_bytes, read_json
from .manifests import check_kind

PathLike = Union[str, Path]

# Sign-up texts anyone could write: no person behind them, so the release carries no user's words.
DEFAULT_TEXTS = (
    "我喜欢打篮球，周末经常和朋友去球场",
    "平时爱看科幻电影和悬疑剧",
    "喜欢旅行和摄影，去过很多城市",
    "在学编程，对人工智能很感兴趣",
    "爱做饭，尤其喜欢研究川菜",
    "每天听音乐，业余时间学吉他",
    "喜欢读历史书和推理小说",
    "下班后玩游戏是我最大的爱好",
)
MIN_COSINE = {"onnx": 0.99, "lite": 0.95}
MIN_NEIGHBOR_OVERLAP = 0.6
TOP_TAGS = 3  # the served vote must land on one of the recorded vote's top tags
# ... when the recorded vote is decisive: its top share leads the first tag outside the top TOP_TAGS by
# this much (k=10: two neighbours). A near-tie (seen with tiny random test models: Lite FP32 at cosine
# 0.97 to the INT8 vector moved one neighbour and the vote) is not a smoke test, so only its vector and
# neighbours are checked.
DECISIVE_MARGIN = 0.2
# ... and when the model's neighbours are stable at all: export's INT8-vs-FP32 top-10 overlap at least
# this (the production gate). Tiny random test models sit at ~0.3: every vector is nearly collinear,
# Lite FP32 at cosine 1.0000 to ONNX FP32 still reorders the neighbours, and a vote says nothing.
STABLE_NEIGHBOR_OVERLAP = 0.9


@dataclass(frozen=True)
class Canary:
    text: str                         # as the encoder sees it (masked, normalised)
    vector: Tuple[float, ...]         # the served ONNX model's output at export
    neighbors: Tuple[int, ...] = ()   # release level: the index's nearest items for ``vector``
    top_tag: Optional[str] = None     # release level: their vote (no fallback)
    tags: Tuple[str, ...] = ()        # release level: the vote's top tags


@dataclass
class Canaries:
    canaries: List[Canary]
    min_cosine: Dict[str, float] = field(default_factory=lambda: dict(MIN_COSINE))
    min_neighbor_overlap: float = MIN_NEIGHBOR_OVERLAP
    k: int = 10
    search_k: int = -1
    kind: str = "canaries"
    schema_version: int = layout.SCHEMA_VERSION

    # -- building (export, publish) ---------------------------------------------------------
    @classmethod
    def record(cls, texts: Sequence[str], vectors: np.ndarray) -> "Canaries":
        """Model level: the texts and the served model's vectors for them."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if len(texts) != len(vectors) or not len(texts):
            raise ValueError("one vector per canary text, and at least one text")
        return cls([Canary(t, tuple(round(float(x), 7) for x in v)) for t, v in zip(texts, vectors)])

    @staticmethod
    def votes_are_stable(model_manifest: Any) -> bool:
        """Whether a model's neighbours are stable enough for its canaries' votes to be a smoke test."""
        gate = model_manifest.gates.get("int8_overlap")
        return gate is not None and gate.value is not None and gate.value >= STABLE_NEIGHBOR_OVERLAP

    def expect(self, index: Any, items: Any, search_k: int, k: int = 10, check_votes: bool = True) -> "Canaries":
        """Release level: what ``index`` (and ``items``) answer for each recorded vector; the votes are
        expected only with ``check_votes`` (see STABLE_NEIGHBOR_OVERLAP) and when decisive."""
        out = []
        for c in self.canaries:
            ids, profile = _lookup(index, items, np.asarray(c.vector, dtype=np.float32), k, search_k)
            scores = [t.score for t in profile.tags]
            decisive = check_votes and bool(scores) and scores[0] - (scores[TOP_TAGS] if len(scores) > TOP_TAGS else 0.0) \
                >= DECISIVE_MARGIN
            out.append(replace(c, neighbors=tuple(int(i) for i in ids),
                               top_tag=profile.top_tag if decisive else None,
                               tags=tuple(t.tag for t in profile.tags[:TOP_TAGS])))
        return replace(self, canaries=out, k=k, search_k=search_k)

    @property
    def has_expectations(self) -> bool:
        return bool(self.canaries) and all(c.neighbors for c in self.canaries)

    # -- checking (loaders) ------------------------------------------------------------------
    def check(self, encoder: Any, tokenizer: Any, index: Any, items: Any, runtime: str, dim: int) -> None:
        """Raise SmokeTestError unless every canary is answered within tolerance (see module doc)."""
        if not self.has_expectations:
            raise SmokeTestError("canaries.json has no expectations for this release's index")
        min_cos = self.min_cosine.get(runtime, min(self.min_cosine.values()))
        for n, c in enumerate(self.canaries):
            want = np.asarray(c.vector, dtype=np.float32)
            enc = tokenizer.encode(c.text)
            got = np.asarray(encoder.encode_ids(enc.input_ids, enc.attention_mask, enc.token_type_ids),
                             dtype=np.float32).reshape(-1)
            if got.shape != (dim,) or want.shape != (dim,) or not np.all(np.isfinite(got)):
                raise SmokeTestError(f"canary {n}: the encoder gave {got.shape[0]} values "
                                     f"({'finite' if np.all(np.isfinite(got)) else 'not finite'}), the index has dim {dim}")
            cosine = float(got @ want / max(float(np.linalg.norm(got) * np.linalg.norm(want)), 1e-12))
            if cosine < min_cos:
                raise SmokeTestError(f"canary {n}: the {runtime} encoder's vector has cosine {cosine:.4f} to the one "
                                     f"recorded at export (needs >= {min_cos})")
            ids, recorded = _lookup(index, items, want, self.k, self.search_k)
            overlap = len(set(ids) & set(c.neighbors)) / float(len(c.neighbors))
            if overlap < self.min_neighbor_overlap:
                raise SmokeTestError(f"canary {n}: the index returns {overlap:.0%} of the recorded neighbours "
                                     f"(needs >= {self.min_neighbor_overlap:.0%})")
            if c.top_tag is None:
                continue
            _, served = _lookup(index, items, got, self.k, self.search_k)
            for what, profile in (("recorded", recorded), ("served", served)):
                if profile.top_tag not in c.tags:
                    raise SmokeTestError(f"canary {n}: the {what} vector votes {profile.top_tag!r}, not one of the "
                                         f"recorded top tags {list(c.tags)}")

    # -- the file ----------------------------------------------------------------------------
    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> "Canaries":
        """Parsed canaries.json; anything malformed raises ManifestError (and nothing else)."""
        check_kind(data, "canaries", "canaries.json")
        try:
            canaries = [Canary(text=_str(c["text"]), vector=tuple(_float(x) for x in c["vector"]),
                               neighbors=tuple(_int(i) for i in c.get("neighbors", ())),
                               top_tag=None if c.get("top_tag") is None else _str(c["top_tag"]),
                               tags=tuple(_str(t) for t in c.get("tags", ())))
                        for c in data["canaries"]]
            min_cosine = {_str(k): _float(v) for k, v in dict(data.get("min_cosine", MIN_COSINE)).items()}
            out = cls(canaries=canaries, min_cosine=min_cosine or dict(MIN_COSINE),
                      min_neighbor_overlap=_float(data.get("min_neighbor_overlap", MIN_NEIGHBOR_OVERLAP)),
                      k=_int(data.get("k", 10)), search_k=_int(data.get("search_k", -1)))
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError, RecursionError) as exc:
            raise ManifestError(f"canaries.json is malformed: {exc!r}"[:500]) from None
        if not canaries or out.k < 1:
            raise ManifestError("canaries.json lists no canaries (or k < 1)")
        return out

    def save(self, directory: PathLike) -> None:
        atomic_write(Path(directory) / layout.CANARIES, json_bytes(self.to_dict(), indent=1))

    @classmethod
    def load(cls, directory: PathLike) -> "Canaries":
        return cls.from_dict(read_json(Path(directory) / layout.CANARIES))


def _lookup(index: Any, items: Any, vector: np.ndarray, k: int, search_k: int):
    from ..voting import ProfileSettings, vote

    ids, distances = index.get_nns_by_vector(vector, k, search_k=search_k, include_distances=True)
    profile = vote(ids, [1.0 - d * d / 2.0 for d in distances], items, ProfileSettings(k=k, min_confidence=0.0))
    return list(ids), profile


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value


def _float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError("expected a number")
    return float(value)


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("expected a whole number")
    return value


def default_texts() -> List[str]:
    """The default canary texts, normalised as the encoder sees them."""
    from ..preprocess import prepare_text

    return [prepare_text(t)[0] for t in DEFAULT_TEXTS]
