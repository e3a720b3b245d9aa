"""Text read from an avatar image (PP-OCRv4 det + cls + rec, ONNX, via ``rapidocr-onnxruntime``).

The models ship inside the ``rapidocr-onnxruntime`` wheel: nothing is downloaded. The package is
imported lazily (first image), so the text-only path never pays for OpenCV/Shapely.

Safety, in order, before any pixel is decoded:
  1. byte limit (``MAX_AVATAR_BYTES``)                              → 413 avatar_too_large
  2. format sniffed from the magic bytes: JPEG, PNG, WebP only      → 415 unsupported_avatar_format
     (GIF, BMP, TIFF, ...), anything else                           → 400 invalid_avatar
  3. width × height read from the header, checked against ``MAX_AVATAR_PIXELS``
     (a decompression bomb is refused before ``load()``)            → 413 avatar_too_many_pixels
  4. decode; truncated or corrupt data                              → 400 invalid_avatar
Then the image is downscaled to at most ``MAX_OCR_SIDE`` px a side (bounded OCR time).

Recognised text goes through ``coldstart.pii.mask_pii`` here, before anything else sees it: an
``OcrResult`` never holds an unmasked line.

``coldstart.service`` hands the masked text on to be fused with the typed text as ``COLDSTART_FUSION``
says (``coldstart.fusion``) and reports what the image changed. An avatar given as ``s3://`` is
fetched by ``coldstart.avatar_source`` before it gets here.
"""
from __future__ import annotations

import io
import threading
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from .api import MAX_AVATAR_BYTES
from .errors import InvalidRequest, OcrUnavailable, PayloadTooLarge, RequestError, UnsupportedMediaType
from .pii import mask_pii
from .text import normalize_text

MAX_AVATAR_PIXELS = 4096 * 4096
MAX_OCR_SIDE = 960          # longest side given to the detector (RapidOCR det_limit_type="max")
MIN_LINE_SCORE = 0.5        # recognition confidence below this is dropped
MAX_OCR_LINES = 20

FORMATS = ("JPEG", "PNG", "WEBP")

_MAGIC_SUPPORTED = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
)
_MAGIC_UNSUPPORTED = (
    (b"GIF87a", "GIF"), (b"GIF89a", "GIF"), (b"BM", "BMP"), (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"),
    (b"\x00\x00\x01\x00", "ICO"), (b"%PDF", "PDF"), (b"8BPS", "PSD"),
)


@dataclass(frozen=True)
class OcrResult:
    lines: List[str]                       # masked, in reading order
    raw_count: int                         # boxes the detector+recogniser returned (before filtering)
    ms: float                              # decode + OCR wall time
    pii_counts: Dict[str, int] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return " ".join(self.lines)

    def __repr__(self) -> str:  # masked text still stays out of logs
        return f"OcrResult(lines={len(self.lines)}, raw_count={self.raw_count}, ms={self.ms:.1f})"


def sniff_format(data: bytes) -> Optional[str]:
    for magic, name in _MAGIC_SUPPORTED:
        if data.startswith(magic):
            return name
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def decode_image(data: bytes, max_bytes: int = MAX_AVATAR_BYTES, max_pixels: int = MAX_AVATAR_PIXELS,
                 max_side: int = MAX_OCR_SIDE):
    """bytes → RGB ``PIL.Image`` no larger than ``max_side`` a side, or a ``RequestError`` (InvalidRequest, PayloadTooLarge, UnsupportedMediaType)."""
    from PIL import Image, ImageOps

    # Defensive global: Pillow warns above MAX_IMAGE_PIXELS and raises above twice that.
    if Image.MAX_IMAGE_PIXELS is None or Image.MAX_IMAGE_PIXELS > max_pixels:
        Image.MAX_IMAGE_PIXELS = max_pixels
    if not data:
        raise InvalidRequest("invalid_avatar", '"avatar" is empty')
    if len(data) > max_bytes:
        raise PayloadTooLarge("avatar_too_large", f'"avatar" is over {max_bytes} bytes')
    fmt = sniff_format(data)
    if fmt is None:
        for magic, name in _MAGIC_UNSUPPORTED:
            if data.startswith(magic):
                raise UnsupportedMediaType("unsupported_avatar_format",
                               f'"avatar" is a {name} image; send JPEG, PNG or WebP')
        raise InvalidRequest("invalid_avatar", '"avatar" is not a JPEG, PNG or WebP image')
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=[fmt])  # reads the header only
            width, height = img.size
            if width <= 0 or height <= 0:
                raise InvalidRequest("invalid_avatar", '"avatar" has no pixels')
            if width * height > max_pixels:
                raise PayloadTooLarge("avatar_too_many_pixels",
                               f'"avatar" is {width}x{height} pixels; the limit is {max_pixels} pixels')
            if fmt == "JPEG":
                img.draft("RGB", (max_side, max_side))  # JPEG decodes straight at a smaller scale
            img.load()
    except RequestError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PayloadTooLarge("avatar_too_many_pixels",
                       f'"avatar" has too many pixels; the limit is {max_pixels} pixels') from None
    except Exception:  # truncated, corrupt, unidentified: Pillow raises OSError/SyntaxError/ValueError/...
        raise InvalidRequest("invalid_avatar", f'"avatar" could not be decoded as {fmt}') from None
    try:
        img = ImageOps.exif_transpose(img)
    except Exception:
        pass  # a broken EXIF block is not worth a refusal
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))  # transparent → white
        img = Image.alpha_composite(background, rgba)
    img = img.convert("RGB")
    if max(img.size) > max_side:
        img.thumbnail((max_side, max_side), Image.BILINEAR)
    return img


