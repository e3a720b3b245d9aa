"""Avatar OCR: latency on avatar-sized images, and top-tag accuracy of text / image / each fusion.

Held-out set: rows of data/heldout.jsonl (text + true tags). Each row is split into what the user
*typed* (the first --typed-chars characters: short on purpose) and what the *avatar* says (the rest),
rendered by ``infra.avatars`` (the renderer `infra train-fusion` trains on): WenQuanYi Zen Hei
(Debian fonts-wqy-zenhei, three faces), 256-512 px square, light random background, dark text
wrapped in lines, rotation up to ±6°, Gaussian noise, sometimes blurred, JPEG or PNG. Then, through
the serving ``ProfileService`` (``profile_text(typed, image_text, fusion=...)``) against the release
`make demo` builds:

  full text     the whole original text typed (upper bound, no OCR)
  text only     the short typed text
  image only    the OCR text alone
  concat        (a) typed text + OCR text, one string to the encoder
  weighted w    (b) typed and OCR text encoded separately, w*typed + (1-w)*ocr, renormalised
  gated         (c) weighted with w from the release's learned gate (model_manifest.json "fusion",
                written by `python -m infra train-fusion`); skipped when the model has none

Accuracy = the top tag is one of the row's tags. ``ms`` = median profile time after OCR (encodes,
neighbours, votes). Not a test: nothing asserts.

    .venv/bin/python bench/ocr.py [--n 120] [--typed-chars 6] [--quick]
"""
from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import random
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "layer"))

from coldstart.fusion import (DEFAULT_FUSION, DEFAULT_TYPED_WEIGHT, ConcatFusion, GatedFusion,  # noqa: E402
                              LogisticGate, WeightedFusion)
from coldstart.ocr import AvatarReader  # noqa: E402
from coldstart.preprocess import prepare_text  # noqa: E402
from infra.avatars import FONT, make_cases, render_avatar  # noqa: E402


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
    p.add_argument("--weights", default="0.3,0.5,0.7", help="typed weights w for the weighted rows")
    p.add_argument("--latency-images", type=int, default=60)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--quick", action="store_true", help="40 rows, 10 latency images: a smoke run")
    args = p.parse_args(argv)
    if args.quick:
        args.n, args.latency_images = min(args.n, 40), min(args.latency_images, 10)
    rng = random.Random(args.seed)

    reader = AvatarReader()
    # ---------------------------------------------------------------- latency
    lat_rows = []
    for label, maker in (
        ("avatar 256-512 px, text", lambda: render_avatar("程序员跑步爱好者周末爬山", rng)),
        ("avatar 256 px, no text", lambda: _blank(256, rng)),
        ("photo 2000x1500 jpeg (downscaled to 960)", lambda: _photo(rng)),
    ):
        images = [maker() for _ in range(args.latency_images if "photo" not in label else max(5, args.latency_images // 4))]
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
    from infra.jobs.train_fusion import open_service

    service = open_service(str(index_dir), str(model_dir), Path(tempfile.mkdtemp(prefix="bench-ocr-")))
    release = service.current_release()
    rows = [json.loads(line) for line in (ROOT / args.texts).read_text(encoding="utf-8").splitlines() if line.strip()]
    cases = make_cases(rows, args.typed_chars, args.n, args.seed)
    fusions = {"concat": ConcatFusion()}
    for w in (float(x) for x in args.weights.split(",")):
        fusions[f"weighted w={w}"] = WeightedFusion(w)
    gate_entry = (release.model_manifest.fusion or {}).get("gate")
    if gate_entry:
        fusions["gated"] = GatedFusion(LogisticGate.from_dict(gate_entry))
    names = ["full text", "text only", "image only"] + list(fusions)
    hits = {n: 0 for n in names}
    times = {n: [] for n in names}
    image_weights = []
    exact = 0

    def top(name, text, image_text="", fusion=None):
        t = time.perf_counter()
        result = service.profile_text(prepare_text(text)[0], image_text, use_cache=False, fusion=fusion)
        times[name].append((time.perf_counter() - t) * 1000.0)
        if name == "gated" and result.fused is not None and result.fused.image_weight is not None:
            image_weights.append(result.fused.image_weight)
        return result.profile.top_tag

    for case in cases:
        ocr_text = reader.read(case.image).text
        exact += prepare_text(case.on_image)[0].replace(" ", "") == ocr_text.replace(" ", "")
        got = {"full text": top("full text", case.typed + case.on_image), "text only": top("text only", case.typed),
               "image only": top("image only", ocr_text)}
        for name, fusion in fusions.items():
            got[name] = top(name, case.typed, ocr_text, fusion)
        for n in names:
            hits[n] += got[n] in case.tags
    print(f"\nfusion: {len(cases)} held-out rows ({args.texts}); typed = first {args.typed_chars} chars, "
          f"avatar = the rest rendered; OCR read {exact}/{len(cases)} avatars exactly (masked, spaces ignored)")
    print(f"service default: {DEFAULT_FUSION} (weighted w default {DEFAULT_TYPED_WEIGHT}); "
          + ("gate from the release's model_manifest.json" if gate_entry else
             "no gate in this model (run `python -m infra train-fusion --model ... --index ...`): gated skipped"))
    print(f"{'input':<18}{'top-tag accuracy':>18}{'ms p50':>9}")
    for n in names:
        print(f"{n:<18}{hits[n] / len(cases):>18.3f}{statistics.median(times[n]):>9.2f}")
    if image_weights:
        print(f"gated: image weight 1-w median {statistics.median(image_weights):.2f}, "
              f"range {min(image_weights):.2f}-{max(image_weights):.2f}")
    for label, n, med, p99 in lat_rows:
        print(f"ocr-bench metric=latency images={label.split(',')[0].replace(' ', '_')} median_ms={med:.1f} p99_ms={p99:.1f}")
    for n in names:
        print(f"ocr-bench metric=top_tag_accuracy input={n.replace(' ', '_')} value={hits[n] / len(cases):.3f}")
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
