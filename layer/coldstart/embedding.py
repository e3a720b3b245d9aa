"""Masked text → the release's student vector, through the near-duplicate cache.

The cache (``coldstart.cache.SimHashCache``) is keyed by the text's SimHash and emptied when the
release changes: vectors of another student are not comparable.
"""
from __future__ import annotations

import threading
from typing import Optional, Tuple

import numpy as np

from .cache import SimHashCache


class Embedder:
    def __init__(self, cache_size: int = 10000, max_distance: int = 3):
        self.cache: Optional[SimHashCache] = SimHashCache(cache_size, max_distance) if cache_size > 0 else None
        self._cache_version: Optional[str] = None
        self._lock = threading.Lock()

    def embed(self, release, text: str, use_cache: bool = True) -> Tuple[np.ndarray, bool]:
        """(unit vector, cache hit?) for masked, normalised ``text`` under ``release``'s student."""
        cache = self.cache
        if cache is not None and self._cache_version != release.version:
            with self._lock:
                if self._cache_version != release.version:
                    cache.clear()
                    self._cache_version = release.version
        key = None
        if cache is not None and use_cache:
            key = cache.key(text)  # the SimHash once: the lookup and, on a miss, the insert share it
            hit = cache.get(text, key)
            if hit is not None:
                return hit, True
        enc = release.tokenizer.encode(text)
        vector = release.encoder.encode_ids(enc.input_ids, enc.attention_mask, enc.token_type_ids)[0]
        if key is not None:
            cache.put(text, vector, key)
        return vector, False
