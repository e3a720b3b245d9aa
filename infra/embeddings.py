"""The embedding set written by ``embed`` and read by ``build-index`` and ``distill``.

Layout under the output location (a directory or an s3:// prefix):
  embed.json                 what was embedded: teacher, input hash, counts, chunking
  chunks/chunk-00000.npz     vectors (float32, L2-normalised), user_keys, tags (JSON per row),
                             texts (the masked text each vector was made from), and activity
                             (float32, NaN where the input gave none; absent in older chunks)
One object per chunk, written whole: an interrupted run leaves only complete chunks,
and a rerun skips them. Rows are named by keyed pseudonyms (coldstart.pseudonyms), not user ids:
the work area needs no raw id after `embed`, and `build-index` derives the release's handles from
them. The masked texts let `distill` train on exactly what the teacher saw, without a join.
"""
from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from coldstart.errors import InputError, ManifestError
from coldstart.release import TeacherInfo
from coldstart.storage import ObjectNotFound, ObjectStore

EMBED_MANIFEST = "embed.json"


def chunk_key(chunk: int) -> str:
    return f"chunks/chunk-{chunk:05d}.npz"


@dataclass(frozen=True)
class EmbedSpec:
    teacher: TeacherInfo
    input_sha256: str
    count: int
    chunk_size: int
    max_seq_len: int
    preprocess: str
    skipped: int = 0
    pseudonym_key_id: str = ""   # the key the rows' user_keys were made with

    @property
    def n_chunks(self) -> int:
        return (self.count + self.chunk_size - 1) // self.chunk_size

    def to_dict(self) -> Dict:
        return {"kind": "embeddings", "n_chunks": self.n_chunks, **asdict(self)}

    @classmethod
    def from_dict(cls, data: Dict) -> "EmbedSpec":
        if data.get("kind") != "embeddings":
            raise ManifestError("embed.json is not an embeddings manifest")
        if not data.get("pseudonym_key_id"):
            raise ManifestError("embed.json is from before keyed pseudonyms (rows named by raw user ids): "
                                "re-run `embed` into a new --out")
        fields = {k: data[k] for k in ("input_sha256", "count", "chunk_size", "max_seq_len", "preprocess",
                                       "pseudonym_key_id")}
        return cls(teacher=TeacherInfo(**data["teacher"]), skipped=data.get("skipped", 0), **fields)


def encode_chunk(vectors: np.ndarray, user_keys: List[str], tags: List[Tuple[str, ...]],
                 texts: List[str], activity: Optional[Sequence[Optional[float]]] = None) -> bytes:
    arrays = {}
    if activity is not None and any(a is not None for a in activity):  # the sampler's activity strata
        arrays["activity"] = np.asarray([np.nan if a is None else a for a in activity], dtype=np.float32)
    buf = io.BytesIO()
    np.savez(buf, vectors=vectors.astype(np.float32), user_keys=np.asarray(user_keys, dtype=str),
             tags=np.asarray([json.dumps(list(t), ensure_ascii=False) for t in tags], dtype=str),
             texts=np.asarray(texts, dtype=str), **arrays)
    return buf.getvalue()


@dataclass
class Chunk:
    vectors: np.ndarray
    user_keys: List[str]
    tags: List[List[str]]
    texts: List[str]
    activity: np.ndarray  # float32, NaN where unknown


def read_chunk(data: bytes) -> Chunk:
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        if "user_keys" not in npz.files:
            raise ManifestError("an embedding chunk from before keyed pseudonyms: re-run `embed`")
        vectors = npz["vectors"]
        activity = npz["activity"] if "activity" in npz.files else np.full(len(vectors), np.nan, np.float32)
        return Chunk(vectors, [str(u) for u in npz["user_keys"]], [json.loads(str(t)) for t in npz["tags"]],
                     [str(t) for t in npz["texts"]], activity)


def decode_chunk(data: bytes) -> Tuple[np.ndarray, List[str], List[List[str]], List[str]]:
    chunk = read_chunk(data)
    return chunk.vectors, chunk.user_keys, chunk.tags, chunk.texts


def read_spec(store: ObjectStore) -> EmbedSpec:
    try:
        return EmbedSpec.from_dict(json.loads(store.get_bytes(EMBED_MANIFEST)))
    except ObjectNotFound:
        raise InputError(f"{store.uri(EMBED_MANIFEST)} not found: run `python -m infra embed` first") from None


def load_all(store: ObjectStore) -> Tuple[EmbedSpec, np.ndarray, List[str], List[List[str]]]:
    """(spec, vectors, user_keys, tags): every chunk, in order; refuses an incomplete set (a shard
    still running or failed)."""
    spec, vectors, user_keys, tags, _ = load_all_with_texts(store)
    return spec, vectors, user_keys, tags


def check_complete(store: ObjectStore, spec: EmbedSpec) -> None:
    """Refuse an incomplete chunk set (a shard still running or failed)."""
    present = set(store.list("chunks/"))
    missing = [c for c in range(spec.n_chunks) if chunk_key(c) not in present]
    if missing:
        raise InputError(
            f"{len(missing)} of {spec.n_chunks} embedding chunks missing (first: {chunk_key(missing[0])}); "
            "a shard has not finished: rerun `embed` for it", store.uri())


def iter_chunks(store: ObjectStore, spec: EmbedSpec) -> Iterator[Chunk]:
    """Every chunk in order, one at a time (build-index streams: memory is one chunk, not the
    population); refuses an incomplete set first, and a chunk set whose row count is not embed.json's."""
    check_complete(store, spec)
    rows = 0
    for c in range(spec.n_chunks):
        chunk = read_chunk(store.get_bytes(chunk_key(c)))
        rows += len(chunk.vectors)
        yield chunk
    if rows != spec.count:
        raise InputError(f"chunks hold {rows} vectors, embed.json says {spec.count}", store.uri())


def load_all_with_texts(store: ObjectStore):
    """``load_all`` plus the masked texts the vectors were made from."""
    spec = read_spec(store)
    check_complete(store, spec)
    vectors, user_keys, tags, texts = [], [], [], []
    for c in range(spec.n_chunks):
        v, u, t, x = decode_chunk(store.get_bytes(chunk_key(c)))
        vectors.append(v)
        user_keys.extend(u)
        tags.extend(t)
        texts.extend(x)
    matrix = np.concatenate(vectors) if vectors else np.zeros((0, spec.teacher.dim), np.float32)
    if len(matrix) != spec.count:
        raise InputError(f"chunks hold {len(matrix)} vectors, embed.json says {spec.count}", store.uri())
    return spec, matrix, user_keys, tags, texts
