"""A batch as the queue receives it: every photo × motion × preset, each with its checked request and its output
name from the file-name template (``studio.export.output_names``). The window and ``batch add`` both queue what
``Studio.plan_batch`` returns, so a batch is named the same way wherever it was made."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from studio.export.formats import export_format
from studio.export.output_names import (
    DEFAULT_NAME_TEMPLATE,
    expand_output_template,
    numbered,
    template_fields,
)
from studio.request.render_request import RenderRequest


@dataclass(frozen=True)
class PlannedJob:
    request: RenderRequest
    output: Path
    #: The preset applied on top of the batch's settings (None: the settings as they are).
    preset: str | None = None


def plan_batch(base: RenderRequest, references: Sequence[str | Path], motions: Sequence[str | Path],
               out_dir: str | Path, presets: Sequence[str | None] = (None,),
               name_template: str = DEFAULT_NAME_TEMPLATE) -> list[PlannedJob]:
    """Every photo × motion × preset of ``base``: the request checked (an unset seed drawn per job, so a
    ``{seed}`` in the name is the seed rendered) and named ``OUT_DIR/<template><extension>``. A preset's name is
    added as ``__<preset>`` unless the template places ``{preset}`` itself; a ``{counter}`` takes the first free
    number; a name an earlier job of this batch took gets ``_2``, ``_3`` … (and the queue numbers a name a file
    or an earlier job holds)."""
    from studio.request.presets import apply_preset

    out_dir = Path(out_dir)
    planned: list[PlannedJob] = []
    taken: set[Path] = set()
    for reference in references:
        for motion in motions:
            for preset in presets or (None,):
                request = base.replace(reference=str(reference), motion=str(motion))
                if preset:
                    request = apply_preset(request, preset)
                request = request.with_resolved_seed().validate()
                template = name_template
                if preset and "{preset" not in template:
                    template += "__{preset}"
                extension = export_format(request.export.format).extension
                first = out = expand_output_template(template + extension, template_fields(request, preset),
                                                     taken, folder=out_dir)
                n = 2
                while out in taken:
                    out, n = numbered(first, n), n + 1
                taken.add(out)
                planned.append(PlannedJob(request, out, preset))
    return planned
