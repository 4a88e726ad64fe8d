"""The instant preview warp: move the photo's person along the driving skeleton, no weights, CPU only.

No Qt and no torch here: the warp must run on a fresh machine in seconds.
"""

from studio.warp.controls import BONES, ControlTracker, densify, keypoints
from studio.warp.layers import ARM_CHAINS, LIMB_CHAINS, Layer, build_layers
from studio.warp.matte import fill_background, person_matte, skeleton_matte
from studio.warp.tps import (
    BackwardMap,
    ThinPlateSpline,
    jacobian_determinant,
    solve_backward_map,
    upsample_map,
)
from studio.warp.warper import PersonWarper, WarpReference, WarpSettings

__all__ = [
    "ARM_CHAINS", "BONES", "LIMB_CHAINS", "BackwardMap", "Layer", "build_layers", "ControlTracker", "PersonWarper", "ThinPlateSpline",
    "WarpReference", "WarpSettings", "densify", "fill_background", "jacobian_determinant", "keypoints",
    "person_matte", "skeleton_matte", "solve_backward_map", "upsample_map",
]
