"""Fit the MediaPipe -> COCO hip and shoulder convention (``studio/motion/landmark_convention.py``) on the tuned
views only.

    OMP_NUM_THREADS=1 .venv/bin/python bench/landmark_convention.py --videos DIR --reference DIR
        [--clips balance-cam01,balance-cam02] [--cache DIR]

Extracts each clip with the studio's extractor (the motion is kept in ``--cache`` so a second run only fits),
then fits, by least squares over every frame where the followed person is the reference person, how far each
hip (shoulder) of the extracted pose lies from the reference's, in the body's own frame:

    reference hip - extracted hip  =  a * (mid-shoulders - mid-hips)  +  b * (own hip - other hip)
    reference shoulder - extracted shoulder  =  c * (mid-shoulders - mid-hips)  [+ d * (own - other shoulder)]

with the torso and hip-line vectors taken from the extracted pose (that is all the studio has when it applies
the correction). Two targets, both independent of the extractor: the reference's own 2-D OpenPose keypoints of
the view (pose2sim's, BODY_25B; COCO hips) and the trial's triangulated 3-D keypoints projected with the camera
refitted on them (``motion_reference``; triangulated from all four views, held-out ones included, so the
studio's constants come from the own 2-D keypoints). Per clip and pooled; the shoulders also with the shoulder
line (d), which the studio leaves out (small, and not the same in both views).

The extracted points already carry the constants in the studio's code; the fit measures what is still missing
and composes it with them exactly (``compose``), so the printed constants are the whole correction from
MediaPipe's own points, before or after the studio applies them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("GLOG_minloglevel", "2")

import numpy as np  # noqa: E402

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

from motion_real import (  # noqa: E402  (bench/ is the script's folder)
    MANIFEST,
    SAME_PERSON,
    clip_file,
    in_video_time,
    joint_error,
    reference_view,
)
from motion_reference import LIKELY, keypoints_as_body, project, read_keypoints_2d  # noqa: E402

#: Fits: name -> ((right, left) OpenPose-18 indices, whether the own-minus-other line is fitted too).
FITS = {"hips": ((8, 11), True), "shoulders": ((2, 5), False), "shoulders with d": ((2, 5), True)}


def extracted(clip: dict, path: Path, cache: Path):
    """The studio's motion of ``clip`` (from ``cache`` when extracted before with the same code)."""
    from studio.motion import extract_poses
    from studio.motion.extract import MotionClip
    from studio.request.render_request import FrameSelection

    file = cache / f"{clip['name']}-{'-'.join(f'{v:+.4f}' for v in constants())}.json"
    if file.is_file():
        return MotionClip.from_json(json.loads(file.read_text()))
    motion = extract_poses(path, use_cache=False, selection=FrameSelection())
    cache.mkdir(parents=True, exist_ok=True)
    file.write_text(json.dumps(motion.to_json()))
    return motion


def samples(motion, targets: np.ndarray, truth: np.ndarray, pair: tuple[int, int], sure: bool):
    """(design [n, 2, 2], residual [n, 2]) rows of the least squares: per frame and joint of ``pair``, the
    columns are the extracted torso and own-minus-other vectors, the residual is target - extracted."""
    design, residual = [], []
    for k, pose in enumerate(motion.poses):
        if motion.status[k] != "detected" or not np.isfinite(truth[k]).all() or targets[k] is None:
            continue
        body = pose.body
        if joint_error(body, truth[k]) >= SAME_PERSON:
            continue
        torso = body[[2, 5], :2].mean(0) - body[[8, 11], :2].mean(0)
        for own, other in (pair, pair[::-1]):
            if sure and targets[k][own, 2] <= LIKELY:
                continue
            design.append(np.stack([torso, body[own, :2] - body[other, :2]], axis=1))
            residual.append(targets[k][own, :2] - body[own, :2])
    return np.array(design).reshape(-1, 2, 2), np.array(residual).reshape(-1, 2)