class AvatarReader:
    """PP-OCR on avatar-sized images. One engine per process, built on first use; thread-safe."""

    def __init__(self, max_bytes: int = MAX_AVATAR_BYTES, max_pixels: int = MAX_AVATAR_PIXELS,
                 max_side: int = MAX_OCR_SIDE, min_score: float = MIN_LINE_SCORE, threads: int = 1,
                 engine: Any = None):
        self.max_bytes = max_bytes
        self.max_pixels = max_pixels
        self.max_side = max_side
        self.min_score = min_score
        self.threads = threads
        self._engine = engine
        self._lock = threading.Lock()

    def engine(self):
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    try:
                        from rapidocr_onnxruntime import RapidOCR
                    except Exception as exc:  # ImportError, or OpenCV missing a system library
                        raise OcrUnavailable(f"rapidocr-onnxruntime is not importable: {type(exc).__name__}") from None
                    # Defaults upscale small images and take seconds; "max" caps the longest side instead.
                    self._engine = RapidOCR(det_limit_type="max", det_limit_side_len=self.max_side,
                                            intra_op_num_threads=self.threads)
        return self._engine

    def read(self, image_bytes: bytes) -> OcrResult:
        started = time.perf_counter()
        try:  # a kiosk Python without Pillow answers from the text alone, like one without the OCR package
            import numpy as np
            import PIL.Image  # noqa: F401
        except ImportError:
            raise OcrUnavailable("Pillow is not importable") from None
        img = decode_image(image_bytes, self.max_bytes, self.max_pixels, self.max_side)

        bgr = np.ascontiguousarray(np.asarray(img)[:, :, ::-1])
        engine = self.engine()
        with self._lock:  # onnxruntime sessions are thread-safe, RapidOCR's pre/post state is not documented as such
            found, _ = engine(bgr)
        found = found or []
        raw = [str(item[1]) for item in found if len(item) >= 3 and float(item[2]) >= self.min_score]
        lines, counts = mask_lines(raw[:MAX_OCR_LINES])
        return OcrResult(lines=lines, raw_count=len(found), pii_counts=counts,
                         ms=round((time.perf_counter() - started) * 1000.0, 3))


def mask_lines(raw_lines: List[str]):
    """Mask each line; if a number split over two lines only shows up joined, return the joined text."""
    lines: List[str] = []
    counts: Dict[str, int] = {}
    for raw in raw_lines:
        masked = mask_pii(raw)
        for k, v in masked.counts.items():
            counts[k] = counts.get(k, 0) + v
        text = normalize_text(masked.text)
        if text:
            lines.append(text)
    joined = mask_pii(" ".join(normalize_text(r) for r in raw_lines))
    if joined.total > sum(counts.values()):
        text = normalize_text(joined.text)
        return ([text] if text else []), dict(joined.counts)
    return lines, counts


_DEFAULT_READER: Optional[AvatarReader] = None


def default_reader() -> AvatarReader:
    global _DEFAULT_READER
    if _DEFAULT_READER is None:
        _DEFAULT_READER = AvatarReader()
    return _DEFAULT_READER
