"""Flags several jobs share, spelled and explained once (embed, distill, train-demo-teacher)."""
from __future__ import annotations

import argparse


def add_device(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "gpu"],
                   help="auto: the GPU when Paddle is a CUDA build and sees one, else the CPU")


def add_model_shape(p: argparse.ArgumentParser, hidden: int, layers: int, heads: int, intermediate: int) -> None:
    """The ERNIE shape of a model this job creates."""
    p.add_argument("--hidden-size", type=int, default=hidden, help="width of the hidden states")
    p.add_argument("--layers", type=int, default=layers, help="transformer layers")
    p.add_argument("--heads", type=int, default=heads, help="attention heads (must divide --hidden-size)")
    p.add_argument("--intermediate-size", type=int, default=intermediate, help="feed-forward width")


def add_training(p: argparse.ArgumentParser, epochs: int, batch_size: int, lr: float, seed: int,
                 epochs_help: str = "passes over the training texts") -> None:
    p.add_argument("--epochs", type=int, default=epochs, help=epochs_help)
    p.add_argument("--batch-size", type=int, default=batch_size, help="texts per optimiser step")
    p.add_argument("--lr", type=float, default=lr, help="peak learning rate (one-cycle schedule)")
    p.add_argument("--seed", type=int, default=seed, help="random seed (same seed, same model)")


def add_max_seq_len(p: argparse.ArgumentParser, default: int) -> None:
    p.add_argument("--max-seq-len", type=int, default=default, help="tokens per text; longer texts are truncated")
