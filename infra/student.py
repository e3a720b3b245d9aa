"""The student: a small ERNIE plus a projection into the teacher's space, L2-normalised.

Its forward takes the four explicit inputs Paddle Lite needs (see shared notes: Lite rejects
ERNIE's internal position-id construction): input_ids, token_type_ids, position_ids (int64,
[batch, seq]) and attention_mask (float32, [batch, 1, 1, seq]: 0 for tokens, -1e4 for padding).
Training, export and every runtime use this same forward, so what is measured is what ships.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Dict, Optional, Sequence

import numpy as np

from coldstart.encoder import INPUT_NAMES, model_inputs

STUDENT_CARD = "student.json"
NANO_SHAPE = dict(hidden_size=312, num_hidden_layers=4, num_attention_heads=12, intermediate_size=1248)


@dataclass(frozen=True)
class StudentShape:
    hidden_size: int = 312
    num_hidden_layers: int = 4
    num_attention_heads: int = 12
    intermediate_size: int = 1248


def feed_arrays(input_ids: np.ndarray, attention_mask: np.ndarray, token_type_ids: Optional[np.ndarray] = None
                ) -> Dict[str, np.ndarray]:
    """The four model inputs from tokenizer output (the function serving uses)."""
    return model_inputs(input_ids, attention_mask, token_type_ids)


def build_student_layer(ernie: Any, out_dim: int):
    import paddle

    class StudentEncoder(paddle.nn.Layer):
        def __init__(self, ernie, out_dim):
            super().__init__()
            self.ernie = ernie
            self.proj = paddle.nn.Linear(ernie.config.hidden_size, out_dim)
            self.task_id = int(getattr(ernie.config, "task_id", 0) or 0)
            self.use_task_id = bool(getattr(ernie.config, "use_task_id", False))

        def forward(self, input_ids, token_type_ids, position_ids, attention_mask):
            # task ids derived from an input tensor: a fill_constant of dynamic shape breaks Lite
            task_type_ids = token_type_ids * 0 + self.task_id if self.use_task_id else None
            sequence = self.ernie(input_ids, token_type_ids=token_type_ids, position_ids=position_ids,
                                  attention_mask=attention_mask, task_type_ids=task_type_ids)[0]
            vector = self.proj(sequence[:, 0])
            return vector / paddle.sqrt(paddle.sum(vector * vector, axis=-1, keepdim=True) + 1e-12)

    return StudentEncoder(ernie, out_dim)


def new_student(vocab_size: int, pad_token_id: int, shape: StudentShape, out_dim: int, max_positions: int = 512):
    from paddlenlp.transformers import ErnieConfig, ErnieModel

    config = ErnieConfig(vocab_size=vocab_size, pad_token_id=pad_token_id, type_vocab_size=4,
                         max_position_embeddings=max_positions, **asdict(shape))
    return build_student_layer(ErnieModel(config), out_dim)


def pretrained_student(name_or_dir: str, out_dim: int):
    from paddlenlp.transformers import AutoModel

    return build_student_layer(AutoModel.from_pretrained(name_or_dir), out_dim)


def init_from_teacher(student, teacher_model) -> int:
    """DistilBERT-style start: copy embeddings and evenly spaced layers when widths match.
    Returns the number of tensors copied (0 when the shapes don't fit)."""
    t_state = teacher_model.state_dict()
    s_state = student.ernie.state_dict()
    t_layers = teacher_model.config.num_hidden_layers
    s_layers = student.ernie.config.num_hidden_layers
    picks = np.linspace(0, t_layers - 1, s_layers).round().astype(int) if s_layers > 1 else [0]
    copied = 0
    for name, tensor in s_state.items():
        source = name
        if name.startswith("encoder.layers."):
            idx = int(name.split(".")[2])
            source = name.replace(f"encoder.layers.{idx}.", f"encoder.layers.{picks[idx]}.", 1)
        if source in t_state and list(t_state[source].shape) == list(tensor.shape):
            tensor.set_value(t_state[source])
            copied += 1
    weight = student.proj.weight
    if weight.shape[0] == weight.shape[1]:
        # Same width as the teacher: start the projection at identity, so a student with the
        # teacher's layers starts where the teacher is instead of at a random rotation.
        import paddle

        weight.set_value(paddle.eye(weight.shape[0], dtype=weight.dtype))
        student.proj.bias.set_value(paddle.zeros_like(student.proj.bias))
        copied += 2
    return copied


def save_student(student, tokenizer, out: Path, card: Dict[str, Any]) -> None:
    import paddle

    out.mkdir(parents=True, exist_ok=True)
    student.ernie.save_pretrained(str(out / "ernie"))
    tokenizer.save_pretrained(str(out / "ernie"))
    paddle.save(student.proj.state_dict(), str(out / "proj.pdparams"))
    (out / STUDENT_CARD).write_text(json.dumps(card, ensure_ascii=False, indent=2), encoding="utf-8")


def load_student(path: Path):
    """(student layer in eval mode, tokenizer, card)."""
    import paddle
    from paddlenlp.transformers import AutoTokenizer, ErnieModel

    card = json.loads((path / STUDENT_CARD).read_text(encoding="utf-8"))
    ernie = ErnieModel.from_pretrained(str(path / "ernie"))
    student = build_student_layer(ernie, int(card["out_dim"]))
    student.proj.set_state_dict(paddle.load(str(path / "proj.pdparams")))
    student.eval()
    return student, AutoTokenizer.from_pretrained(str(path / "ernie")), card


def encode_with(student, tokenizer, texts: Sequence[str], max_seq_len: int, batch_size: int = 64) -> np.ndarray:
    """Student vectors with paddle (dygraph), batches sorted by length."""
    import paddle

    order = np.argsort([len(t) for t in texts], kind="stable")
    out = None
    with paddle.no_grad():
        for start in range(0, len(texts), batch_size):
            idx = order[start:start + batch_size]
            enc = tokenizer([texts[i] for i in idx], max_length=max_seq_len, padding=True, truncation=True,
                            return_attention_mask=True)
            feeds = feed_arrays(np.asarray(enc["input_ids"]), np.asarray(enc["attention_mask"]),
                                np.asarray(enc["token_type_ids"]))
            vec = student(*[paddle.to_tensor(feeds[k]) for k in INPUT_NAMES]).numpy()
            if out is None:
                out = np.zeros((len(texts), vec.shape[1]), dtype=np.float32)
            out[idx] = vec
    return out

