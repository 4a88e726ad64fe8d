"""The motion cache: a second extraction of the same clip and parameters is served from the cache, identically."""

from __future__ import annotations

import numpy as np
import pytest

import studio.motion.extract as extract
from studio.motion import extract_poses
from studio.request.render_request import FrameSelection
from studio.system.paths import cache_dir
from studio.system.progress import Cancelled, CancelToken
from tests.generated_media import write_transform_video


@pytest.fixture
def counted_backend(monkeypatch):
    """Count extractions that ran a model (the video-mode backend each one creates; the person follower's
    image-mode searcher beside it is not counted) and all detect() calls (the real mediapipe backend does the work)."""
    calls = {"created": 0, "detect": 0}
    real = extract.create_backend

    def counting(*args, **kwargs):
        model = real(*args, **kwargs)
        calls["created"] += int(kwargs.get("video", True))
        detect = model.detect

        def counted_detect(frame):
            calls["detect"] += 1
            return detect(frame)

        model.detect = counted_detect
        return model

    monkeypatch.setattr(extract, "create_backend", counting)
    return calls


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    path, _ = write_transform_video(tmp_path_factory.mktemp("cache") / "clip.mp4", num_frames=4, size=128)
    return path


def _assert_same_clip(a, b):
    assert a.indices == b.indices and a.held == b.held and a.backend == b.backend
    assert a.info == b.info
    for p, q in zip(a.poses, b.poses, strict=True):
        for group in ("body", "face", "left_hand", "right_hand"):
            np.testing.assert_array_equal(getattr(p, group), getattr(q, group), err_msg=group)
        assert p.face_box == q.face_box


def test_second_extraction_hits_the_cache_with_identical_keypoints(video, counted_backend):
    first = extract_poses(video)
    ran = dict(counted_backend)
    assert ran["created"] == 1 and ran["detect"] >= 4  # every frame looked at (and the first searched)
    assert len(list(cache_dir("motion").glob("*.json"))) == 1
    second = extract_poses(video)
    assert counted_backend == ran  # nothing ran again
    _assert_same_clip(first, second)
    assert second.poses[0].has_person


def test_cached_keypoints_equal_an_uncached_extraction(video, counted_backend):
    fresh = extract_poses(video, use_cache=False)
    extract_poses(video)  # fills the cache
    cached = extract_poses(video)
    assert counted_backend["created"] == 2
    _assert_same_clip(fresh, cached)


def test_other_parameters_or_content_miss_the_cache(video, counted_backend, tmp_path):
    extract_poses(video)
    detected = counted_backend["detect"]
    extract_poses(video, selection=FrameSelection(stride=2))
    assert counted_backend["created"] == 2 and counted_backend["detect"] >= detected + 2
    copy = tmp_path / "copy.mp4"
    copy.write_bytes(video.read_bytes())
    extract_poses(copy)  # same content elsewhere: a hit (keyed by content, not path)
    assert counted_backend["created"] == 2
    other, _ = write_transform_video(tmp_path / "other.mp4", num_frames=4, size=128, transforms=[(0, 1, 5, 0)] * 4)
    extract_poses(other)
    assert counted_backend["created"] == 3


def test_use_cache_false_neither_reads_nor_writes(video, counted_backend):
    extract_poses(video, use_cache=False)
    assert not list(cache_dir("motion").glob("*.json"))
    extract_poses(video, use_cache=False)
    assert counted_backend["created"] == 2


def test_a_damaged_cache_entry_is_extracted_again(video, counted_backend):
    first = extract_poses(video)
    (entry,) = cache_dir("motion").glob("*.json")
    entry.write_text("{ not json")
    again = extract_poses(video)
    assert counted_backend["created"] == 2
    _assert_same_clip(first, again)


def test_a_cancelled_extraction_caches_nothing(video):
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        extract_poses(video, cancel=token)
    assert not list(cache_dir("motion").glob("*.json"))
