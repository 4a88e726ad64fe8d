"""What the window says about the render engines (from the core's weights check) and the interpolators (RIFE only
with its weights), and a result's sidecar.

Renders themselves go through ``studio.service.Studio``; requests are ``studio.project.Project.request``.
"""

from __future__ import annotations

import json
from pathlib import Path

from studio.errors import StudioError
from studio.export.output_names import sidecar_path
from studio.interpolation.methods import rife_missing
from studio.render.model_folder import check_models
from studio.request.render_request import RenderRequest

MISSING_WEIGHTS = (
    "The diffusion engine needs the StableAnimator weights. Choose the weights folder with Models… "
    "(Ctrl+M), or fetch them with `python -m studio download --models DIR`; or switch Engine to 'warp' "
    "(no weights needed; it moves the photo along the skeleton, it is not the model's output)."
)


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


def rife_unavailable(models: str | None) -> str | None:
    """Why the RIFE interpolator cannot run with the weights folder ``models``, in the words the CLI's
    ``--method rife`` uses (``studio.interpolation.methods.rife_missing``), or None when its weights are there."""
    return rife_missing(models, choose_folder="Models…", instead="flow or auto")


def unavailable_choices(request: RenderRequest) -> dict[str, dict[str, str]]:
    """The choices of the window's editors that cannot run now, with why: {setting path: {choice: reason}}."""
    rife = rife_unavailable(request.models)
    return {"interpolate_method": {"rife": rife}} if rife else {}


def interpolation_problem(request: RenderRequest) -> str | None:
    """Why this request's frame interpolation cannot run (RIFE chosen without its weights, for a render that
    interpolates), or None."""
    if request.interpolate_method != "rife" or not request.interpolates:
        return None
    return rife_unavailable(request.models)


def read_sidecar(mp4: str | Path) -> dict | None:
    path = sidecar_path(mp4)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
