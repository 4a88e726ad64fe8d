"""From the window's session and settings to the core's RenderRequest, and the render calls themselves.

Uses only public core APIs: ``studio.request.RenderRequest``, ``studio.render.renderer.Renderer``
(engineer D) and the engines behind it (the warp engine is engineer E's).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ui.core import FeatureUnavailable, _api, has_api
from ui.session import Session

MISSING_WEIGHTS = (
    "The diffusion engine needs the StableAnimator weights. Choose the weights folder with Models… "
    "(Ctrl+M), or fetch them with `python -m studio download --models DIR`; or switch Engine to 'warp' "
    "for the instant preview engine, which needs no weights."
)


def build_request(session: Session, params: dict[str, Any], seed: int | None, overrides: dict | None = None):
    """The RenderRequest for the current session (``overrides``: panel settings changed for this render)."""
    request_cls = _api("studio.request", "RenderRequest", "Rendering")
    p = dict(params)
    p.update(overrides or {})
    if not session.reference or not session.motion:
        from studio.errors import InputError

        raise InputError("load a reference photo and a driving video first")
    return request_cls(
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


def _hjb(p: dict[str, Any]):
    cls = _api("studio.request", "HJBSettings", "Rendering")
    return cls(enabled=bool(p["hjb"]), iterations=int(p["hjb_iterations"]), decode_mode=p["hjb_mode"])


def _export(p: dict[str, Any]):
    cls = _api("studio.request", "ExportOptions", "Rendering")
    return cls(crf=int(p["crf"]), preset=p["x264_preset"], fps=float(p["export_fps"]) or None,
               audio=bool(p["audio"]), side_by_side=bool(p["side_by_side"]),
               png_sequence=bool(p["png_sequence"]), gif=bool(p["gif"]))


def render_available(engine: str, models: str | None = None) -> str | None:
    """None when a render with ``engine`` can start, else what is missing and how to get it."""
    if not has_api("studio.render.renderer", "Renderer"):
        return "Rendering needs studio.render.renderer, which this build of the core does not provide."
    if engine == "warp":
        try:
            _api("studio.render.engine", "engine_class", "The warp engine")("warp")
        except (ImportError, AttributeError) as exc:
            return f"The warp engine (studio.render.warp_engine) is not part of this build: {exc}"
        return None
    if not models:
        return MISSING_WEIGHTS
    problems = doctor_problems(models)
    if problems:
        return f"The weights folder {models} is not usable: " + "; ".join(problems[:3]) + \
            ". Fix it in Models… (Ctrl+M)."
    return None


def doctor_report(models: str):
    """The core's doctor findings for a weights folder (raises FeatureUnavailable when there is no doctor)."""
    for module, name in (("studio.models", "doctor"), ("studio.doctor", "doctor"), ("studio.models", "check_models")):
        if has_api(module, name):
            return _api(module, name, "The weights check")(models)
    raise FeatureUnavailable("The weights check (studio doctor) is not part of this build of the core.")


def doctor_problems(models: str) -> list[str]:
    """Missing/mismatched files as sentences; a folder that does not exist is a problem too."""
    if not Path(models).is_dir():
        return [f"{models} is not a folder"]
    try:
        report = doctor_report(models)
    except FeatureUnavailable:
        return []  # no doctor: let the renderer's own loading report precise errors
    return list(finding_lines(report, problems_only=True))


def finding_lines(report: Any, problems_only: bool = False) -> list[str]:
    """The doctor's findings as text lines, whatever shape its report has (object, dict or list)."""
    if report is None:
        return []
    for attr in ("problems", "missing", "findings", "errors"):
        value = getattr(report, attr, None) if not isinstance(report, dict) else report.get(attr)
        if value and (problems_only or attr == "findings"):
            return [str(v) for v in value]
    if isinstance(report, list | tuple):
        return [str(v) for v in report]
    if problems_only:
        ok = getattr(report, "ok", None) if not isinstance(report, dict) else report.get("ok")
        return [] if ok in (True, None) else [str(report)]
    return [str(report)]


_RENDERER = None


def renderer():
    """One renderer for the window, so the loaded pipeline is reused between renders."""
    global _RENDERER
    if _RENDERER is None:
        _RENDERER = _api("studio.render.renderer", "Renderer", "Rendering")()
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
    import json

    path = Path(mp4).with_suffix(".json")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
