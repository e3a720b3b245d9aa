"""Tiny models of the ERNIE architecture, built in the tests (no downloads)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

TINY_SHAPE = dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64)


def make_tiny_teacher(path: Path, texts: Iterable[str], seed: int = 0, teacher_id: str = "tiny-test-teacher",
                      **shape) -> Path:
    import paddle
    from paddlenlp.transformers import ErnieConfig, ErnieModel, ErnieTokenizer

    from infra.char_vocab import build_char_vocab, write_vocab
    from infra.teacher import MODEL_CARD

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    write_vocab(build_char_vocab(texts, common=False), path / "vocab.txt")
    tokenizer = ErnieTokenizer(vocab_file=str(path / "vocab.txt"))
    paddle.seed(seed)
    config = ErnieConfig(vocab_size=len(tokenizer.vocab), max_position_embeddings=128, type_vocab_size=4,
                         pad_token_id=tokenizer.pad_token_id, **{**TINY_SHAPE, **shape})
    model = ErnieModel(config)
    model.eval()
    model.save_pretrained(str(path))
    tokenizer.save_pretrained(str(path))
    (path / MODEL_CARD).write_text(json.dumps({"id": teacher_id, "demo": True}), encoding="utf-8")
    return path
