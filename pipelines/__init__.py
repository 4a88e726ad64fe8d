"""StableAnimator model code (diffusers style). Never imports ``studio`` or ``ui``.

Model classes are exported here so that ``DiffusionPipeline.from_pretrained`` can find them by library name.
"""

from .face_encoder import FusionFaceId
from .pipeline_stable_animator import StableAnimatorPipeline, StableAnimatorPipelineOutput
from .pose_net import PoseNet
from .unet import StableAnimatorUNet

__all__ = [
    "FusionFaceId",
    "PoseNet",
    "StableAnimatorPipeline",
    "StableAnimatorPipelineOutput",
    "StableAnimatorUNet",
]
