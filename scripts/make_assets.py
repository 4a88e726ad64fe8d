"""Regenerate the first-run sample media in ``assets/`` from public-domain sources.

The sample photo comes from scikit-image's bundled ``astronaut`` image (Eileen Collins, NASA portrait: public
domain). The sample motion is a dance of the head and arms made by the project: keyframed joint angles on
the astronaut's own skeleton and face, splined smooth (``tests/generated_media.dance_poses``). It ships twice:
as ``sample_motion.mp4``, the skeleton drawn in the DWPose style (a pose video, read back by the studio), and
as ``sample_dance/motion.json``, the keypoints themselves (an extract-motion folder, with the face-68 points).

    .venv/bin/python scripts/make_assets.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import imageio.v2 as imageio
import numpy as np
from skimage import data

# The checkout's source folder: this script regenerates it (the studio itself reads them via studio.assets).
ASSETS = Path(__file__).resolve().parents[1] / "assets"
PHOTO = ASSETS / "sample_photo.jpg"
MOTION = ASSETS / "sample_motion.mp4"
DANCE = ASSETS / "sample_dance" / "motion.json"
FRAMES = 48
FPS = 12
SIZE = 320

sys.path.insert(0, str(ASSETS.parent))


def make_photo(image: np.ndarray) -> None:
    photo = cv2.resize(image, (384, 384), interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(PHOTO), cv2.cvtColor(photo, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 88])


def make_motion() -> None:
    from studio.media.video_io import probe_video
    from studio.motion import draw_pose
    from studio.motion.extract import MotionClip, PreparedMotion
    from studio.motion.motion_file import motion_json
    from tests.generated_media import dance_poses

    poses = dance_poses(FRAMES, SIZE, SIZE)
    writer = imageio.get_writer(
        str(MOTION), fps=FPS, codec="libx264", quality=None,
        pixelformat="yuv420p", output_params=["-crf", "18", "-preset", "slow"], macro_block_size=16,
    )
    try:
        for pose in poses:
            writer.append_data(draw_pose(pose, SIZE, SIZE))
    finally:
        writer.close()
    info = probe_video(MOTION)
    clip = MotionClip(info, "keyframes", list(range(FRAMES)), poses, [], [False] * FRAMES)
    prepared = PreparedMotion(clip, None, poses, [None] * FRAMES, SIZE, SIZE, None)
    data = motion_json(prepared)
    data["source"]["path"] = MOTION.name  # relative: the folder travels with the repository
    DANCE.parent.mkdir(exist_ok=True)
    DANCE.write_text(json.dumps(data, separators=(",", ":")))


def main() -> None:
    ASSETS.mkdir(exist_ok=True)
    image = data.astronaut()
    make_photo(image)
    make_motion()
    for path in (PHOTO, MOTION, DANCE):
        print(f"{path.relative_to(ASSETS.parent)}: {path.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
