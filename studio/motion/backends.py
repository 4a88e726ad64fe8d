"""The pose backends by name: mediapipe (bundled, no download) and DWPose (its ONNX files)."""

from __future__ import annotations

from pathlib import Path

from studio.errors import InputError
from studio.request.settings import POSE_BACKENDS

DEFAULT_BACKEND = "mediapipe"


def create_backend(name: str = DEFAULT_BACKEND, *, video: bool = True, model_dir: str | Path | None = None):
    """A pose backend: ``detect(frame_rgb) -> list[PoseFrame]`` (pixels), ``parameters()``, ``close()``."""
    if name == "mediapipe":
        from studio.motion.mediapipe_pose import MediapipeBackend

        return MediapipeBackend(video=video)
    if name == "dwpose":
        from studio.motion.dwpose import DWPoseBackend

        if model_dir is None:
            raise InputError("the dwpose backend needs the folder holding yolox_l.onnx and dw-ll_ucoco_384.onnx")
        return DWPoseBackend(model_dir)
    raise InputError(f"unknown pose backend {name!r}; choose one of {', '.join(POSE_BACKENDS)}")
