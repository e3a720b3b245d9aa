"""Project-made avatars with Chinese text, for training the fusion gate (`infra train-fusion`) and for
measuring OCR and fusion (`bench/ocr.py`). One renderer, so the gate is trained on the same kind of
image it is measured on.

An avatar: square, 256-512 px, light random background, dark text in WenQuanYi Zen Hei (Debian
fonts-wqy-zenhei; the three faces of the .ttc), wrapped in lines, rotated up to ±6°, Gaussian noise,
sometimes blurred, saved as JPEG or PNG.

A demo row ``{"text", "tags"}`` becomes an ``AvatarCase``: the user *typed* only the first
``typed_chars`` characters (short on purpose: the cold-start case the avatar is meant to help) and the
avatar carries the rest.
"""
from __future__ import annotations

import io
import random
from dataclasses import dataclass, field
from typing import Iterable, List, Sequence

import numpy as np

FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
FONT_FACES = (0, 1, 2)       # WenQuanYi Zen Hei, Zen Hei Mono, Zen Hei Sharp
SIDES = (256, 320, 384, 512)
MIN_IMAGE_CHARS = 6          # rows whose avatar part would be shorter are not used


def _font(size: int, face: int):
    from PIL import ImageFont

    try:
        return ImageFont.truetype(FONT, size, index=face)
    except OSError:
        raise FileNotFoundError(f"{FONT} is missing: install Debian fonts-wqy-zenhei (`make fonts-setup`)") from None


def render_avatar(text: str, rng: random.Random) -> bytes:
    """``text`` drawn on a random avatar-sized image (JPEG or PNG bytes); deterministic for one ``rng`` state."""
    from PIL import Image, ImageDraw, ImageFilter

    side = rng.choice(SIDES)
    bg = tuple(rng.randint(170, 255) for _ in range(3))
    fg = tuple(rng.randint(0, 70) for _ in range(3))
    size = rng.randint(max(18, side // 14), side // 9)
    font = _font(size, rng.choice(FONT_FACES))
    per_line = max(4, (side - 20) // size)
    lines = [text[i:i + per_line] for i in range(0, len(text), per_line)][: max(1, (side - 20) // (size + 8))]
    img = Image.new("RGB", (side, side), bg)
    draw = ImageDraw.Draw(img)
    y = rng.randint(8, 30)
    for line in lines:
        draw.text((10, y), line, font=font, fill=fg)
        y += size + 8
    img = img.rotate(rng.uniform(-6, 6), resample=Image.BICUBIC, fillcolor=bg)
    noise = np.random.default_rng(rng.randint(0, 1 << 30)).normal(0, 8, (side, side, 3))
    img = Image.fromarray(np.clip(np.asarray(img).astype(np.int16) + noise.astype(np.int16), 0, 255).astype(np.uint8))
    if rng.random() < 0.3:
        img = img.filter(ImageFilter.GaussianBlur(0.6))
    out = io.BytesIO()
    if rng.random() < 0.5:
        img.save(out, "JPEG", quality=rng.randint(70, 92))
    else:
        img.save(out, "PNG")
    return out.getvalue()


@dataclass(frozen=True)
class AvatarCase:
    key: str                  # user_id or held-out id: lets training leave the user out of its own vote
    typed: str                # what the user typed (short)
    on_image: str             # what the avatar says
    tags: Sequence[str]
    image: bytes = field(repr=False)


def split_row(text: str, typed_chars: int):
    return text[:typed_chars], text[typed_chars:]


def make_cases(rows: Iterable[dict], typed_chars: int, n: int, seed: int) -> List[AvatarCase]:
    """The first ``n`` rows long enough to split, each with its rendered avatar (seeded: reruns match)."""
    rng = random.Random(seed)
    cases = []
    for row in rows:
        if len(cases) >= n:
            break
        if len(row["text"]) < typed_chars + MIN_IMAGE_CHARS:
            continue
        typed, on_image = split_row(row["text"], typed_chars)
        key = str(row.get("user_id") or row.get("id") or len(cases))
        cases.append(AvatarCase(key, typed, on_image, tuple(row["tags"]), render_avatar(on_image, rng)))
    return cases
