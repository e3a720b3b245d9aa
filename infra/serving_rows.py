"""The rows build-index indexes: a stratified sample of the users, at the serving width.

Streams the embedding chunks one at a time (memory: the sample's candidates, ~1.5 x the sample
size, plus one chunk; not the population), samples them (infra/sampling.py) when there are more
users than ``sample``, and, when ``width`` is below the teacher's, learns the projection from the
sample (infra/projection.py) and projects it. The defaults come from the curve bench/scale.py
measures on a synthetic 1M-user population (bench/README.md, "scale.py"): see DEFAULT_SAMPLE and
DEFAULT_WIDTH.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional

import numpy as np

from coldstart.projection import Projection

# Chosen at the knee of bench/scale.py's curve (bench/README.md, 2026-12-05): the smallest index whose
# top tag agrees with the vote over all 1M synthetic users for >= 0.99 of queries on both populations.
# 100k x 128: 0.9947 (demo, 67.5 MB) and 0.9907 (768-d medium, 67.9 MB); 100k x 64 gave 0.9927 and
# 0.9880 (42 MB), 30k x any width 0.96-0.98. A tie for the top score counts as agreement (a third of
# the reference votes are exact ties; strict tie-broken agreement at 100k x 128: 0.89 / 0.86).
DEFAULT_SAMPLE = 100_000
DEFAULT_WIDTH = 128


@dataclass
class ServingRows:
    vectors: np.ndarray            # (n, width) float32, L2-normalised, in the index's order
    user_keys: List[str]
    tags: List[List[str]]
    population: int                # users in the embeddings
    sample: Optional[Dict[str, Any]]        # the SampleReport, or None when every user is indexed
    projection: Optional[Projection]        # None at the teacher's width

    def manifest_extra(self) -> Dict[str, Any]:
        """What the index manifest's ``extra`` records about the rows (the projection has its own
        typed field, ``IndexManifest.projection``)."""
        return {"population": self.population, "sample": self.sample}


def load_serving_rows(store, spec, sample: int, width: int, seed: int = 0,
                      log: Callable[[str], None] = print, reuse: Optional[Projection] = None) -> ServingRows:
    """Read every chunk once; sample to ``sample`` users (0: all) and reduce to ``width`` dims
    (0, or >= the teacher's dim: the teacher's width). ``reuse``: apply this projection instead of
    fitting one (the daily refresh keeps the one folded into the current student, so the student
    can be carried forward)."""
    from infra.embeddings import iter_chunks
    from infra.projection import fit_projection
    from infra.sampling import StratifiedSampler

    population, dim = spec.count, spec.teacher.dim
    if sample and sample < population:
        sampler = StratifiedSampler(sample, population, seed=seed)
        for chunk in iter_chunks(store, spec):
            sampler.offer(chunk.vectors, chunk.user_keys, chunk.tags, chunk.activity)
        chosen = sampler.finish()
        vectors, user_keys, tags, report = chosen.vectors, chosen.user_keys, chosen.tags, chosen.report.to_dict()
        log(f"sample: {len(user_keys):,} of {population:,} users, {report['strata']} tag-set strata, "
            f"max tag-share error {report['max_tag_share_error']:.4f}, tags missing {report['tags_missing']}, "
            f"activity known for {report['activity_known']:.0%}, seed {seed}")
    else:
        vectors, user_keys, tags, report = _every_row(store, spec)
    projection = None
    if reuse is not None:
        if reuse.source_dim != dim or (width and width < dim and reuse.width != width):
            from coldstart.errors import ConfigError

            raise ConfigError(f"the projection to reuse maps {reuse.source_dim} -> {reuse.width} dims; these embeddings "
                              f"are {dim} wide and --width is {width}: drop --projection to fit a new one")
        projection = reuse
        vectors = projection.apply(vectors)
        log(f"projection: {dim} -> {projection.width} dims reused (fitted with kept energy {projection.kept_energy:.4f})")
    elif width and width < dim:
        projection = fit_projection(vectors, width)
        vectors = projection.apply(vectors)
        log(f"projection: {dim} -> {width} dims (uncentred PCA on {min(len(vectors), 100_000):,} rows), "
            f"kept energy {projection.kept_energy:.4f}")
    return ServingRows(np.ascontiguousarray(vectors, dtype=np.float32), user_keys, tags, population, report,
                       projection)


def _every_row(store, spec):
    """All users, filled chunk by chunk into one preallocated matrix (no list + concatenate copy)."""
    from infra.embeddings import iter_chunks

    vectors = np.empty((spec.count, spec.teacher.dim), dtype=np.float32)
    user_keys: List[str] = []
    tags: List[List[str]] = []
    row = 0
    for chunk in iter_chunks(store, spec):
        if row + len(chunk.vectors) > spec.count:
            from coldstart.errors import InputError

            raise InputError(f"chunks hold more than the {spec.count} vectors embed.json says", store.uri())
        vectors[row:row + len(chunk.vectors)] = chunk.vectors
        row += len(chunk.vectors)
        user_keys.extend(chunk.user_keys)
        tags.extend(chunk.tags)
    return vectors[:row], user_keys, tags, None