def fit(design: np.ndarray, residual: np.ndarray, line: bool) -> tuple[float, float, float]:
    """(a, b, the median miss left, % of the mean torso) of residual = a * torso + b * (own - other);
    b = 0 unless ``line``."""
    if len(design) == 0:
        return float("nan"), float("nan"), float("nan")
    columns = design if line else design[:, :, :1]
    solution, *_ = np.linalg.lstsq(columns.reshape(-1, columns.shape[2]), residual.reshape(-1), rcond=None)
    a, b = float(solution[0]), float(solution[1]) if line else 0.0
    left = np.linalg.norm(residual - design @ np.array([a, b]), axis=1)
    return a, b, float(100 * np.median(left) / np.mean(np.linalg.norm(design[:, :, 0], axis=1)))


def constants() -> tuple[float, float, float]:
    """The studio's constants now: hips along the torso and the hip line, shoulders along the torso."""
    from studio.motion.landmark_convention import HIP_ALONG_HIP_LINE, HIP_ALONG_TORSO, SHOULDER_ALONG_TORSO

    return HIP_ALONG_TORSO, HIP_ALONG_HIP_LINE, SHOULDER_ALONG_TORSO


def compose(joints: str, along: float, line: float) -> tuple[float, float]:
    """A correction (along, line) fitted on points the studio already moved, as one from MediaPipe's own.

    Moved: hips h' = h + a T + b W, shoulders s' = s + c T, so T' = (1 + c - a) T (mid-shoulders moves by c T,
    mid-hips by a T) and W' = (1 + 2 b) W; the shoulder line is not changed.
    """
    a, b, c = constants()
    if joints == "hips":
        return a + along * (1 + c - a), b + line * (1 + 2 * b)
    return c + along * (1 + c - a), line


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", required=True)
    parser.add_argument("--reference", required=True)
    parser.add_argument("--clips", default="balance-cam01,balance-cam02")
    parser.add_argument("--cache", default="/tmp/landmark_convention_motion")
    args = parser.parse_args()
    manifest = json.loads(MANIFEST.read_text())
    reference = Path(args.reference)
    pooled: dict[tuple[str, str], list] = {}
    print("constants in the code now: hips a = {:+.4f}, b = {:+.4f}; shoulders c = {:+.4f}".format(*constants()))
    print("| clip | joints | target | along torso (a, c) | along own - other (b, d) | median miss left % torso | n |")
    print("|---|---|---|---|---|---|---|")
    for clip in manifest["clips"]:
        if clip["name"] not in args.clips.split(","):
            continue
        if clip["held_out"]:
            raise SystemExit(f"{clip['name']} is held out: the convention is fitted on tuned views only")
        path = clip_file(Path(args.videos), manifest["sources"][clip["source"]], clip["file"])
        motion = extracted(clip, path, Path(args.cache))
        n = len(motion.poses)
        camera, offset, _ = reference_view(clip["truth"], reference, path)
        truth = in_video_time(project(reference / clip["truth"]["trc"][0], camera), offset, n)
        own = keypoints_as_body(read_keypoints_2d(reference / clip["truth"]["keypoints_2d"]))
        own_in_video = [own[k - offset] if 0 <= k - offset < len(own) else None for k in range(n)]
        for target, points, sure in (("own 2-D", own_in_video, True), ("3-D projected", list(truth), False)):
            for joints, (pair, _) in FITS.items():
                design, residual = samples(motion, points, truth, pair, sure)
                pooled.setdefault((joints, target), []).append((design, residual))
                _row(clip["name"], joints, target, design, residual)
    for (joints, target), parts in pooled.items():
        _row("pooled", joints, target, np.concatenate([d for d, _ in parts]), np.concatenate([r for _, r in parts]))
    return 0


def _row(name: str, joints: str, target: str, design: np.ndarray, residual: np.ndarray) -> None:
    along, line, left = fit(design, residual, FITS[joints][1])
    a, b = compose(joints.split()[0], along, line)
    print(f"| {name} | {joints} | {target} | {a:+.4f} | {b:+.4f} | {left:.1f} | {len(design)} |")


if __name__ == "__main__":
    sys.exit(main())
