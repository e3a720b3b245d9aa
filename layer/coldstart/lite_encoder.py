"""The student encoder on Paddle Lite (kiosks): the release's ``.nb`` model, same four inputs
and same output as the ONNX encoder. Needs the ``paddlelite`` wheel (Python ≤ 3.10)."""
from __future__ import annotations

from typing import Optional

import numpy as np

from .encoder import INPUT_NAMES, model_inputs


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
