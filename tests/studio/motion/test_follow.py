"""Finding and following the person in real clips (issue 19): no face needed, small figures, one person kept.

The clips in tests/data are short re-encodings of public demo videos (licences in tests/data/README.md): a man
balancing with his face pixelated, with an independent reference for his joints (the trial's triangulated
3-D keypoints projected into this view); and a wide outdoor shot of a man ~75 px tall on a box with a woman
walking past below him. The small-figure clip is made here from the first: the man shrunk to ~150 px in a
1768×994 frame.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from studio.media.video_io import read_frames
from studio.motion import extract_poses
from tests.generated_media import write_video

DATA = Path(__file__).resolve().parents[2] / "data"
BALANCE = DATA / "pose2sim_balance_cam01_270x480.mp4"
TRUTH = DATA / "pose2sim_balance_cam01_truth.json"
WIDE = DATA / "sports2d_demo_884x498.mp4"
#: Hip height (pixels) of each person in the wide clip: the man stands on the box (hips at y ≈ 135), the woman
#: walks on the grass (y ≈ 360); read off its first and last frames by hand.
MAN_HIPS_Y, WOMAN_HIPS_Y = 135, 360


def _truth() -> tuple[list[int], np.ndarray]:
    data = json.loads(TRUTH.read_text())
    return data["joints"], np.asarray(data["frames"], dtype=np.float64)


def _joint_errors(poses, joints, truth, scale=1.0, offsets=None) -> list[float]:
    """Per frame: median distance of the reference joints as a share of the reference torso."""
    out = []
    for k, pose in enumerate(poses):
        ref = truth[k] * scale + (0 if offsets is None else np.asarray(offsets[k]))
        torso = np.linalg.norm(ref[[0, 3]].mean(0) - ref[[6, 9]].mean(0))  # shoulders (2, 5) to hips (8, 11)
        out.append(float(np.median(np.linalg.norm(pose.body[joints, :2] - ref, axis=1)) / torso))
    return out


@pytest.fixture(scope="module")
def balance():
    return extract_poses(BALANCE, use_cache=False)


def test_a_person_with_a_pixelated_face_is_found_in_every_frame(balance):
    # Before issue 19 the face check threw him out as a phantom ("no person was found in any of the frames").
    joints, truth = _truth()
    assert balance.status.count("detected") >= 0.95 * len(balance.status), balance.status
    errors = _joint_errors(balance.poses, joints, truth)
    # The target is 6 % of the torso at the clip's full size (bench/motion_real.py measures that); this
    # copy is a quarter of it: a ~50 px torso, where scaling and the codec move joints by 1–2 px (2–4 %) more.
    assert np.median(errors) <= 0.075, np.round(errors, 3)


def test_a_small_figure_in_a_wide_frame_gets_close_up_keypoints(tmp_path):
    import cv2

    frames = read_frames(BALANCE)
    scale = 0.9  # the man is ~167 px tall in the 480 px clip: ~150 px in a frame the size of the issue's
    background = cv2.GaussianBlur(np.random.default_rng(0).integers(60, 200, (994, 1768, 3), dtype=np.uint8),
                                  (0, 0), 6)
    offsets, wide = [], []
    for k, frame in enumerate(frames):
        small = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        x0, y0 = 900 + 6 * k, 500
        canvas = background.copy()
        canvas[y0:y0 + small.shape[0], x0:x0 + small.shape[1]] = small
        wide.append(canvas)
        offsets.append((x0, y0))
    clip = extract_poses(write_video(tmp_path / "wide.mp4", wide, fps=30.0), use_cache=False)
    detected = [k for k, s in enumerate(clip.status) if s == "detected"]
    assert len(detected) >= 0.9 * len(frames), clip.status
    joints, truth = _truth()
    errors = _joint_errors([clip.poses[k] for k in detected], joints, truth[detected], scale,
                           [offsets[k] for k in detected])
    # a close-up's quality: 8 % of a ~45 px torso is under 4 px (the video codec alone moves edges by 1–2 px)
    assert np.median(errors) <= 0.08, np.round(errors, 3)


@pytest.mark.parametrize("person, hips_y", [(1, MAN_HIPS_Y), (2, WOMAN_HIPS_Y)])
def test_the_chosen_person_is_followed_while_the_other_walks_past(person, hips_y):
    # --person N is the N-th from the left: the man on the box first, the woman on the grass second.
    clip = extract_poses(WIDE, use_cache=False, person=person)
    assert clip.person == person
    detected = [p for p, s in zip(clip.poses, clip.status, strict=True) if s == "detected"]
    assert len(detected) >= 0.8 * len(clip.poses), clip.status
    hips = [float(p.body[[8, 11], 1].mean()) for p in detected]
    midway = (MAN_HIPS_Y + WOMAN_HIPS_Y) / 2
    # never the other person: every detected frame's hips on the chosen person's side of the midway line
    assert all((h < midway) == (hips_y < midway) for h in hips), np.round(hips)


def test_person_beyond_those_in_view_is_a_clear_error():
    from studio.errors import InputError

    with pytest.raises(InputError, match="only 2 people"):
        extract_poses(WIDE, use_cache=False, person=3)
