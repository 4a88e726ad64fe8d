"""StableAnimator model code (diffusers style). Never imports ``studio`` or ``ui``.

Model classes are exported here so that ``DiffusionPipeline.from_pretrained`` can find them by library name. They are
imported on first access (PEP 562), so ``pipelines.layout`` — the weights layout, checked on the window's GUI thread
— can be imported without torch and diffusers.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "FusionFaceId": ".face_encoder",
    "StableAnimatorPipeline": ".pipeline_stable_animator",
    "StableAnimatorPipelineOutput": ".pipeline_stable_animator",
    "PoseNet": ".pose_net",
    "StableAnimatorUNet": ".unet",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pipelines' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value
