"""The parameter panel's editors, read from the settings declarations (``studio.request.render_request``, ``studio.request.settings``,
``pipelines.hjb_config``): every declared setting with a window ``group`` gets an editor with the declared
range, choices, label and help. Nothing about a setting is written here.

Each spec is named by its ``RenderRequest`` path (``steps``, ``export.crf``, ``hjb.iterations``): the panel
binds the editor to that field of ``studio.project.Project``, so a setting has one name from the request
down. ``none_at`` is the editor value that stands for the request's None (``max_frames`` 0 = all frames,
``export.fps`` 0 = the driving video's timing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from studio.export.output_names import TEMPLATE_FIELDS
from studio.request.render_request import RenderRequest
from studio.request.schema import Setting, settings_of
from studio.request.settings import DEFAULT_FORMAT

#: The boxes of the parameter panel, in order; a setting declares which one it goes in (``group``).
GROUPS = ("Output", "Sampling", "Memory", "Identity", "Device", "Export")


@dataclass(frozen=True)
class ParamSpec:
    name: str
    label: str
    kind: str  # "int" | "float" | "bool" | "choice" | "text"
    tooltip: str
    group: str
    minimum: float = 0
    maximum: float = 0
    step: float = 1
    decimals: int = 2
    choices: tuple[str, ...] = field(default_factory=tuple)
    slider: bool = False
    none_at: float | None = None
    #: What the editor shows at ``none_at`` ("all", "source").
    none_text: str = ""


def spec_for(setting: Setting) -> ParamSpec:
    """The editor of a declared setting: its range, choices and help are the declaration's own. An optional
    setting whose range starts above 0 is edited with 0 standing for None (``max_frames`` 0 = all)."""
    none_at = 0 if setting.optional and setting.unset and (setting.minimum or 0) > 0 else None
    tooltip = setting.help + (f" {none_at} = {setting.unset}." if none_at is not None else "")
    return ParamSpec(setting.path, setting.label, setting.kind, tooltip, setting.group or "",
                     minimum=none_at if none_at is not None else (setting.minimum or 0),
                     maximum=setting.maximum or 0, step=setting.step, decimals=setting.decimals,
                     choices=setting.choices, slider=setting.slider, none_at=none_at, none_text=setting.unset or "")


#: The window-only file name template (a project field, not part of the request).
OUTPUT_NAME = ParamSpec(
    "output_name", "File name", "text", "The name of each new render in the output folder; the format's extension "
    "is added. It can use " + ", ".join("{" + f + "}" for f in TEMPLATE_FIELDS) + " ({counter} takes the first free "
    "number, {counter:03d} pads it). A name already taken gets _2, _3 … rather than replacing anything.", "Export")


def _specs() -> tuple[ParamSpec, ...]:
    declared = [spec_for(s) for s in settings_of(RenderRequest) if s.group]
    declared.insert(next(i for i, s in enumerate(declared) if s.group == "Export"), OUTPUT_NAME)
    return tuple(sorted(declared, key=lambda spec: GROUPS.index(spec.group)))  # stable: declaration order within


SPECS: tuple[ParamSpec, ...] = _specs()
SPEC_BY_NAME = {spec.name: spec for spec in SPECS}


def to_editor(spec: ParamSpec, value: Any) -> Any:
    """A request value as the editor shows it."""
    return spec.none_at if value is None and spec.none_at is not None else value


def from_editor(spec: ParamSpec, value: Any) -> Any:
    """An editor value as the request holds it."""
    if spec.none_at is not None and value == spec.none_at:
        return None
    return int(value) if spec.kind == "int" else value


#: What "Preview" changes on top of the current settings: low resolution, few steps, few frames.
QUICK_PREVIEW = {"width": 256, "height": 256, "steps": 6, "max_frames": 4, "hjb": {"enabled": False},
                 "decode_chunk": 2, "export": {"format": DEFAULT_FORMAT}}  # the preview player reads mp4


def quick_preview_changes(request: RenderRequest) -> dict[str, Any]:
    """``QUICK_PREVIEW`` on top of ``request``: never more steps or frames than the render it previews (a project
    set to 2 steps and 2 frames, e.g. to try real-size weights on a CPU, previews that, not 6 steps of 4 frames).
    The preview is an mp4, which has no alpha, so a transparent background is previewed over the photo's (the
    same matte, composited)."""
    changes = dict(QUICK_PREVIEW)
    changes["steps"] = min(QUICK_PREVIEW["steps"], request.steps)
    changes["max_frames"] = min(QUICK_PREVIEW["max_frames"], request.max_frames or QUICK_PREVIEW["max_frames"])
    if request.background == "transparent":
        changes["background"] = "photo"
    return changes
