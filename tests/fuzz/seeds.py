"""Seed inputs per target: the checked-in events/ and data/, generated images, real manifests.

``write_corpus(target, directory)`` writes them as files for atheris (libFuzzer reads every
file in a corpus directory as one input). The atheris harness decodes a handler input as an
event when it is JSON, and as a request body otherwise; see tests/fuzz/atheris_main.py.
"""
from __future__ import annotations

import hashlib
import io
import json
import struct
import zlib
from pathlib import Path
from typing import Dict, List, Optional

from tests.fuzz import plant
from tests.fuzz.targets import ROOT, make_event, profile_body, seeds_from_events


def sample_texts(limit: int = 40) -> List[str]:
    texts = []
    for path in ("samples.jsonl", "heldout.jsonl"):
        for line in (ROOT / "data" / path).read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(json.loads(line)["text"])
    return texts[:limit]


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims width x height, with one tiny IDAT: a decompression-bomb header."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b"")


def seed_images() -> List[bytes]:
    from PIL import Image

    out: List[bytes] = []

    def save(img, fmt, **kw):
        buf = io.BytesIO()
        img.save(buf, fmt, **kw)
        out.append(buf.getvalue())

    rgb = Image.new("RGB", (24, 16), (200, 30, 30))
    save(rgb, "PNG")
    save(rgb, "JPEG", quality=70)
    save(rgb, "JPEG", progressive=True)
    save(rgb, "WEBP", quality=50)
    save(rgb, "WEBP", lossless=True)
    save(Image.new("RGBA", (8, 8), (0, 0, 0, 0)), "PNG")
    save(Image.new("LA", (5, 3)), "PNG")
    pal = Image.new("P", (6, 6))
    save(pal, "PNG", transparency=0)
    save(Image.new("1", (9, 9)), "PNG")
    save(Image.new("I;16", (4, 4)), "PNG")
    save(Image.new("L", (3000, 2)), "PNG")          # downscaled to 960 a side
    save(Image.new("CMYK", (4, 4)), "JPEG")
    exif = Image.Exif()
    exif[0x0112] = 6                                   # orientation: rotate
    save(rgb, "JPEG", exif=exif.tobytes())
    out.append(png_header_only(5000, 5000))           # bomb: refused from the header
    out.append(png_header_only(0, 7))
    out += [b[: len(b) // 2] for b in out[:5]]        # truncated
    out += [b"GIF89a\x01\x00\x01\x00", b"BM\x00\x00", b"%PDF-1.4", b"RIFF\x00\x00\x00\x00WEBPVP8 ", b"\xff\xd8\xff", b""]
    return out


def release_documents(store: Optional[Path]) -> Dict[str, bytes]:
    """release.json, current.json, index/manifest.json, model/model_manifest.json and canaries.json of a
    published release (or samples)."""
    docs: Dict[str, bytes] = {}
    if store is not None and (Path(store) / "current.json").is_file():
        store = Path(store)
        docs["current.json"] = (store / "current.json").read_bytes()
        version = json.loads(docs["current.json"])["version"]
        docs["release.json"] = (store / "releases" / version / "release.json").read_bytes()
        docs["index_manifest.json"] = (store / "releases" / version / "index" / "manifest.json").read_bytes()
        docs["model_manifest.json"] = (store / "releases" / version / "model" / "model_manifest.json").read_bytes()
        docs["canaries.json"] = (store / "releases" / version / "canaries.json").read_bytes()
        return docs
    sha = hashlib.sha256(b"x").hexdigest()
    teacher = {"id": "t", "weights_sha256": sha, "dim": 32, "demo": True}
    docs["current.json"] = json.dumps({"version": "v1", "release_sha256": sha, "published_at": "2026-01-01T00:00:00Z",
                                       "previous": None}).encode()
    docs["release.json"] = json.dumps({"kind": "release", "schema_version": 1, "version": "v1", "teacher": teacher,
                                       "files": {"index/index.ann": {"sha256": sha, "size": 3}},
                                       "components": {"index": {"count": 3}},
                                       "created_at": "2026-01-01T00:00:00Z"}).encode()
    docs["index_manifest.json"] = json.dumps({
        "kind": "index", "schema_version": 1, "teacher": teacher, "dim": 32, "count": 3, "n_trees": 2, "search_k": -1,
        "recall": {"k": 10, "recall": 1.0, "search_k": -1, "n_queries": 3, "threshold": 0.9,
                   "annoy_ms_per_query": 0.1, "exact_ms_per_query": 0.2},
        "files": {"index.ann": {"sha256": sha, "size": 3}}, "metric": "angular",
        "created_at": "2026-01-01T00:00:00Z", "extra": {}}).encode()
    docs["model_manifest.json"] = json.dumps({
        "kind": "model", "schema_version": 1, "teacher": teacher, "created_at": "2026-01-01T00:00:00Z",
        "student": {"shape": {"hidden_size": 32}, "out_dim": 32, "max_seq_len": 32, "init": "scratch", "train_texts": 3},
        "serving": {"onnx": "student.int8.onnx", "lite": {"x86": "student.x86.fp32.nb"}},
        "files": {"student.int8.onnx": {"sha256": sha, "size": 3}, "student.x86.fp32.nb": {"sha256": sha, "size": 3}},
        "gates": {"int8_cosine": {"name": "int8_cosine", "value": 0.999, "threshold": 0.99, "passed": True}},
        "optional_gates": {}, "inputs": ["input_ids"], "int8": {"variant": "per-tensor", "weight_type": "QInt8"},
        "figures": {}, "versions": {}, "inputs_sha256": {}}).encode()
    docs["canaries.json"] = json.dumps({
        "kind": "canaries", "schema_version": 1, "k": 10, "search_k": -1, "min_neighbor_overlap": 0.6,
        "min_cosine": {"onnx": 0.99, "lite": 0.95},
        "canaries": [{"text": "喜欢篮球", "vector": [0.6, 0.8], "neighbors": [1, 2], "top_tag": "体育", "tags": ["体育"]}],
    }).encode()
    return docs


def handler_seeds() -> List[bytes]:
    out = [json.dumps(e, ensure_ascii=False).encode("utf-8") for e in seeds_from_events()]
    for i, text in enumerate(sample_texts(12)):
        p = plant.make(i, 1000003 * (i + 1), i)
        body = profile_body(text, [p], {"bio": "程序员", "occupation": ""}, where=i)
        out.append(json.dumps(make_event(json.dumps(body, ensure_ascii=bool(i % 2)), v2=bool(i % 2),
                                         b64=i % 3 == 0), ensure_ascii=False).encode("utf-8"))
        out.append(json.dumps(body, ensure_ascii=False).encode("utf-8"))  # a bare body
    return out


def write_corpus(target: str, directory: Path, store: Optional[Path] = None) -> int:
    """Seed files for one atheris target; returns how many."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if target == "handler":
        items = handler_seeds()
    elif target == "pii":
        items = [t.encode("utf-8") for t in sample_texts()]
        items += [plant.make(k, 7919 * n, n).framed().encode("utf-8") for k in range(len(plant.KINDS)) for n in range(5)]
        items += ["微信：wxid_abc123 QQ号:12345678 邮箱a@b.cn 0755-12345678转123 ６２２２ １２３４".encode("utf-8")]
    elif target == "tokenizer":
        items = [t.encode("utf-8") for t in sample_texts()]
        items += ["Hello WORLD playing [SEP] [CLS]x ÀÉÎ é ﬁ 🚗cool ¥100 〇".encode("utf-8"), b"a\x00b\xcc\x81c"]
    elif target == "manifest":
        docs = release_documents(store)
        items = [bytes([i]) + doc for i, doc in enumerate(docs.values())]  # first byte picks the reader
    elif target == "image":
        items = seed_images()
    else:
        raise ValueError(f"unknown target {target!r}")
    for item in items:
        (directory / hashlib.sha1(item).hexdigest()).write_bytes(item)
    return len(items)
