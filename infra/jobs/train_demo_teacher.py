"""Train the DEMO teacher: a small model of the ERNIE architecture (paddlenlp ErnieModel,
character vocabulary) trained from scratch on the project's synthetic data/users.jsonl.

It is NOT pretrained ERNIE and knows only what the demo data teaches it (data/generate.py:
named entities, occupations, slang, negation, noise; see data/README.md). It exists so that
`make demo` runs end to end on machines that cannot download ernie-3.0-medium-zh. Objective:
supervised contrastive learning on the users' tags (positives: users in the batch who
share a tag) plus a multi-label tag head, so that [CLS] vectors cluster by interest. Users who
state no interest (tags: []) form a class of their own here (``NO_INTEREST``), so that texts
without an interest signal land next to them rather than next to a random interest.

Dictionary rows (``--lexicon``): every alias of the generator's *training* families (data/generate.py,
never a held-out or calibration family) is added once per epoch as a row of its own, labelled with its
family's tag ("原神" -> 游戏). In the 20,000 bios a named thing occurs a handful of times at most, so a
small model trained from scratch barely ties it to its interest; the rows tie every name once per epoch.
They train the encoder only: the index holds the users alone.

Batches are drawn from length buckets (shuffled, then sorted by length within pools of
50 batches): on 2 CPU cores the cost is the padded token count, and bucketing cuts it by ~40%.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from infra.flags import add_max_seq_len, add_model_shape, add_training
from infra.progress import bar, summary

DEMO_TEACHER_ID = "coldstart-demo-teacher"
NO_INTEREST = "∅"  # training-only class for users with tags: [] (never written into any output)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", default="data/users.jsonl", help="training users (JSONL with text, tags)")
    p.add_argument("--heldout", default="data/heldout.jsonl", help="phrase-disjoint texts to report accuracy on")
    p.add_argument("--out", default="build/demo-teacher", help="model directory to write")
    # 2 x 128: on the shared 2-core box a 2 x 256 model trained at ~11 texts/s (16k users: 24 min an
    # epoch); 2 x 128 is ~3x faster and still holds the lexicons' few thousand entity families.
    add_model_shape(p, hidden=128, layers=2, heads=2, intermediate=512)
    add_max_seq_len(p, 128)
    add_training(p, epochs=3, batch_size=64, lr=1e-3, seed=20261127)
    p.add_argument("--temperature", type=float, default=0.1, help="temperature of the contrastive loss")
    p.add_argument("--lexicon", default="data/generate.py",
                   help="generator whose training families' aliases become dictionary rows ('' for none)")
    p.add_argument("--force", action="store_true", help="retrain even if --out matches data and settings")


def _settings(args) -> dict:
    keys = ("hidden_size", "layers", "heads", "intermediate_size", "max_seq_len", "epochs",
            "batch_size", "lr", "temperature", "seed")
    settings = {k: getattr(args, k) for k in keys}
    if args.lexicon:
        settings["lexicon_sha256"] = _dictionary_sha256(dictionary_rows(args.lexicon))
    return settings


def dictionary_rows(generator: str):
    """(alias, tag) for every alias of the generator's training families, in its fixed order."""
    import importlib.util
    import sys

    path = Path(generator)
    if not path.is_file():
        raise FileNotFoundError(f"--lexicon {generator}: no such generator file")
    spec = importlib.util.spec_from_file_location("coldstart_demo_generate", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return [(alias, f.tag) for f in module.family_split(module.DEFAULT_SEED)["train"] for alias in f.aliases]


def _dictionary_sha256(rows) -> str:
    import hashlib

    return hashlib.sha256("\n".join(f"{a}\t{t}" for a, t in rows).encode("utf-8")).hexdigest()


def run(args: argparse.Namespace) -> int:
    from coldstart.hashing import sha256_file
    from infra.teacher import MODEL_CARD

    out = Path(args.out)
    data_sha = sha256_file(args.data)
    card_path = out / MODEL_CARD
    if card_path.is_file() and not args.force:
        card = json.loads(card_path.read_text(encoding="utf-8"))
        if card.get("train", {}).get("data_sha256") == data_sha and card["train"].get("settings") == _settings(args):
            summary("train-demo-teacher", status="up-to-date", out=str(out),
                    heldout_top_tag_acc=card.get("eval", {}).get("heldout_top_tag_acc"))
            return 0
    return _train(args, data_sha)


def _train(args, data_sha: str) -> int:
    import numpy as np
    import paddle
    import paddle.nn.functional as F
    from paddlenlp.transformers import ErnieConfig, ErnieModel, ErnieTokenizer

    from coldstart.preprocess import prepare_text
    from infra.char_vocab import build_char_vocab, write_vocab
    from infra.inputs import read_input_lines
    from infra.records import parse_records
    from infra.teacher import MODEL_CARD, pick_device

    started = time.time()
    pick_device("auto")
    paddle.seed(args.seed)
    rng = np.random.default_rng(args.seed)
    lines, source, _ = read_input_lines(args.data)
    records = parse_records(iter(lines), source).records
    texts = [prepare_text(r.text)[0] for r in records]
    tag_names = sorted({t for r in records for t in r.tags}) + [NO_INTEREST]
    dictionary = [(prepare_text(a)[0], t) for a, t in dictionary_rows(args.lexicon)] if args.lexicon else []
    dictionary = [(a, t) for a, t in dictionary if a and t in tag_names]
    labels = np.zeros((len(records) + len(dictionary), len(tag_names)), dtype="float32")
    for i, r in enumerate(records):
        for t in r.tags or (NO_INTEREST,):
            labels[i, tag_names.index(t)] = 1.0
    for j, (_, t) in enumerate(dictionary):
        labels[len(records) + j, tag_names.index(t)] = 1.0
    train_texts = texts + [a for a, _ in dictionary]

    from coldstart.release import staged_directory

    with staged_directory(Path(args.out).resolve()) as staging:  # the model dir is replaced whole
        write_vocab(build_char_vocab(train_texts), staging / "vocab.txt")
        tokenizer = ErnieTokenizer(vocab_file=str(staging / "vocab.txt"))
        config = ErnieConfig(vocab_size=len(tokenizer.vocab), hidden_size=args.hidden_size,
                             num_hidden_layers=args.layers, num_attention_heads=args.heads,
                             intermediate_size=args.intermediate_size, max_position_embeddings=max(128, args.max_seq_len),
                             type_vocab_size=4, pad_token_id=tokenizer.pad_token_id,
                             hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1)
        model = ErnieModel(config)
        head = paddle.nn.Linear(args.hidden_size, len(tag_names))
        steps_per_epoch = len(_length_batches(np.ones(len(train_texts)), args.batch_size, rng=None))
        total_steps = steps_per_epoch * args.epochs
        schedule = paddle.optimizer.lr.OneCycleLR(max_learning_rate=args.lr, total_steps=total_steps,
                                                 phase_pct=0.1)
        optimizer = paddle.optimizer.AdamW(learning_rate=schedule, weight_decay=0.01,
                                           parameters=model.parameters() + head.parameters())
        enc = tokenizer(train_texts, max_length=args.max_seq_len, padding="max_length", truncation=True,
                        return_attention_mask=True)
        ids_all = np.asarray(enc["input_ids"], dtype="int64")
        mask_all = np.asarray(enc["attention_mask"], dtype="float32")
        model.train()
        last_loss = 0.0
        with bar(total_steps, "train demo teacher", unit="step") as progress:
            lengths = mask_all.sum(axis=1)
            for epoch in range(args.epochs):
                for idx in _length_batches(lengths, args.batch_size, rng):
                    length = int(mask_all[idx].sum(axis=1).max())
                    ids = paddle.to_tensor(ids_all[idx, :length])
                    mask = paddle.to_tensor(mask_all[idx, :length])
                    y = paddle.to_tensor(labels[idx])
                    cls = model(ids, attention_mask=mask)[0][:, 0]
                    loss = _supcon(F.normalize(cls, axis=1), y, args.temperature)
                    loss = loss + F.binary_cross_entropy_with_logits(head(cls), y)
                    loss.backward()
                    optimizer.step()
                    optimizer.clear_grad()
                    schedule.step()
                    last_loss = float(loss)
                    progress.set_postfix(epoch=epoch + 1, loss=f"{last_loss:.3f}")
                    progress.update(1)
        model.eval()
        model.save_pretrained(str(staging))
        tokenizer.save_pretrained(str(staging))
        accuracy = _heldout_accuracy(args, model, tokenizer, texts, records)
        card = {
            "id": DEMO_TEACHER_ID, "demo": True,
            "description": ("DEMO teacher trained from scratch by `python -m infra train-demo-teacher` on the "
                            "synthetic data/users.jsonl. Not pretrained ERNIE: use ernie-3.0-medium-zh in production."),
            "architecture": "ErnieModel", "hidden_size": args.hidden_size, "layers": args.layers,
            "train": {"data_sha256": data_sha, "settings": _settings(args), "final_loss": round(last_loss, 4),
                      "dictionary_rows": len(dictionary),
                      "seconds": round(time.time() - started, 1)},
            "eval": {"heldout_top_tag_acc": accuracy},
        }
        (staging / MODEL_CARD).write_text(json.dumps(card, ensure_ascii=False, indent=2), encoding="utf-8")
    summary("train-demo-teacher", status="trained", demo=True, out=str(args.out), final_loss=f"{last_loss:.3f}",
            heldout_top_tag_acc=accuracy, seconds=f"{time.time() - started:.1f}")
    return 0


def _length_batches(lengths, batch_size: int, rng):
    """Index batches of similar length: shuffle, sort within pools of 50 batches, shuffle the batches.
    With rng=None only the batch count matters (it does not depend on the order)."""
    import numpy as np

    n = len(lengths)
    order = rng.permutation(n) if rng is not None else np.arange(n)
    pool = batch_size * 50
    batches = []
    for start in range(0, n, pool):
        chunk = order[start:start + pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    if rng is not None:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def _supcon(z, y, temperature: float):
    """Supervised contrastive loss; positives: other rows of the batch sharing any tag."""
    import paddle

    n = z.shape[0]
    positives = (paddle.matmul(y, y, transpose_y=True) > 0).astype("float32")
    eye = paddle.eye(n)
    positives = positives * (1 - eye)
    logits = paddle.matmul(z, z, transpose_y=True) / temperature - eye * 1e9
    log_prob = logits - paddle.logsumexp(logits, axis=1, keepdim=True)
    per_row = (positives * log_prob).sum(axis=1) / positives.sum(axis=1).clip(min=1.0)
    return -per_row.mean()


def _heldout_accuracy(args, model, tokenizer, train_texts, records):
    """kNN (k=10) top-tag accuracy of held-out texts against the training users."""
    import os

    import numpy as np

    from coldstart.preprocess import prepare_text
    from infra.teacher import Teacher

    if not os.path.exists(args.heldout):
        return None
    held = [json.loads(line) for line in open(args.heldout, encoding="utf-8") if line.strip()]
    teacher = Teacher(id=DEMO_TEACHER_ID, tokenizer=tokenizer, model=model, weights_sha256="", dim=args.hidden_size,
                      demo=True, max_seq_len=args.max_seq_len)
    users = teacher.encode(train_texts)
    queries = teacher.encode([prepare_text(h["text"])[0] for h in held])
    top = np.argsort(-(queries @ users.T), axis=1)[:, :10]
    hits = rows = 0
    for row, h in zip(top, held):
        if not h["tags"]:
            continue
        votes = {}
        for j in row:
            for t in records[j].tags:
                votes[t] = votes.get(t, 0) + 1
        rows += 1
        hits += bool(votes) and max(votes, key=votes.get) in h["tags"]
    return round(hits / max(rows, 1), 4)
