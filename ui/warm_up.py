"""Import the render engines and the libraries they load in the background once, at startup.

Importing torch / diffusers / transformers holds the interpreter lock for long stretches (hundreds of ms
on a loaded 2-core machine); done at the first render it would stall the window then. The window runs
this on a worker thread while the person is still choosing files.
"""

from __future__ import annotations

import gc
import importlib
import logging

from studio.render.engine import HEAVY_IMPORT_LOCK, engine_class

logger = logging.getLogger(__name__)

#: Third-party modules the diffusion engine loads at its first render (diffusers and transformers load
#: their submodules lazily, so the packages alone are not enough), and the pose backend.
WARM_UP_LIBRARIES = (
    "torch", "safetensors.torch", "diffusers", "transformers",
    "diffusers.models.modeling_utils", "diffusers.models.attention_processor",
    "diffusers.models.unets.unet_spatio_temporal_condition", "diffusers.models.transformers.transformer_temporal",
    "diffusers.models.autoencoders.autoencoder_kl_temporal_decoder", "diffusers.schedulers.scheduling_euler_discrete",
    "diffusers.pipelines.pipeline_utils", "diffusers.utils.torch_utils", "transformers.models.clip.modeling_clip",
    "transformers.models.clip.image_processing_clip", "huggingface_hub.serialization",
    "mediapipe",  # the pose backend: the motion panel checks it when a video is opened
)


def warm_up(_report=None, _preview=None, cancel=None) -> bool:
    """A ui.workers task function: import everything a render will need.

    One import cannot be interrupted, but closing the window cancels the task, and the loop stops before the
    next library, so a window closed during start-up waits for at most one import, not all of them.
    """
    # Under the lock a render started meanwhile waits for these imports instead of racing them.
    with HEAVY_IMPORT_LOCK:
        for library in WARM_UP_LIBRARIES:
            if cancel is not None and cancel.cancelled:
                return False
            try:
                importlib.import_module(library)
            except ImportError:
                pass
    for engine in ("warp", "diffusion"):
        if cancel is not None and cancel.cancelled:
            return False
        try:
            engine_class(engine)
        except Exception as exc:  # noqa: BLE001 - a missing engine is reported when it is used
            logger.info("engine %s not loadable: %s", engine, exc)
    # The imports leave ~500 000 objects that live as long as the process. Python's full garbage collection
    # visits each of them, holding the interpreter lock: about a second on a busy 2-core machine, a freeze of
    # the window whenever one came. Frozen, they are never visited again (a full collection then takes
    # milliseconds); what the window makes later is still collected. Once per process: a later window (the
    # tests make hundreds) would freeze its predecessors' garbage for good.
    if gc.get_freeze_count() == 0:
        gc.freeze()
    return True
