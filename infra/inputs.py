"""Open a job input given as a local path or an s3:// URI."""
from __future__ import annotations

import hashlib
import posixpath
from typing import List, Tuple

from coldstart.storage import open_store


def read_input_lines(uri: str) -> Tuple[List[bytes], str, str]:
    """(lines as bytes, display name, sha256 of the whole input)."""
    if uri.startswith("s3://"):
        parent, key = posixpath.split(uri.rstrip("/"))
        data = open_store(parent).get_bytes(key)
    else:
        with open(uri, "rb") as fh:
            data = fh.read()
    return data.splitlines(), uri, hashlib.sha256(data).hexdigest()
