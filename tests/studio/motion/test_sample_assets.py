"""The first-run sample (issue 12): a keyframed dance shipped as a motion folder and as a skeleton video."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from studio.motion import extract_poses
from studio.motion.head import has_face
from studio.motion.motion_file import read_motion_json
from studio.motion.types import VISIBLE

ASSETS = Path(__file__).resolve().parents[3] / "assets"


def test_the_sample_dance_is_small_smooth_and_moves_head_and_arms():
    files = [ASSETS / "sample_motion.mp4", ASSETS / "sample_dance" / "motion.json"]
    assert sum(f.stat().st_size for f in files) < 400_000  # "a few hundred KB at most"
    motion = read_motion_json(files[1])
    assert len(motion.poses) >= 24 and motion.status == ["detected"] * len(motion.poses)
    assert all(has_face(p) for p in motion.source_poses)
    wrists = np.array([p.body[[4, 7], :2] for p in motion.source_poses])
    heads = np.array([p.face[:, :2].mean(0) for p in motion.source_poses])
    size = motion.source["width"]
    assert np.ptp(wrists[:, :, 1], axis=0).min() > 0.3 * size  # both arms go up and down
    assert np.ptp(heads[:, 0]) > 0.03 * size  # the head sways
    steps = np.linalg.norm(np.diff(wrists, axis=0), axis=2)
    assert steps.max() < 0.2 * size  # smooth: no jumps between frames


def test_the_sample_video_reads_back_as_the_dance():
    motion = read_motion_json(ASSETS / "sample_dance" / "motion.json")
    clip = extract_poses(ASSETS / "sample_motion.mp4", use_cache=False)
    assert clip.backend == "skeleton" and len(clip.poses) == len(motion.source_poses)
    errors = [np.linalg.norm(got.body[j, :2] - want.body[j, :2])
              for got, want in zip(clip.poses, motion.source_poses, strict=True)
              for j in range(18) if got.body[j, 2] > VISIBLE and want.body[j, 2] > VISIBLE]
    assert np.median(errors) < 3.0  # 320 px frames: limbs about 1 px wide (see test_skeleton_video at 512 px)
