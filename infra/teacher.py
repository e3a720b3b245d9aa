"""The teacher: a full ERNIE (PaddleNLP name or local directory) that embeds active users.

Its [CLS] vectors, L2-normalised, define the space the index and the student live in.
Imports paddle: batch side only.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, List, Optional, Sequence

import numpy as np

from coldstart.errors import ConfigError
from coldstart.release import TeacherInfo

DEFAULT_TEACHER = "ernie-3.0-medium-zh"
MODEL_CARD = "coldstart_model.json"  # marks a model this project made (e.g. the demo teacher)


def quiet_paddlenlp() -> None:
    """PaddleNLP logs every file it loads at INFO; the jobs print their own summaries."""
    from paddlenlp.utils.log import logger

    logger.set_level("WARNING")


def pick_device(device: str = "auto") -> str:
    import paddle

    quiet_paddlenlp()

    if device == "auto":
        has_gpu = paddle.device.is_compiled_with_cuda() and paddle.device.cuda.device_count() > 0
        device = "gpu" if has_gpu else "cpu"
    paddle.set_device(device)
    if device == "cpu":
        # Paddle pins its CPU kernels to one thread by default; use the machine (1.6x on 2 cores).
        from paddle.base import core

        core.set_num_threads(int(os.environ.get("COLDSTART_CPU_THREADS", os.cpu_count() or 1)))
    return device


def state_dict_sha256(model: Any) -> str:
    """Hash of the weights themselves (names + float bytes), independent of file format."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(tensor.numpy()).tobytes())
    return digest.hexdigest()


@dataclass
class Teacher:
    id: str
    tokenizer: Any
    model: Any
    weights_sha256: str
    dim: int
    demo: bool
    max_seq_len: int = 128

    @property
    def info(self) -> TeacherInfo:
        return TeacherInfo(id=self.id, weights_sha256=self.weights_sha256, dim=self.dim, demo=self.demo)

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """L2-normalised [CLS] vectors, float32, in input order (batches sorted by length)."""
        import paddle

        order = np.argsort([len(t) for t in texts], kind="stable")
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        self.model.eval()
        with paddle.no_grad():
            for start in range(0, len(texts), batch_size):
                idx = order[start:start + batch_size]
                out[idx] = self._encode_batch([texts[i] for i in idx])
        return out

    def _encode_batch(self, texts: List[str]) -> np.ndarray:
        import paddle

        enc = self.tokenizer(texts, max_length=self.max_seq_len, padding=True, truncation=True,
                             return_attention_mask=True)
        input_ids = paddle.to_tensor(np.asarray(enc["input_ids"], dtype="int64"))
        token_type_ids = paddle.to_tensor(np.asarray(enc["token_type_ids"], dtype="int64"))
        mask = paddle.to_tensor(np.asarray(enc["attention_mask"], dtype="float32"))
        sequence_output = self.model(input_ids, token_type_ids=token_type_ids, attention_mask=mask)[0]
        cls = sequence_output[:, 0].numpy().astype(np.float32)
        return cls / np.maximum(np.linalg.norm(cls, axis=1, keepdims=True), 1e-12)


def teacher_load_failure(name_or_dir: str, is_dir: bool, exc: BaseException) -> str:
    """One line for a teacher that did not load. PaddleNLP wraps an unreachable model hub in an
    OSError ("Can't load the model for …") after five chained tracebacks; the cause is the network."""
    if not is_dir and _network_failure(exc):
        return (f"cannot download teacher {name_or_dir!r}: the model hub (bj.bcebos.com) is unreachable; "
                "use a local model directory instead (--teacher DIR; README, \"Swapping in real ERNIE\": "
                "save_pretrained on a machine with access), or for the demo `--teacher models/demo-teacher`")
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"cannot load teacher {name_or_dir!r}: {exc.__class__.__name__}: {first[:200]}"


def _network_failure(exc: BaseException) -> bool:
    import socket

    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        name = type(exc).__name__
        if isinstance(exc, (socket.gaierror, ConnectionError, TimeoutError)) or name in (
                "NameResolutionError", "MaxRetryError", "ConnectTimeout", "ReadTimeout", "NewConnectionError", "ConnectionError"):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def read_model_card(path: str) -> Optional[dict]:
    card = Path(path) / MODEL_CARD
    return json.loads(card.read_text(encoding="utf-8")) if card.is_file() else None


def load_teacher(name_or_dir: str = DEFAULT_TEACHER, max_seq_len: int = 128, device: str = "auto") -> Teacher:
    """Load by PaddleNLP name (downloaded on first use, needs the network) or local directory."""
    pick_device(device)
    from paddlenlp.transformers import AutoModel, AutoTokenizer

    is_dir = os.path.isdir(name_or_dir)
    if not is_dir and ("/" in name_or_dir or name_or_dir.startswith(".")):
        raise ConfigError(f"teacher directory {name_or_dir!r} does not exist (pass --teacher DIR or a PaddleNLP name)")
    try:
        tokenizer = AutoTokenizer.from_pretrained(name_or_dir)
        model = AutoModel.from_pretrained(name_or_dir)
    except Exception as exc:  # paddlenlp raises many kinds; the cause matters most
        raise ConfigError(teacher_load_failure(name_or_dir, is_dir, exc)) from exc
    card = read_model_card(name_or_dir) if is_dir else None
    teacher_id = (card or {}).get("id") or (Path(name_or_dir).resolve().name if is_dir else name_or_dir)
    return Teacher(
        id=teacher_id,
        tokenizer=tokenizer,
        model=model,
        weights_sha256=state_dict_sha256(model),
        dim=int(model.config.hidden_size),
        demo=bool((card or {}).get("demo", False)),
        max_seq_len=max_seq_len,
    )
