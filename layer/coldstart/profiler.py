"""The request path, once: preprocess (mask, normalise) → encode (cached) → neighbours → vote.

Shared by the Lambda and the kiosk. No paddle on this path; the encoder is whatever the
release loader built (ONNX Runtime, or Paddle Lite on a kiosk).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional

import numpy as np

from .cache import SimHashCache
from .errors import ColdstartError
from .experiments import Experiment, resolve
from .keyword_baseline import KeywordProfiler, keyword_or_fallback
from .fusion import DEFAULT_TYPED_WEIGHT, Fused, FusionSelector, concat_text, has_words
from .preprocess import prepare_text
from .profile import REASON_NO_SIGNAL, Profile, ProfileSettings, fallback_profile, has_signal_words, vote
from .calibration import Calibrator, TextEvidence, text_evidence
from .release_loader import LoadedRelease, ReleaseManager
from .settings import ServingSettings

# Sign-up form fields merged after the free text, in this order (others follow, sorted).
FIELD_ORDER = ("bio", "occupation", "education", "interests", "school", "city")


class NotReady(ColdstartError):
    """No release is loaded (never published, or every load failed)."""


@dataclass
class ProfileResult:
    body: Dict[str, Any]                      # the JSON response
    pii_counts: Dict[str, int] = field(default_factory=dict)
    masked_text: str = ""                     # for callers that store the profile (kiosk outbox, profile store)
    vector: Optional[np.ndarray] = None
    fused: Optional[Fused] = None             # how the avatar's text was fused in (None: no image text)
    typed_text: str = ""                      # masked typed text + fields, without the image text
    profile: Optional[Profile] = None         # the vote behind the body (evaluation reads its guess and features)


def compose_text(text: str, fields: Optional[Mapping[str, str]] = None) -> str:
    parts = [text] if text else []
    if fields:
        names = [n for n in FIELD_ORDER if n in fields] + sorted(n for n in fields if n not in FIELD_ORDER)
        parts.extend(fields[n] for n in names if fields[n])
    return "。".join(p.strip() for p in parts if p and p.strip())


def _short_sha(release: LoadedRelease, name: str) -> str:
    entry = release.manifest.files.get(name)
    return entry.sha256[:12] if entry else "none"


class Profiler:
    def __init__(self, manager: ReleaseManager, settings: ServingSettings):
        self.manager = manager
        self.settings = settings
        self.cache: Optional[SimHashCache] = (
            SimHashCache(settings.cache_size, settings.simhash_distance) if settings.cache_size > 0 else None)
        self._cache_version: Optional[str] = None
        self._vote_settings: Dict[tuple, ProfileSettings] = {}
        self._calibration: Optional[tuple] = None  # (release version, Calibrator or None)
        # True: text evidence for every vote, calibrated release or not (the calibrate and evaluate
        # jobs: features must not depend on whether a calibrator exists yet); serving leaves it off
        self.collect_features = False
        self.experiment: Optional[Experiment] = Experiment.parse(settings.experiment)  # invalid → error at init
        self._keywords: Optional[tuple] = None  # (release version, KeywordProfiler or None)
        weight = DEFAULT_TYPED_WEIGHT if settings.fusion_typed_weight is None else settings.fusion_typed_weight
        self.fusion = FusionSelector(settings.fusion, weight)  # an unknown mode → error at init, not per request

    def _keyword_profiler(self, release: LoadedRelease) -> Optional[KeywordProfiler]:
        """The release's keyword table (index/keywords.json), read once per release; None if absent."""
        if self._keywords is None or self._keywords[0] != release.version:
            self._keywords = (release.version, KeywordProfiler.for_release_dir(release.root))
        return self._keywords[1]

    @property
    def release(self) -> Optional[LoadedRelease]:
        return self.manager.current

    def versions(self, release: LoadedRelease) -> Dict[str, str]:
        model_file = "model/" + (release.model_file or release.model_manifest["serving"]["onnx"])
        return {"model_version": f"{release.version}/{_short_sha(release, model_file)}",
                "index_version": f"{release.version}/{_short_sha(release, 'index/index.ann')}"}

    def _settings_for(self, k: int, release: LoadedRelease) -> ProfileSettings:
        found = self._vote_settings.get((k, release.version))
        if found is None:
            if len(self._vote_settings) > 64:
                self._vote_settings.clear()  # older releases' entries
            found = ProfileSettings(k=k, min_confidence=self.settings.min_confidence,
                                    calibrator=self._calibrator(release))
            self._vote_settings[(k, release.version)] = found
        return found

    # -- calibrated confidence (issue 14): kept apart so the typed request path can move it whole --
    def _calibrator(self, release: LoadedRelease) -> Optional[Calibrator]:
        """The release's index/calibration.json, read once per release; None: uncalibrated release."""
        if self._calibration is None or self._calibration[0] != release.version:
            self._calibration = (release.version, Calibrator.for_release_dir(release.root))
        return self._calibration[1]

    def _evidence(self, release: LoadedRelease, text: str) -> Optional[TextEvidence]:
        """What the text shows besides its neighbours (length, keyword evidence): calibrated releases only."""
        if self._calibrator(release) is None and not self.collect_features:
            return None  # ~0.1 ms a request that only a calibrator would use
        return text_evidence(text, self._keyword_profiler(release))
    # ---------------------------------------------------------------------------------------------

    def _embed(self, release: LoadedRelease, text: str, use_cache: bool):
        if self.cache is not None and self._cache_version != release.version:
            self.cache.clear()  # vectors of another student are not comparable
            self._cache_version = release.version
        key = None
        if self.cache is not None and use_cache:
            key = self.cache.key(text)  # the SimHash once: the lookup and, on a miss, the insert share it
            hit = self.cache.get(text, key)
            if hit is not None:
                return hit, "hit"
        enc = release.tokenizer.encode(text)
        vector = release.encoder.encode_ids(enc.input_ids, enc.attention_mask, enc.token_type_ids)[0]
        if key is not None:
            self.cache.put(text, vector, key)
        return vector, "miss"

    def profile(self, text: str, fields: Optional[Mapping[str, str]] = None, k: Optional[int] = None,
                use_cache: bool = True, user_id: Optional[str] = None, image_text: str = "",
                fusion: Any = None) -> ProfileResult:
        """``image_text``: masked text read from the avatar, fused with the typed text by ``fusion``
        (a ``coldstart.fusion`` strategy; default: the configured mode, COLDSTART_FUSION). ``result.fused`` says how."""
        started = time.perf_counter()
        self.manager.maybe_refresh()
        release = self.manager.current
        if release is None:
            raise NotReady(self.manager.last_error or "no release loaded")
        k = k or self.settings.k
        clean, pii = prepare_text(compose_text(text, fields), max_chars=self.settings.max_text_chars)
        image_text = image_text if has_words(image_text) else ""
        combined = concat_text(clean, image_text) if image_text else clean  # stored / keyword-profiled text
        vote_settings = self._settings_for(k, release)
        cache_status = "miss"
        fused = None
        experiment = resolve(self.experiment, user_id)  # logs the exposure; None without an experiment
        if not has_signal_words(combined):  # digits, emoji, punctuation, only PII: nothing to read an interest from
            profile = fallback_profile(release.items, REASON_NO_SIGNAL, vote_settings)
            vector = None
        elif experiment is not None and experiment["variant"] == "keyword":
            profile = keyword_or_fallback(self._keyword_profiler(release), combined, release.items, vote_settings)
            vector = None
        else:
            if image_text:
                vector, cache_status, fused = self._fuse(release, clean, image_text, fusion, vote_settings, use_cache)
            else:
                vector, cache_status = self._embed(release, clean, use_cache)
            profile = self.vote_vector(release, vector, vote_settings, self._evidence(release, combined))
        body = profile.to_dict()
        body.update({"pii_masked": pii, "cache": cache_status, **self.versions(release),
                     "latency_ms": round((time.perf_counter() - started) * 1000.0, 3)})
        if experiment is not None:
            body["experiment"] = experiment
        return ProfileResult(body=body, pii_counts=pii, masked_text=combined, vector=vector, fused=fused,
                             typed_text=clean, profile=profile)

    def _fuse(self, release: LoadedRelease, typed: str, image_text: str, fusion: Any,
              vote_settings: ProfileSettings, use_cache: bool):
        """The fused vector, "hit" only if every encode it needed was cached, and the ``Fused`` record."""
        statuses = []

        def embed(t: str) -> np.ndarray:
            v, status = self._embed(release, t, use_cache)
            statuses.append(status)
            return v

        fusion = fusion or self.fusion.for_release(release.version, release.model_manifest)
        fused = fusion.fuse(typed, image_text, embed, lambda v: self.vote_vector(release, v, vote_settings))
        return fused.vector, ("hit" if statuses and all(st == "hit" for st in statuses) else "miss"), fused

    @staticmethod
    def vote_vector(release: LoadedRelease, vector: np.ndarray, vote_settings: ProfileSettings,
                    evidence: Optional[TextEvidence] = None):
        ids, distances = release.index.get_nns_by_vector(vector, vote_settings.k, search_k=release.search_k,
                                                         include_distances=True)
        return vote(ids, [1.0 - d * d / 2.0 for d in distances], release.items, vote_settings, evidence)

    def text_only(self, result: ProfileResult, k: Optional[int] = None):
        """The profile the typed text alone gives, for reporting what the image changed.

        Reuses the typed text's vector when the fusion computed it (weighted, gated), else encodes it."""
        release = self.manager.current
        if release is None:
            raise NotReady(self.manager.last_error or "no release loaded")
        vote_settings = self._settings_for(k or self.settings.k, release)
        if not has_signal_words(result.typed_text):
            return fallback_profile(release.items, REASON_NO_SIGNAL, vote_settings)
        vector = result.fused.text_vector if result.fused is not None else None
        if vector is None:
            vector = self._embed(release, result.typed_text, True)[0]
        return self.vote_vector(release, vector, vote_settings, self._evidence(release, result.typed_text))
