"""Coverage-guided fuzzing (atheris / libFuzzer) of one target, in its own process.

    python -m tests.fuzz.atheris_main TARGET [libFuzzer args...] CORPUS_DIR [SEED_DIR...]

TARGET is one of: handler, pii, tokenizer, manifest, image. The coldstart modules (and
function/app.py for the handler) are imported under ``atheris.instrument_imports`` so that
libFuzzer sees their branch coverage. The handler target needs ``COLDSTART_FUZZ_RELEASE``
(a directory store with current.json) and ``COLDSTART_FUZZ_CACHE`` (a scratch directory).

An oracle violation (tests/fuzz/targets.py) is an uncaught exception: libFuzzer stops,
writes the input to ``<artifact_prefix>crash-<sha1>`` and exits non-zero. A per-input hang
is caught by libFuzzer's ``-timeout`` (``timeout-<sha1>``). ``tests/fuzz/run.py`` drives this.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for _p in (ROOT, ROOT / "layer", ROOT / "function"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

import atheris  # noqa: E402

_IMAGE = len(sys.argv) > 1 and sys.argv[1] == "image"
# Pillow's format plugins are Python: instrument them too when fuzzing the image decoder.
with atheris.instrument_imports(include=["coldstart", "app"] + (["PIL"] if _IMAGE else [])):
    if _IMAGE:
        from PIL import Image, ImageOps, JpegImagePlugin, PngImagePlugin, WebPImagePlugin  # noqa: F401
    import coldstart.api  # noqa: F401
    import coldstart.manifest  # noqa: F401
    import coldstart.ocr  # noqa: F401
    import coldstart.pii  # noqa: F401
    coldstart.pii.default_engine()  # the engine and its recognizers load on first use: here, instrumented
    import coldstart.release  # noqa: F401
    import coldstart.service  # noqa: F401
    import coldstart.text  # noqa: F401
    import coldstart.tokenizer  # noqa: F401

from tests.fuzz import plant, targets  # noqa: E402


def _digest(data: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


def _planted(data: bytes, count: int):
    h = _digest(data)
    return [plant.make(h >> (3 * i), (h >> 8) + 7919 * i, (h >> 40) + i) for i in range(count)]


def _text(data: bytes) -> str:
    # surrogateescape: lone surrogates reach the service too (JSON "\ud800" escapes)
    return data.decode("utf-8", "surrogateescape")


def pii_input(data: bytes) -> None:
    text = _text(data)
    targets.check_mask(text)
    targets.check_normalize(text, len(data) % 50 if len(data) % 3 == 0 else None)
    planted = _planted(data, 1 + len(data) % 3)
    cut = _digest(data[:8]) % (len(text) + 1)
    targets.check_mask(text[:cut] + "".join(p.framed() for p in planted) + text[cut:], planted)


_TOKENIZERS = []


def tokenizer_input(data: bytes) -> None:
    if not _TOKENIZERS:
        from coldstart.tokenizer import WordPieceTokenizer

        vocab = targets.tiny_vocab()
        _TOKENIZERS.extend([WordPieceTokenizer(vocab, max_seq_len=128), WordPieceTokenizer(vocab, max_seq_len=8),
                            WordPieceTokenizer(vocab, max_seq_len=16, atomic_special_tokens=False)])
    tok = _TOKENIZERS[len(data) % len(_TOKENIZERS)]
    text = _text(data)
    if "\x1f" in text:
        a, b = text.split("\x1f", 1)
        targets.check_tokenizer(tok, a, b)
    else:
        targets.check_tokenizer(tok, text)


def manifest_input(data: bytes) -> None:
    if not data:
        targets.check_current(None)
        return
    kind, doc = data[0] % 3, data[1:]
    if kind == 0:
        targets.check_current(doc)
    elif kind == 1:
        targets.check_release_manifest(doc)
    else:
        try:
            value = json.loads(doc)
        except (ValueError, RecursionError):
            return  # the index reader gets parsed JSON (manifest.read_json handles the bytes)
        targets.check_index_manifest(value)


def image_input(data: bytes) -> None:
    targets.check_image(data)


_HARNESS = []


def handler_input(data: bytes) -> None:
    if not _HARNESS:
        with atheris.instrument_imports(include=["app"]):
            _HARNESS.append(targets.HandlerHarness(os.environ["COLDSTART_FUZZ_RELEASE"],
                                                   os.environ["COLDSTART_FUZZ_CACHE"]))
    harness = _HARNESS[0]
    h = _digest(data)
    planted = _planted(data, 1 + h % 2)
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        value = None
    if isinstance(value, dict) and ("httpMethod" in value or "version" in value or "requestContext" in value):
        event = value  # a whole event (garbage events included)
        body = event.get("body")
        if isinstance(body, str) and not event.get("isBase64Encoded"):
            try:
                parsed = json.loads(body)
            except (ValueError, RecursionError):
                parsed = None
            if isinstance(parsed, dict) and isinstance(parsed.get("text"), str):
                event = dict(event, body=json.dumps(targets.profile_body(
                    parsed["text"], planted, parsed.get("fields") if isinstance(parsed.get("fields"), dict) else None,
                    {k: v for k, v in parsed.items() if k not in ("text", "fields")}, where=h >> 5),
                    ensure_ascii=bool(h & 64)))
            else:
                planted = []
        else:
            planted = []
        harness(event, planted)
        return
    if isinstance(value, dict) and isinstance(value.get("text"), str):  # a body: plant, serialise
        body = json.dumps(targets.profile_body(
            value["text"], planted, value.get("fields") if isinstance(value.get("fields"), dict) else None,
            {k: v for k, v in value.items() if k not in ("text", "fields")}, where=h >> 5), ensure_ascii=bool(h & 64))
    else:
        body, planted = data, []  # raw bytes as the body
    event = targets.make_event(body, v2=bool(h & 1), method=targets.METHODS[(h >> 1) % 8] if h & 0x300 == 0 else "POST",
                               path=targets.PATHS[(h >> 4) % len(targets.PATHS)] if h & 0xC00 == 0 else "/profile",
                               content_type=targets.CONTENT_TYPES[(h >> 12) % len(targets.CONTENT_TYPES)]
                               if h & 0x30000 == 0 else "application/json",
                               b64=bool(h & 0x40000), header_name="content-type" if h & 0x80000 else "Content-Type")
    harness(event, planted)


TARGETS = {"handler": handler_input, "pii": pii_input, "tokenizer": tokenizer_input, "manifest": manifest_input,
           "image": image_input}


def _keeping_failures(target, artifacts: str):
    """Write the input of any failure to <artifacts>failure-<sha1> before libFuzzer handles it
    (its own crash-<sha1> is lost when a signal interrupts the crash handler)."""
    def one_input(data: bytes) -> None:
        try:
            target(data)
        except BaseException:
            if artifacts:
                Path(artifacts + "failure-" + hashlib.sha1(data).hexdigest()).write_bytes(data)
            raise
    return one_input


def main(argv) -> None:
    if len(argv) < 2 or argv[1] not in TARGETS:
        sys.exit(f"usage: python -m tests.fuzz.atheris_main {{{','.join(TARGETS)}}} [libFuzzer args] CORPUS...")
    prefix = next((a.split("=", 1)[1] for a in argv if a.startswith("-artifact_prefix=")), "")
    target = _keeping_failures(TARGETS[argv[1]], prefix)
    atheris.Setup([argv[0]] + argv[2:], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
