"""The pseudonym key on the batch side: every job that names users loads it the same way.

``--pseudonym-key-file`` (default: ``COLDSTART_PSEUDONYM_KEY_FILE``). The GPU batch image gets the
file from AWS Secrets Manager (infra/batch.yaml); ``make demo`` creates a throwaway one in
build/demo/. ``python -m infra new-key --out FILE`` writes a new random key (0600).
See coldstart.pseudonyms for what the key protects and how to rotate it.
"""
from __future__ import annotations

import argparse
import os

from coldstart.errors import ConfigError
from coldstart.pseudonyms import KEY_FILE_ENV, Pseudonymizer


def add_key_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pseudonym-key-file", default=None, metavar="FILE",
                   help=f"keys for user pseudonyms, current first (default: ${KEY_FILE_ENV}); "
                        "create one with `python -m infra new-key --out FILE`")


def load_keys(args: argparse.Namespace) -> Pseudonymizer:
    path = getattr(args, "pseudonym_key_file", None) or os.environ.get(KEY_FILE_ENV)
    if not path:
        raise ConfigError(f"no pseudonym key: pass --pseudonym-key-file or set {KEY_FILE_ENV} "
                          "(create one with `python -m infra new-key --out FILE`)")
    return Pseudonymizer.from_file(path)
