"""Import the render engines and the libraries they load in the background once, at startup.

Importing torch / diffusers / transformers holds the interpreter lock for long stretches (hundreds of ms
on a loaded 2-core machine); done at the first render it would stall the window then. The window runs
this on a worker thread while the person is still choosing files.
"""

from __future__ import annotations

import gc
import logging

from studio.render.engine import engine_class
from studio.render.model_imports import MODEL_LIBRARIES, import_model_code

logger = logging.getLogger(__name__)

#: The model code a render imports (:mod:`studio.render.model_imports`), and the pose backend: the motion panel
#: checks it when a video is opened.
WARM_UP_LIBRARIES = (*MODEL_LIBRARIES, "mediapipe")


def warm_up(_report=None, _preview=None, cancel=None) -> bool:
    """A ui.workers task function: import everything a render will need.

    One import cannot be interrupted, but closing the window cancels the task, and the loop stops before the
    next library, so a window closed during start-up waits for at most one import, not all of them.
    """
    # Under the lock a render started meanwhile waits for these imports instead of racing them.
    if not import_model_code(WARM_UP_LIBRARIES, cancel):
        return False
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
