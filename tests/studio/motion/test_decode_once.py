"""The first second of a driving clip is decoded once: "auto" looks ahead at its samples over the first second,
and the frames read ahead are handed out again in order (``studio.media.read_ahead``), with the poses of decoding
it twice (as before; still the way where no temporary file can be written).

Made from the balance clip of tests/data (licence in tests/data/README.md), re-timed to 30 fps so that its 36
frames last past the first second (samples 0, 10, 19, 29; frames 30-35 come on from the decoder).
"""

from __future__ import annotations

import errno
from collections import Counter
from pathlib import Path

import pytest

import studio.motion.extract as extract
from studio.motion import extract_poses
from studio.motion.opening import sample_frames
from tests.generated_media import write_video

BALANCE = Path(__file__).resolve().parents[2] / "data" / "pose2sim_balance_cam01_270x480.mp4"
FPS = 30.0


def full_disk(*_args, **_kwargs):
    """tempfile.TemporaryFile on a full disk."""
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.fixture(scope="module")
def clip_30fps(tmp_path_factory) -> Path:
    from studio.media.video_io import read_frames

    return write_video(tmp_path_factory.mktemp("decode_once") / "balance_30fps.mp4", read_frames(BALANCE), fps=FPS)


@pytest.fixture
def decoded(monkeypatch) -> Counter:
    """Source frame index -> times the extraction's decoders handed it out."""
    counts: Counter = Counter()
    real = extract.iter_frames

    def counting(*args, **kwargs):
        for index, frame in real(*args, **kwargs):
            counts[index] += 1
            yield index, frame

    monkeypatch.setattr(extract, "iter_frames", counting)
    return counts


def test_auto_decodes_each_frame_once_with_the_poses_of_decoding_the_first_second_twice(clip_30fps, decoded,
                                                                                        monkeypatch):
    once = extract_poses(clip_30fps, use_cache=False)
    assert once.indices == list(range(36)) and max(sample_frames(FPS, 36)) == 29  # the look-ahead ends inside
    assert decoded == Counter(once.indices), decoded  # each frame once
    decoded.clear()
    # no temporary file for the frames read ahead: the decoder starts again, the first second decoded twice
    monkeypatch.setattr("studio.media.read_ahead.tempfile.TemporaryFile", full_disk)
    twice = extract_poses(clip_30fps, use_cache=False)
    assert decoded == Counter(twice.indices) + Counter(range(30))  # the first second twice, the rest once
    assert once.to_json() == twice.to_json()
    assert sum(s == "detected" for s in once.status) >= 30  # a comparison of poses, not of empty frames
