"""Write a new random pseudonym key file (32 bytes, hex, mode 0600).

To rotate, put the new key on the FIRST line of the deployment's key (file or secret) and keep the
old ones below it; see SECURITY.md, "Rotating the pseudonym key".
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, help="file to create (refused if it exists)")


def run(args: argparse.Namespace) -> int:
    from coldstart.errors import ConfigError
    from coldstart.pseudonyms import Pseudonymizer, new_key_text

    path = Path(args.out)
    if path.exists():
        raise ConfigError(f"{path} exists; a key is never overwritten (move it away first)")
    path.parent.mkdir(parents=True, exist_ok=True)
    text = new_key_text()
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(text)
    print(f"new-key: wrote {path} (key id {Pseudonymizer.from_text(text).key_id}, mode 0600)")
    return 0


def ensure_key_file(path: str) -> str:
    """Create ``path`` with a fresh key unless it exists (the demo's throwaway key)."""
    if not Path(path).exists():
        run(argparse.Namespace(out=path))
    return path
