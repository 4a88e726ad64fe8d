""""auto" follows the person most prominent over the first second, not the one filling the first frame (issue 19).

Made from the balance clip in tests/data (licence in tests/data/README.md): the man balancing stands on the right
of a wide frame for the whole clip; in its first two frames a bigger copy of him fills the left half (someone
passing close to the camera) and is gone after that.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from studio.motion import extract_poses
from studio.motion.opening import link, sample_frames
from tests.generated_media import write_video

BALANCE = Path(__file__).resolve().parents[2] / "data" / "pose2sim_balance_cam01_270x480.mp4"
FPS = 30.0
PASSING_FRAMES = 2
DANCER_X, DANCER_SCALE, PASSING_SCALE = 620, 0.9, 1.1


def test_samples_span_the_first_second_at_any_rate():
    assert sample_frames(60.0) == [0, 20, 39, 59]
    assert sample_frames(24.0) == [0, 8, 15, 23]
    assert sample_frames(60.0, count=10) == [0, 3, 6, 9]


def test_a_person_big_in_one_sample_loses_to_one_seen_in_all():
    big, small = (0, 0, 400, 800), (600, 100, 700, 400)
    samples = [(0, [(big, 320000.0), (small, 30000.0)])] + [(k, [((600 + k, 100, 700 + k, 400), 30000.0)])
                                                          for k in (10, 20, 29)]
    best = link(samples, FPS)[0]
    assert [frame for frame, _ in best.seen] == [0, 10, 20, 29]


def _clip(tmp_path: Path) -> tuple[Path, float]:
    import cv2

    from studio.media.video_io import read_frames

    frames = read_frames(BALANCE)
    background = cv2.GaussianBlur(np.random.default_rng(1).integers(60, 200, (540, 960, 3), dtype=np.uint8), (0, 0), 6)
    out = []
    for k, frame in enumerate(frames):
        canvas = background.copy()
        dancer = cv2.resize(frame, None, fx=DANCER_SCALE, fy=DANCER_SCALE, interpolation=cv2.INTER_AREA)
        canvas[540 - dancer.shape[0]:, DANCER_X:DANCER_X + dancer.shape[1]] = dancer
        if k < PASSING_FRAMES:
            passing = cv2.resize(frame, None, fx=PASSING_SCALE, fy=PASSING_SCALE, interpolation=cv2.INTER_LINEAR)
            rows = min(540, passing.shape[0])
            canvas[:rows, 40:40 + passing.shape[1]] = passing[:rows]
        out.append(canvas)
    # the dancer's centre line: everything left of the middle of the frame is the passer-by
    return write_video(tmp_path / "opening.mp4", out, fps=FPS), DANCER_X + dancer.shape[1] / 2


def test_auto_follows_who_is_prominent_over_the_first_second_from_the_first_frame(tmp_path):
    path, dancer_x = _clip(tmp_path)
    clip = extract_poses(path, use_cache=False)
    detected = [k for k, s in enumerate(clip.status) if s == "detected"]
    assert 0 in detected and len(detected) >= 0.9 * len(clip.status), clip.status
    necks = [float(clip.poses[k].body[1, 0]) for k in detected]
    # every detected frame, the first included, shows the dancer (right half), never the passer-by (left half)
    assert all(x > 480 for x in necks), (np.round(necks), dancer_x)
