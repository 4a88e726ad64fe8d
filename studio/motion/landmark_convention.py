"""MediaPipe's hips and shoulders moved to where COCO / OpenPose put them: the convention of StableAnimator's
PoseNet, which was trained on DWPose (COCO-WholeBody) skeletons.

BlazePose's hip landmarks are not COCO's hip keypoints: they sit lower on the body and closer together; its
shoulders sit a little lower too. The studio writes OpenPose-18 skeletons, so a MediaPipe pose is given COCO
hips and shoulders before it is used (the DWPose backend already is COCO). The correction lives in the body's
own frame, so it holds for any view, size and orientation (upright, bent, lying, upside down): with the torso
T = mid-shoulders - mid-hips and the hip line W = own hip - other hip, both of MediaPipe's own points,

    hip      += HIP_ALONG_TORSO * T + HIP_ALONG_HIP_LINE * W
    shoulder += SHOULDER_ALONG_TORSO * T      (only where both hips are seen)

An affine combination of the pose's own points, so it commutes with the crop windows' scaling and shifting.
The shoulders move only where the torso is measured: in a close-up or a half-body shot MediaPipe guesses the
hips far outside the frame (a talking head's "torso" twice the frame's height), and shoulders moved by a share
of that guess would shrink the person's box and change what the follower crops. Hips that are not seen are
not drawn, so moving them costs nothing.

Where the constants come from: least squares over the tuned views balance-cam01 and balance-cam02 of
``bench/motion_corpus.json`` (pose2sim's balancing trial, 2 x 100 frames), of the reference's own 2-D OpenPose
keypoints (COCO hips and shoulders, the view's detector the trial was triangulated from) minus the studio's
MediaPipe points, pooled over both views and both sides:

    OMP_NUM_THREADS=1 .venv/bin/python bench/landmark_convention.py --videos /tmp/motion_corpus \\
        --reference /tmp/motion_corpus/reference

cam01 alone gave (0.050, 0.051, 0.046), cam02 alone (0.068, 0.086, 0.039); the held-out views were not used.
"""

from __future__ import annotations

import numpy as np

from studio.motion.types import VISIBLE, PoseFrame

#: OpenPose-18 indices: right and left shoulder, right and left hip.
R_SHOULDER, L_SHOULDER, R_HIP, L_HIP = 2, 5, 8, 11

#: COCO's hips lie this share of the torso further toward the shoulders than BlazePose's ...
HIP_ALONG_TORSO = 0.058
#: ... and this share of the hip width further out from the body's middle (each side).
HIP_ALONG_HIP_LINE = 0.066
#: COCO's shoulders lie this share of the torso higher up the torso than BlazePose's.
SHOULDER_ALONG_TORSO = 0.043


def coco_convention(body: np.ndarray) -> np.ndarray:
    """``body`` [18, 3] (x, y, score; MediaPipe's points) with COCO-convention hips and shoulders; scores as
    they were.

    Uses the points' places whatever their scores (MediaPipe places every landmark; the scores say how sure it
    is of each, which moving them in the body's frame does not change), except that the shoulders move only
    where both hips are seen (score above VISIBLE).
    """
    out = body.copy()
    torso = body[[R_SHOULDER, L_SHOULDER], :2].mean(0) - body[[R_HIP, L_HIP], :2].mean(0)
    hip_line = body[R_HIP, :2] - body[L_HIP, :2]
    out[R_HIP, :2] += HIP_ALONG_TORSO * torso + HIP_ALONG_HIP_LINE * hip_line
    out[L_HIP, :2] += HIP_ALONG_TORSO * torso - HIP_ALONG_HIP_LINE * hip_line
    if (body[[R_HIP, L_HIP], 2] > VISIBLE).all():
        out[[R_SHOULDER, L_SHOULDER], :2] += SHOULDER_ALONG_TORSO * torso
    return out


def in_coco_convention(pose: PoseFrame) -> PoseFrame:
    """A copy of ``pose`` (MediaPipe's points) with COCO-convention hips and shoulders and the neck between the
    moved shoulders: what the studio hands on (``extract``). The follower and the checks before it work on
    MediaPipe's own points, which their rules were measured on."""
    out = pose.copy()
    out.body = coco_convention(pose.body)
    shoulders = out.body[[R_SHOULDER, L_SHOULDER]]
    out.body[1, :2] = shoulders[:, :2].mean(0)
    return out
