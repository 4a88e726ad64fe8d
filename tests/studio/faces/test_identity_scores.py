"""IdentityScorer with the stand-in antelopev2 backend: per-frame cosine scores against the reference."""

from __future__ import annotations

import cv2
import numpy as np

from studio.faces.identity import IdentityScorer, IdentityScores, score_frames
from studio.faces.reference_face import analyze_reference
from tests.studio.faces.antelope_models import background, plant_face

BOX = (90, 70, 162, 150)


def embedder(analyzer):
    # as the renderer's scorer does: frames in the same convention as the reference (default channel swap)
    return lambda frame: analyzer.analyze(np.ascontiguousarray(frame))[1]


def test_scores_per_frame(analyzer):
    reference = plant_face(background(256, 256, seed=1), BOX, seed=7)
    ref = analyze_reference(reference, analyzer=analyzer)
    frames = [
        reference.copy(),                                                       # the reference itself
        plant_face(background(256, 256, seed=2), (100, 60, 172, 140), seed=7),  # the same face, moved
        cv2.resize(reference, (320, 320), interpolation=cv2.INTER_NEAREST),     # the same face, larger
        plant_face(background(256, 256, seed=4), BOX, seed=99),                 # another face
        background(256, 256, seed=5),                                           # no face
    ]
    scorer = IdentityScorer(ref.embedding, embedder(analyzer), backend="insightface")
    returned = [scorer.add(frame) for frame in frames]
    result = scorer.result
    assert result.available and result.reason is None and result.backend == "insightface"
    assert returned == result.scores and len(result.scores) == 5
    assert abs(result.scores[0] - 1.0) <= 1e-5
    for score in result.scores[1:4]:
        assert -1.0 <= score <= 1.0
    same_moved, same_larger, other = result.scores[1:4]
    assert 0.99 < same_moved < 1.0 - 1e-4 and 0.99 < same_larger < 1.0 - 1e-4
    assert other < 0.9  # (the stand-in's embeddings of different textures are far apart)
    assert result.scores[4] is None  # no face in that frame
    assert result.mean == np.mean(result.scores[:4])
    again = IdentityScores.from_dict(result.to_dict())
    assert again.scores == result.scores and again.mean == result.mean


def test_every_nth_frame_and_score_frames(analyzer):
    reference = plant_face(background(256, 256, seed=1), BOX, seed=7)
    ref = analyze_reference(reference, analyzer=analyzer)
    scorer = IdentityScorer(ref.embedding, embedder(analyzer), every=2)
    for _ in range(3):
        scorer.add(reference)
    assert scorer.result.scores[1] is None
    assert all(abs(s - 1.0) <= 1e-5 for s in scorer.result.scores[::2])
    result = score_frames(ref.embedding, [reference, background(256, 256)], embedder(analyzer), backend="insightface")
    assert abs(result.scores[0] - 1.0) <= 1e-5 and result.scores[1] is None


def test_no_embedding_means_no_scores_and_a_reason():
    scorer = IdentityScorer(None, lambda frame: np.ones(512, np.float32))
    assert scorer.add(np.zeros((8, 8, 3), np.uint8)) is None
    assert not scorer.result.available and "no face embedding" in scorer.result.reason
    assert scorer.result.scores == [] and scorer.result.mean is None
