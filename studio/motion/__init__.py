"""Motion: pose extraction (mediapipe / DWPose), alignment to the reference, smoothing, skeleton drawing."""

from studio.motion.align import AlignmentOptions, GlobalFit, align_poses, global_fit, transform_pose
from studio.motion.draw import draw_pose
from studio.motion.extract import (
    BACKENDS,
    DEFAULT_BACKEND,
    AlignedMotion,
    MotionClip,
    PreparedMotion,
    align_motion,
    available_backends,
    create_backend,
    detect_pose,
    extract_poses,
    prepare_motion,
    reference_pose_on,
)
from studio.motion.types import PoseFrame

__all__ = [
    "BACKENDS", "DEFAULT_BACKEND", "AlignedMotion", "AlignmentOptions", "GlobalFit", "MotionClip", "PoseFrame", "PreparedMotion",
    "align_motion", "align_poses", "available_backends", "create_backend", "detect_pose", "draw_pose", "extract_poses",
    "global_fit", "prepare_motion", "reference_pose_on", "transform_pose",
]
