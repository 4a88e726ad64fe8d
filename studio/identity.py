"""Identity score: per-frame cosine similarity between the reference's face embedding and each output frame's.

The same face backend as the conditioning embeds the frames (``studio.faces``, insightface antelopev2).
When no backend can embed faces, the scores are absent and ``reason`` says why; a frame where no face is
found scores ``None``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Embedder = Callable[[np.ndarray], "np.ndarray | None"]


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    denom = float(np.linalg.norm(a) * np.linalg.norm(b))
    return 0.0 if denom == 0.0 else float(np.dot(a, b) / denom)


@dataclass
class IdentityScores:
    scores: list[float | None] = field(default_factory=list)
    backend: str | None = None
    #: Why there are no scores (None when they were computed).
    reason: str | None = None

    @property
    def available(self) -> bool:
        return self.reason is None

    @property
    def mean(self) -> float | None:
        values = [s for s in self.scores if s is not None]
        return float(np.mean(values)) if values else None

    def to_dict(self) -> dict[str, Any]:
        return {"scores": self.scores, "mean": self.mean, "backend": self.backend, "reason": self.reason}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IdentityScores:
        return cls(scores=list(data.get("scores") or []), backend=data.get("backend"), reason=data.get("reason"))


class IdentityScorer:
    """Scores frames one at a time as they stream to the exporter (nothing is kept but the numbers)."""

    def __init__(self, reference_embedding: np.ndarray | None, embed: Embedder | None, backend: str | None = None,
                 reason: str | None = None, every: int = 1):
        self.reference = reference_embedding
        self.embed = embed
        self.every = max(1, every)
        self.result = IdentityScores(backend=backend, reason=reason)
        if self.reference is None and self.result.reason is None:
            self.result.reason = "the reference has no face embedding"
        if self.embed is None and self.result.reason is None:
            self.result.reason = "no face backend can embed the output frames"
        self._index = 0

    def add(self, frame: np.ndarray) -> float | None:
        index, self._index = self._index, self._index + 1
        if not self.result.available:
            return None
        score = None
        if index % self.every == 0:
            embedding = self.embed(frame)
            score = None if embedding is None else cosine(self.reference, embedding)
        self.result.scores.append(score)
        return score


def score_frames(reference_embedding: np.ndarray | None, frames, embed: Embedder | None,
                 backend: str | None = None) -> IdentityScores:
    scorer = IdentityScorer(reference_embedding, embed, backend)
    for frame in frames:
        scorer.add(frame)
    return scorer.result
