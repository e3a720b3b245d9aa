"""The student encoder on ONNX Runtime: text ids in, L2-normalised vector in the teacher's space out.

The exported graph takes four inputs (Paddle Lite cannot build position ids itself):
input_ids, token_type_ids, position_ids (int64 [batch, seq]) and attention_mask
(float32 [batch, 1, 1, seq], 0 for tokens and -1e4 for padding). ``model_inputs`` builds them.
"""
from __future__ import annotations

from typing import Dict, Optional, Sequence

import numpy as np

INPUT_NAMES = ("input_ids", "token_type_ids", "position_ids", "attention_mask")
_NEG = np.float32(-1e4)


def model_inputs(input_ids: np.ndarray, attention_mask: np.ndarray,
                 token_type_ids: Optional[np.ndarray] = None) -> Dict[str, np.ndarray]:
    input_ids = np.asarray(input_ids, dtype=np.int64)
    if input_ids.ndim == 1:
        input_ids = input_ids[None, :]
        attention_mask = np.asarray(attention_mask)[None, :]
        token_type_ids = None if token_type_ids is None else np.asarray(token_type_ids)[None, :]
    batch, seq = input_ids.shape
    mask = np.asarray(attention_mask, dtype=np.float32).reshape(batch, 1, 1, seq)
    return {
        "input_ids": input_ids,
        "token_type_ids": (np.zeros_like(input_ids) if token_type_ids is None
                           else np.asarray(token_type_ids, dtype=np.int64)),
        "position_ids": np.broadcast_to(np.arange(seq, dtype=np.int64), (batch, seq)).copy(),
        "attention_mask": (1.0 - mask) * _NEG,
    }


class OnnxEncoder:
    """One ONNX Runtime session; thread count fixed at load (Lambda: 1 vCPU per 1,769 MB)."""

    def __init__(self, model_path: str, threads: int = 1):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])
        self.output_name = self.session.get_outputs()[0].name
        self.dim = int(self.session.get_outputs()[0].shape[-1])

    def encode_ids(self, input_ids: np.ndarray, attention_mask: np.ndarray,
                   token_type_ids: Optional[np.ndarray] = None) -> np.ndarray:
        feeds = model_inputs(input_ids, attention_mask, token_type_ids)
        return self.session.run([self.output_name], feeds)[0]

    def encode_batches(self, batches: Sequence[Dict[str, np.ndarray]]) -> np.ndarray:
        return np.concatenate([self.encode_ids(b["input_ids"], b["attention_mask"], b.get("token_type_ids"))
                               for b in batches])
