"""The model code a diffusion render imports, imported ahead of need.

Importing torch, diffusers (whose autoencoders package pulls in every model family it ships, torch's compiler and
scipy) and transformers' CLIP takes 4–8 s on two cores: more than loading the 9 GB of weights from a warm page
cache. The window imports it at start-up (``ui.warm_up``); a render from the command line starts it on a thread of
its own when the render begins, so the import runs while the reference photo and the driving poses are prepared
(ONNX, MediaPipe and OpenCV work that leaves the interpreter lock free most of the time) instead of after them.
"""

from __future__ import annotations

import atexit
import importlib
import threading

from studio.render.engine import HEAVY_IMPORT_LOCK
from studio.system.progress import CancelToken

#: Third-party modules the diffusion engine loads at its first render (diffusers and transformers load their
#: submodules lazily, so the packages alone are not enough), then the studio's own model code.
MODEL_LIBRARIES = (
    "torch", "safetensors.torch", "diffusers", "transformers",
    "diffusers.models.modeling_utils", "diffusers.models.attention_processor",
    "diffusers.models.unets.unet_spatio_temporal_condition", "diffusers.models.transformers.transformer_temporal",
    "diffusers.models.autoencoders.autoencoder_kl_temporal_decoder", "diffusers.schedulers.scheduling_euler_discrete",
    "diffusers.pipelines.pipeline_utils", "diffusers.utils.torch_utils", "transformers.models.clip.modeling_clip",
    "transformers.models.clip.image_processing_clip", "huggingface_hub.serialization",
    "pipelines.loading", "pipelines.hjb_pipeline",
)

# Process-wide registry: the one background import of this process (imports are per process, so one thread
# is enough), written only by import_model_code_soon() under _starting.
_thread: threading.Thread | None = None
_stop = CancelToken()
_starting = threading.Lock()


def import_model_code(libraries: tuple[str, ...] = MODEL_LIBRARIES, cancel: CancelToken | None = None) -> bool:
    """Import ``libraries`` under :data:`HEAVY_IMPORT_LOCK` (a render that needs them meanwhile waits here rather
    than racing the import); False when ``cancel`` stopped it before the next library. One import cannot be
    interrupted, so a cancel waits for at most one library."""
    with HEAVY_IMPORT_LOCK:
        for library in libraries:
            if cancel is not None and cancel.cancelled:
                return False
            try:
                importlib.import_module(library)
            except ImportError:
                pass  # a missing library is reported by the code that uses it, in words
    return True


def import_model_code_soon() -> threading.Thread:
    """Start :func:`import_model_code` on a background thread, once per process; returns that thread.

    At interpreter exit (a render that failed on its inputs exits at once) the thread is stopped before its next
    library and waited for: a daemon thread still inside an extension module's import while the interpreter
    finalises can crash the process on its way out."""
    global _thread
    with _starting:
        if _thread is None:
            _thread = threading.Thread(target=import_model_code, kwargs={"cancel": _stop}, name="model imports",
                                       daemon=True)
            _thread.start()
            atexit.register(_stop_and_wait, _thread)
        return _thread


def _stop_and_wait(thread: threading.Thread) -> None:
    _stop.cancel()
    thread.join()
