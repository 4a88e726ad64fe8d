"""What the three render actions say about themselves: what each renders, with which engine, roughly how long,
and where the result goes. The names differ in kind (instant / draft / render), the tooltips follow the project's
engine, size and output folder so a person can tell the three apart without trying them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from studio.request.render_request import RenderRequest
from studio.request.settings import FORMATS
from ui.parameter_specs import QUICK_PREVIEW

#: The instant preview: warp frames in memory (small and quick: it refreshes as the nudge changes).
INSTANT_FRAMES = 12
INSTANT_SIZE = 256

INSTANT_NAME, DRAFT_NAME, RENDER_NAME = "&Instant preview", "&Draft render", "&Render to queue"

_ENGINE_NAMES = {"diffusion": "diffusion engine (StableAnimator, needs the weights)",
                 "warp": "warp engine (moves the photo along the skeleton; not the model's output)"}
#: How long a render takes, in words: the warp engine is CPU seconds per frame, diffusion minutes per clip on a GPU
#: (a draft's few small frames and steps take seconds there once the model is loaded, which the first one does).
_ENGINE_TIMES = {"diffusion": "minutes on a GPU, far longer on a CPU", "warp": "seconds on a CPU"}
_DRAFT_TIMES = {"diffusion": "seconds on a GPU once the model is loaded (the first draft loads it), minutes on a CPU",
                "warp": "seconds on a CPU"}


def _steps(engine: str, steps: int) -> str:
    return f", {steps} steps" if engine == "diffusion" else ""  # the warp engine has no denoising steps


@dataclass(frozen=True)
class ActionText:
    name: str
    #: The tooltip: what, which engine, how long, where the result goes.
    tip: str
    #: The status bar's one line while the pointer rests on the action.
    status: str


def instant_text() -> ActionText:
    return ActionText(
        INSTANT_NAME,
        f"Instant preview: the first {INSTANT_FRAMES} frames at {INSTANT_SIZE} px with the warp engine, whatever "
        "engine is chosen; seconds on a CPU, no weights. Shown in the Result panel and the Alignment view; nothing "
        "is saved. For judging the alignment and the trim — it is not the model's output.",
        f"Instant preview: {INSTANT_FRAMES} warp frames in seconds, shown, not saved (not the model's output)")


def draft_text(request: RenderRequest) -> ActionText:
    engine = request.engine
    frames, steps = QUICK_PREVIEW["max_frames"], QUICK_PREVIEW["steps"]
    size = f"{QUICK_PREVIEW['width']}×{QUICK_PREVIEW['height']}"
    return ActionText(
        DRAFT_NAME,
        f"Draft render: {frames} frames at {size} px{_steps(engine, steps)}, no face refinement, with the "
        f"{_ENGINE_NAMES[engine]} — the engine a full render uses; {_DRAFT_TIMES[engine]}. Shown in the Result "
        "panel as a temporary mp4 that the next draft replaces (File → Export result… keeps it).",
        f"Draft render: {frames} frames at {size} with the {engine} engine, shown, temporary")


def render_text(request: RenderRequest, output_folder: Path) -> ActionText:
    engine = request.engine
    frames = "every frame" if request.max_frames is None else f"{request.max_frames} frames"
    fmt = FORMATS[request.export.format].label
    return ActionText(
        RENDER_NAME,
        f"Full render: {frames} at {request.width}×{request.height} px{_steps(engine, request.steps)}, with the "
        f"{_ENGINE_NAMES[engine]}; {_ENGINE_TIMES[engine]}. Added to the Queue (jobs run one after another, "
        f"also after a restart) and written as {fmt} with its settings sidecar to {output_folder}.",
        f"Render to queue: the full {engine} render, written to {output_folder}")
