"""Avatar OCR: latency on avatar-sized images, and top-tag accuracy of text / image / fusion.

Held-out set: rows of data/heldout.jsonl (text + true tags). Each row is split into what the user
*typed* (the first --typed-chars characters: short on purpose) and what the *avatar* says (the rest),
rendered as a project-made avatar: WenQuanYi Zen Hei (Debian fonts-wqy-zenhei), random size
(256-512 px square), light random background, dark text wrapped in lines, rotation up to ±6°,
Gaussian noise, saved as JPEG or PNG. Then, against the release `make demo` builds:

  full text     the whole original text typed (upper bound, no OCR)
  text only     the short typed text
  image only    the OCR text alone
  concat        (a) typed text + OCR text, one string to the encoder (the service's default)
  weighted w    (b) typed and OCR text encoded separately, vectors combined w*typed + (1-w)*ocr

Accuracy = the top tag is one of the row's tags. Not a test: nothing asserts.

    .venv/bin/python bench/ocr.py [--n 120] [--typed-chars 6]
"""
from __future__ import annotations

import argparse
import io
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "layer"))

from coldstart.ocr import AvatarReader, fuse_concat  # noqa: E402
from coldstart.preprocess import prepare_text  # noqa: E402
from coldstart.profile import vote  # noqa: E402

FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"


