"""Identity score: per-frame similarity between the reference's face embedding and each output frame's.

The preferred backend is the conditioning's own (``studio.faces.reference_face``, insightface antelopev2; cosine
similarity). Without antelopev2 the frames are scored by dlib's ResNet face descriptor
(``studio.faces.dlib_identity``; 1 − Euclidean distance), so the curve shows on a fresh machine too. The result
carries a ``label`` saying which model scored it (saved in the sidecar, shown by the window). When no
backend can embed faces, the scores are absent and ``reason`` says why; a frame where no face is found
scores ``None``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Embedder = Callable[[np.ndarray], "np.ndarray | None"]
Similarity = Callable[[np.ndarray, np.ndarray], float]


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    denom = float(np.linalg.norm(a) * np.linalg.norm(b))
    return 0.0 if denom == 0.0 else float(np.dot(a, b) / denom)


@dataclass
class IdentityBackend:
    """A face model that scores output frames against the reference."""

    name: str  # short id saved as the sidecar's "backend", e.g. "insightface" or "dlib-resnet"
    label: str  # what the window shows: the model and the measure
    reference: np.ndarray | None  # the reference photo's embedding (None: ``describe_reference`` gives it)
    embed: Embedder
    similarity: Similarity = cosine
    #: Computes the reference embedding when scoring starts (so a preview that scores nothing never pays for
    #: loading the model); returns None when the model finds no face in the photo.
    describe_reference: Callable[[], np.ndarray | None] | None = None
    no_reference_reason: str = "the face model found no face in the reference photo"


@dataclass
class IdentityScores:
    scores: list[float | None] = field(default_factory=list)
    backend: str | None = None
    #: Why there are no scores (None when they were computed).
    reason: str | None = None
    #: Which model and measure produced the scores, for people (None: the default, cosine of the backend).
    label: str | None = None

    @property
    def available(self) -> bool:
        return self.reason is None

    @property
    def mean(self) -> float | None:
        values = [s for s in self.scores if s is not None]
        return float(np.mean(values)) if values else None

    def to_dict(self) -> dict[str, Any]:
        return {"scores": self.scores, "mean": self.mean, "backend": self.backend, "reason": self.reason,
                "label": self.label}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IdentityScores:
        return cls(scores=list(data.get("scores") or []), backend=data.get("backend"), reason=data.get("reason"),
                   label=data.get("label"))


class IdentityScorer:
    """Scores frames one at a time as they stream to the exporter (nothing is kept but the numbers)."""

    def __init__(self, reference_embedding: np.ndarray | None, embed: Embedder | None, backend: str | None = None,
                 reason: str | None = None, every: int = 1, similarity: Similarity = cosine,
                 label: str | None = None):
        self.reference = reference_embedding
        self.embed = embed
        self.every = max(1, every)
        self.similarity = similarity
        self.result = IdentityScores(backend=backend, reason=reason, label=label)
        if self.reference is None and self.result.reason is None:
            self.result.reason = "the reference has no face embedding"
        if self.embed is None and self.result.reason is None:
            self.result.reason = "no face backend can embed the output frames"
        self._index = 0

    def add(self, frame: np.ndarray) -> float | None:
        index, self._index = self._index, self._index + 1
        if not self.result.available or self.embed is None or self.reference is None:
            return None  # (no embedder or no reference leaves a reason, so ``available`` is already False)
        score = None
        if index % self.every == 0:
            embedding = self.embed(frame)
            score = None if embedding is None else self.similarity(self.reference, embedding)
        self.result.scores.append(score)
        return score


    @classmethod
    def from_backend(cls, backend: IdentityBackend, every: int = 1) -> IdentityScorer:
        reference = backend.reference
        if reference is None and backend.describe_reference is not None:
            reference = backend.describe_reference()
        reason = None if reference is not None else backend.no_reference_reason
        return cls(reference, backend.embed, backend=backend.name, reason=reason, every=every,
                   similarity=backend.similarity, label=backend.label)


def score_frames(reference_embedding: np.ndarray | None, frames, embed: Embedder | None,
                 backend: str | None = None) -> IdentityScores:
    scorer = IdentityScorer(reference_embedding, embed, backend)
    for frame in frames:
        scorer.add(frame)
    return scorer.result
