"""Per-joint view of ``motion_real``'s joint error: which joints carry it, and which sit off by a convention.

For each of the 12 judged joints, over the frames where the followed pose is the reference person: the median
distance to the reference (% of the reference torso) and the mean signed offset in the body's own frame (%
torso): "up" along the reference torso (mid-hips -> mid-shoulders), "out" across it toward the joint's own
side of the body (the side of the reference's same-side shoulder and hip). A landmark convention (MediaPipe's
hips lower than COCO's) shows as the same offset in every view; an extractor's misses as spread. In a view
from the side the body's sides overlap and "out" says little.
"""

from __future__ import annotations

import numpy as np

try:
    from motion_reference import JOINTS, LIKELY
except ImportError:  # imported as bench.motion_joints (the tests), not from bench/ as a script
    from bench.motion_reference import JOINTS, LIKELY

#: OpenPose-18 joints on the person's right side (the rest of JOINTS are on the left).
RIGHT = {2, 3, 4, 8, 9, 10}


def body_frame(truth: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(up unit vector, unit vector toward the person's right, torso length) of a reference body."""
    shoulders, hips = truth[[2, 5], :2].mean(0), truth[[8, 11], :2].mean(0)
    length = max(float(np.linalg.norm(shoulders - hips)), 1.0)
    up = (shoulders - hips) / length
    across = np.array([-up[1], up[0]])
    rightward = truth[[2, 8], :2].mean(0) - truth[[5, 11], :2].mean(0)
    return up, across if across @ rightward >= 0 else -across, length


def joint_offsets(bodies: list[np.ndarray], truths: list[np.ndarray],
                  sure: float | None = None) -> dict[str, dict[str, float]]:
    """Per joint name: {"error": median distance, "up", "out": mean signed offsets}, all % torso; with ``sure``
    only the joints whose score in ``bodies`` is above it."""
    rows: dict[str, list[tuple[float, float, float]]] = {name: [] for name in JOINTS}
    for body, truth in zip(bodies, truths, strict=True):
        up, right, length = body_frame(truth)
        for name, joint in JOINTS.items():
            if sure is not None and body[joint, 2] <= sure:
                continue
            miss = body[joint, :2] - truth[joint, :2]
            out = right if joint in RIGHT else -right
            rows[name].append((float(np.linalg.norm(miss)) / length, float(miss @ up) / length, float(miss @ out) / length))
    return {name: {"error": 100 * float(np.median([r[0] for r in v])), "up": 100 * float(np.mean([r[1] for r in v])),
                   "out": 100 * float(np.mean([r[2] for r in v]))}
            for name, v in rows.items() if v}


def joint_table(results: dict, title: str) -> list[str]:
    """Markdown lines: one row per joint, one column per clip measured against a reference."""
    clips = [name for name, row in results.items() if isinstance(row, dict) and row.get("joints")]
    if not clips:
        return []
    lines = [f"\n{title}: per joint, median error % torso (mean signed offset up, out % torso; up = toward the "
             "shoulders along the torso, out = away from the body's middle)",
             "| joint | " + " | ".join(clips) + " |", "|" + "---|" * (len(clips) + 1)]
    for name in JOINTS:
        cells = []
        for clip in clips:
            j = results[clip]["joints"].get(name)
            cells.append("–" if j is None else f"{j['error']:.1f} ({j['up']:+.1f}, {j['out']:+.1f})")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def torso(body: np.ndarray) -> float:
    """Mid-shoulders to mid-hips (pixels): the unit every error of the bench is a share of."""
    return float(np.linalg.norm(body[[2, 5], :2].mean(0) - body[[8, 11], :2].mean(0)))


def error_against_keypoints(body: np.ndarray, keypoints: list[np.ndarray | None], k: int, truth: np.ndarray,
                            least: int = 8) -> float | None:
    """Median distance of ``body``'s joints from the 2-D ``keypoints[k]`` (those found with the reference's
    likelihood; None with fewer than ``least`` of the 12 or no such frame), as a share of ``truth``'s torso."""
    if not 0 <= k < len(keypoints) or keypoints[k] is None:
        return None
    sure = [j for j in JOINTS.values() if keypoints[k][j, 2] > LIKELY]
    if len(sure) < least:
        return None
    return float(np.median(np.linalg.norm(body[sure, :2] - keypoints[k][sure, :2], axis=1))) / max(torso(truth), 1.0)
