"""From the window's session and settings to the core's RenderRequest, and the render calls themselves.

Uses only public core APIs: ``studio.request.RenderRequest``, ``studio.render.renderer.Renderer``
(engineer D), ``studio.models.check_models`` and the engines behind the renderer (the warp engine is E's).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from studio.errors import InputError, StudioError
from studio.models import check_models
from studio.render.renderer import Renderer
from studio.request import ExportOptions, HJBSettings, RenderRequest
from ui.session import Session

MISSING_WEIGHTS = (
    "The diffusion engine needs the StableAnimator weights. Choose the weights folder with Models… "
    "(Ctrl+M), or fetch them with `python -m studio download --models DIR`; or switch Engine to 'warp' "
    "for the instant preview engine, which needs no weights."
)


def build_request(
    session: Session, params: dict[str, Any], seed: int | None, overrides: dict | None = None
) -> RenderRequest:
    """The RenderRequest for the current session (``overrides``: panel settings changed for this render)."""
    p = dict(params)
    p.update(overrides or {})
    if not session.reference or not session.motion:
        raise InputError("load a reference photo and a driving video first")
    return RenderRequest(
        reference=session.reference, motion=session.motion, engine=p["engine"], models=session.models,
        alignment={"mode": session.align_method, "offset_x": session.offset_x, "offset_y": session.offset_y,
                   "scale": session.scale},
        width=int(p["width"]), height=int(p["height"]), fit=p["fit"], start=float(session.start),
        end=session.end, stride=int(session.stride), max_frames=int(p["max_frames"]) or None, fps=int(p["fps"]),
        steps=int(p["steps"]), min_guidance=float(p["min_guidance"]), max_guidance=float(p["max_guidance"]),
        seed=seed, motion_bucket=int(p["motion_bucket"]), noise_aug=float(p["noise_aug"]),
        tile_size=int(p["tile_size"]), tile_overlap=int(p["tile_overlap"]), decode_chunk=int(p["decode_chunk"]),
        hjb=_hjb(p),
        device=p["device"], dtype=p["dtype"], cpu_offload=bool(p["cpu_offload"]), face_model=p["face_model"],
        export=_export(p),
    )


def _hjb(p: dict[str, Any]) -> HJBSettings:
    return HJBSettings(enabled=bool(p["hjb"]), iterations=int(p["hjb_iterations"]), decode_mode=p["hjb_mode"])


def _export(p: dict[str, Any]) -> ExportOptions:
    return ExportOptions(crf=int(p["crf"]), preset=p["x264_preset"], fps=float(p["export_fps"]) or None,
               audio=bool(p["audio"]), side_by_side=bool(p["side_by_side"]),
               png_sequence=bool(p["png_sequence"]), gif=bool(p["gif"]), format=p["format"])


def render_available(engine: str, models: str | None = None) -> str | None:
    """None when a render with ``engine`` can start, else what is missing and how to get it."""
    if engine == "warp":
        return None  # the warp engine needs no weights
    if not models:
        return MISSING_WEIGHTS
    problems = weights_problems(models)
    if problems:
        return f"The weights folder {models} is not usable: " + "; ".join(problems[:3]) + \
            ". Fix it in Models… (Ctrl+M)."
    return None


def weights_problems(models: str) -> list[str]:
    """What the core's quick weights check finds wrong with a folder, as sentences (empty: usable)."""
    if not Path(models).is_dir():
        return [f"{models} is not a folder"]
    try:
        report = check_models(models)
    except (StudioError, OSError) as exc:  # e.g. the folder cannot be read
        return [str(exc)]
    return list(report.problems) + [f"missing {m}" for m in report.missing]


_RENDERER = None


def renderer() -> Renderer:
    """One renderer for the window, so the loaded pipeline is reused between renders."""
    global _RENDERER
    if _RENDERER is None:
        _RENDERER = Renderer()
    return _RENDERER


def render_to_file(request, out: str | Path, report, preview, cancel):
    """Render and export; ``preview(frame)`` gets live step previews. Returns the core's RenderResult."""

    def on_preview(frame, step=0, total=0):
        preview((frame, step, total))

    return renderer().render(request, out, report, cancel, preview=on_preview)


def instant_frames(request, report, cancel, frame_limit: int) -> tuple[list, list, Any]:
    """Warp-engine frames in memory (no export): (frames, pose images, prepared render)."""
    request = request.replace(engine="warp", max_frames=frame_limit)
    prepared = renderer().prepare(request, report, cancel)
    engine = renderer().engine("warp")
    frames = []
    for frame in engine.render(prepared.inputs, report, cancel):
        cancel.raise_if_cancelled()
        frames.append(frame)
    return frames, list(prepared.inputs.pose_images), prepared


def read_sidecar(mp4: str | Path) -> dict | None:
    path = Path(mp4).with_suffix(".json")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
