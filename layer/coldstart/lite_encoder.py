"""The student encoder on Paddle Lite (kiosks): the release's ``.nb`` model, same four inputs
and same output as the ONNX encoder. Needs the ``paddlelite`` wheel (Python ≤ 3.10)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, List, Optional

import numpy as np

from .encoder import INPUT_NAMES, model_inputs
from .release import ModelManifest
from .release_loader import EncoderBackend, OnnxBackend


class LiteEncoder:
    def __init__(self, model_path: str, threads: int = 1):
        from paddlelite.lite import MobileConfig, create_paddle_predictor

        config = MobileConfig()
        config.set_model_from_file(model_path)
        if hasattr(config, "set_threads"):  # absent in the x86 2.13rc0 build
            config.set_threads(threads)
        self.predictor = create_paddle_predictor(config)
        names = list(self.predictor.get_input_names()) if hasattr(self.predictor, "get_input_names") else []
        self.order = [names.index(n) for n in INPUT_NAMES] if sorted(names) == sorted(INPUT_NAMES) else [0, 1, 2, 3]

    def encode_ids(self, input_ids: np.ndarray, attention_mask: np.ndarray,
                   token_type_ids: Optional[np.ndarray] = None) -> np.ndarray:
        feeds = model_inputs(input_ids, attention_mask, token_type_ids)
        for name, slot in zip(INPUT_NAMES, self.order):
            self.predictor.get_input(slot).from_numpy(np.ascontiguousarray(feeds[name]))
        self.predictor.run()
        return np.array(self.predictor.get_output(0).numpy(), dtype=np.float32, copy=True)


def default_lite_target(machine: Optional[str] = None) -> str:
    """The Paddle Lite target of this device: "arm" on ARM CPUs, "x86" otherwise."""
    import platform

    m = (machine if machine is not None else platform.machine()).lower()
    return "arm" if m.startswith(("arm", "aarch64")) else "x86"


def lite_available() -> bool:
    """True when the ``paddlelite`` runtime can be imported (Python ≤ 3.10 with the wheel)."""
    try:
        import paddlelite.lite  # noqa: F401
    except Exception:
        return False
    return True


class LiteBackend(EncoderBackend):
    """Kiosk runtime: the release's Paddle Lite ``.nb`` for ``target`` (``serving.lite[target]``)."""

    name = "lite"

    def __init__(self, target: Optional[str] = None):
        self.target = target or default_lite_target()
        if self.target not in ("x86", "arm"):
            raise ValueError(f"unknown Paddle Lite target {self.target!r}: use x86 or arm")

    def model_file(self, model_manifest: ModelManifest) -> str:
        return model_manifest.serving_file("lite", self.target)

    def model_files(self, model_manifest: ModelManifest) -> List[str]:
        return [self.model_file(model_manifest)]

    def create(self, model_dir: Path, model_manifest: ModelManifest, threads: int) -> Any:
        return LiteEncoder(str(model_dir / self.model_file(model_manifest)), threads=threads)


def make_backend(kind: str = "auto", target: Optional[str] = None) -> EncoderBackend:
    """``lite``, ``onnx``, or ``auto`` (Lite when ``paddlelite`` imports, else ONNX Runtime)."""
    if kind == "auto":
        kind = "lite" if lite_available() else "onnx"
    if kind == "lite":
        return LiteBackend(target)
    if kind == "onnx":
        return OnnxBackend()
    raise ValueError(f"unknown backend {kind!r}: use lite, onnx or auto")