def render_avatar(text: str, rng: random.Random) -> bytes:
    side = rng.choice([256, 320, 384, 512])
    bg = tuple(rng.randint(170, 255) for _ in range(3))
    fg = tuple(rng.randint(0, 70) for _ in range(3))
    size = rng.randint(max(18, side // 14), side // 9)
    font = ImageFont.truetype(FONT, size)
    per_line = max(4, (side - 20) // size)
    lines = [text[i:i + per_line] for i in range(0, len(text), per_line)][: max(1, (side - 20) // (size + 8))]
    img = Image.new("RGB", (side, side), bg)
    draw = ImageDraw.Draw(img)
    y = rng.randint(8, 30)
    for line in lines:
        draw.text((10, y), line, font=font, fill=fg)
        y += size + 8
    img = img.rotate(rng.uniform(-6, 6), resample=Image.BICUBIC, fillcolor=bg)
    arr = np.asarray(img).astype(np.int16) + np.random.default_rng(rng.randint(0, 1 << 30)).normal(0, 8, (side, side, 3)).astype(np.int16)
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    if rng.random() < 0.3:
        img = img.filter(ImageFilter.GaussianBlur(0.6))
    out = io.BytesIO()
    if rng.random() < 0.5:
        img.save(out, "JPEG", quality=rng.randint(70, 92))
    else:
        img.save(out, "PNG")
    return out.getvalue()


def pct(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--index", default="build/demo/pipeline/index")
    p.add_argument("--model", default="build/demo/pipeline/model")
    p.add_argument("--texts", default="data/heldout.jsonl")
    p.add_argument("--n", type=int, default=120, help="held-out rows used (those with >= typed+6 characters)")
    p.add_argument("--typed-chars", type=int, default=6)
    p.add_argument("--latency-images", type=int, default=60)
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args(argv)
    rng = random.Random(args.seed)

    reader = AvatarReader()
    # ---------------------------------------------------------------- latency
    lat_rows = []
    for label, maker in (
        ("avatar 256-512 px, text", lambda: render_avatar("程序员跑步爱好者周末爬山", rng)),
        ("avatar 256 px, no text", lambda: _blank(256, rng)),
        ("photo 2000x1500 jpeg (downscaled to 960)", lambda: _photo(rng)),
    ):
        images = [maker() for _ in range(args.latency_images if "photo" not in label else max(10, args.latency_images // 4))]
        reader.read(images[0])  # warm (engine built on first use)
        ms = []
        for data in images:
            t = time.perf_counter()
            reader.read(data)
            ms.append((time.perf_counter() - t) * 1000.0)
        lat_rows.append((label, len(ms), statistics.median(ms), pct(ms, 0.99)))
    t = time.perf_counter()
    AvatarReader().engine()
    init_ms = (time.perf_counter() - t) * 1000.0
    print(f"OCR latency (decode + det + cls + rec, 1 thread); engine init {init_ms:.0f} ms")
    print(f"{'images':<44}{'n':>5}{'median ms':>11}{'p99 ms':>9}")
    for label, n, med, p99 in lat_rows:
        print(f"{label:<44}{n:>5}{med:>11.1f}{p99:>9.1f}")

    # ---------------------------------------------------------------- accuracy
    index_dir, model_dir = ROOT / args.index, ROOT / args.model
    if not (index_dir / "index.ann").exists():
        print(f"\naccuracy: skipped, {index_dir} is missing (run `make demo`)")
        return 0
    from coldstart.service import ProfileService
    from coldstart.settings import ServingSettings
    from infra.cli import main as cli

    tmp = Path(tempfile.mkdtemp(prefix="bench-ocr-"))
    assert cli(["publish", "--to", str(tmp / "store"), "--index", str(index_dir), "--model", str(model_dir),
                "--version", "bench"]) == 0
    svc = ProfileService(ServingSettings(release_uri=str(tmp / "store"), cache_dir=str(tmp / "cache"),
                                         refresh_seconds=0, cache_size=0))
    prof = svc.profiler
    release = prof.manager.current
    rows = [json.loads(line) for line in (ROOT / args.texts).read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if len(r["text"]) >= args.typed_chars + 6][: args.n]

    def top_of_text(text):
        return prof.profile(text, use_cache=False).body.get("top_tag")

    def vec(text):
        clean, _ = prepare_text(text, max_chars=prof.settings.max_text_chars)
        if not clean:
            return None
        return prof._embed(release, clean, False)[0]

    def top_of_vector(v):
        ids, d = release.index.get_nns_by_vector(v, prof.settings.k, search_k=release.search_k, include_distances=True)
        return vote(ids, [1.0 - x * x / 2.0 for x in d], release.items, prof._settings_for(prof.settings.k)).to_dict().get("top_tag")

    weights = (0.3, 0.5, 0.7)
    names = ["full text", "text only", "image only", "concat"] + [f"weighted w={w}" for w in weights]
    hits = {n: 0 for n in names}
    ocr_chars = exact = 0
    for row in rows:
        tags = set(row["tags"])
        typed, on_image = row["text"][: args.typed_chars], row["text"][args.typed_chars:]
        ocr = reader.read(render_avatar(on_image, rng))
        ocr_text = ocr.text
        ocr_chars += len(ocr_text)
        exact += prepare_text(on_image)[0].replace(" ", "") == ocr_text.replace(" ", "")
        got = {"full text": top_of_text(row["text"]), "text only": top_of_text(typed),
               "image only": top_of_text(ocr_text), "concat": top_of_text(fuse_concat(typed, ocr_text))}
        vt, vi = vec(typed), vec(ocr_text)
        for w in weights:
            if vt is None or vi is None:
                got[f"weighted w={w}"] = got["text only"] if vi is None else got["image only"]
            else:
                v = w * vt + (1 - w) * vi
                got[f"weighted w={w}"] = top_of_vector((v / np.linalg.norm(v)).astype(np.float32))
        for n in names:
            hits[n] += got[n] in tags
    print(f"\nfusion: {len(rows)} held-out rows ({args.texts}); typed = first {args.typed_chars} chars, "
          f"avatar = the rest rendered; OCR read {exact}/{len(rows)} avatars exactly (masked, spaces ignored)")
    print(f"{'input':<18}{'top-tag accuracy':>18}")
    for n in names:
        print(f"{n:<18}{hits[n] / len(rows):>18.3f}")
    for label, n, med, p99 in lat_rows:
        print(f"ocr-bench metric=latency images={label.split(',')[0].replace(' ', '_')} median_ms={med:.1f} p99_ms={p99:.1f}")
    for n in names:
        print(f"ocr-bench metric=top_tag_accuracy input={n.replace(' ', '_')} value={hits[n] / len(rows):.3f}")
    return 0


def _blank(side, rng):
    img = Image.new("RGB", (side, side), tuple(rng.randint(0, 255) for _ in range(3)))
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def _photo(rng):
    arr = np.random.default_rng(rng.randint(0, 1 << 30)).integers(0, 255, (1500, 2000, 3), dtype=np.uint8)
    img = Image.fromarray(arr).filter(ImageFilter.GaussianBlur(3))
    ImageDraw.Draw(img).text((100, 600), "旅行摄影", font=ImageFont.truetype(FONT, 200), fill=(0, 0, 0))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()


if __name__ == "__main__":
    sys.exit(main())
