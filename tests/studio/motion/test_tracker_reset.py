"""Forgetting the tracked person without reloading the pose models (issue 19, speed).

The follower resets the video-mode tracker whenever it loses the person or finds them again. Restarting
mediapipe's graph reopened every model (~0.1 s of CPU, the cost of eight frames); the tracker now shows the graph
one blank frame instead, which leaves it in the same state: nothing to track from.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from studio.media.video_io import read_frames
from studio.motion.mediapipe_pose import MediapipeBackend

BALANCE = Path(__file__).resolve().parents[2] / "data" / "pose2sim_balance_cam01_270x480.mp4"


@pytest.fixture(scope="module")
def frames():
    frames = read_frames(BALANCE)
    # the man moved far to the right between two frames: tracking from where he was sees him in a stale window
    moved = np.zeros_like(frames[0])
    moved[:, 90:] = frames[-1][:, :-90]
    return frames[0], moved


def _only(poses):
    assert len(poses) == 1
    return poses[0]


def _spy(model: MediapipeBackend) -> list[str]:
    """Records the graph's process and restart calls of ``model``."""
    calls: list[str] = []
    graph = model._model
    process, restart = graph.process, graph.reset
    graph.process = lambda image: (calls.append("process"), process(image))[1]
    graph.reset = lambda: (calls.append("restart"), restart())[1]
    return calls


def test_a_reset_tracker_finds_the_person_as_a_fresh_one_does_without_reloading(frames):
    first, moved = frames
    fresh = MediapipeBackend(video=True)
    tracker = MediapipeBackend(video=True)
    stale = MediapipeBackend(video=True)
    try:
        expected = _only(fresh.detect(moved))
        for model in (tracker, stale):
            _only(model.detect(first))
        calls = _spy(tracker)
        tracker.reset()
        after_reset = _only(tracker.detect(moved))
        tracked = _only(stale.detect(moved))
    finally:
        for model in (fresh, tracker, stale):
            model.close()
    # tracking on from the first frame's window gives other keypoints: the reset is what makes them equal
    assert np.abs(tracked.body[:, :2] - expected.body[:, :2]).max() > 1.0
    np.testing.assert_array_equal(after_reset.body, expected.body)
    np.testing.assert_array_equal(after_reset.face, expected.face)
    np.testing.assert_array_equal(after_reset.left_hand, expected.left_hand)
    np.testing.assert_array_equal(after_reset.right_hand, expected.right_hand)
    assert "restart" not in calls  # the models were not reopened
    assert calls == ["process", "process"]  # one blank frame, then the frame itself


def test_resetting_a_tracker_that_lost_the_person_costs_nothing(frames):
    tracker = MediapipeBackend(video=True)
    try:
        calls = _spy(tracker)
        tracker.reset()  # a fresh tracker follows nobody yet
        assert tracker.detect(np.zeros_like(frames[0])) == []
        tracker.reset()  # nobody was found: the graph has nothing to forget
        _only(tracker.detect(frames[0]))
    finally:
        tracker.close()
    assert calls == ["process", "process"]
