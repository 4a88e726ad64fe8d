"""The person's preferences for this machine (not for one project): where the studio keeps its data, where renders
go by default, and which device, precision and how many CPU threads new renders use.

The window stores them with its settings and edits them in its Preferences dialog; the policy lives here: what
each value may be (``problems``), which devices this machine offers (``device_choices``), what a render does with
them (``Preferences.apply``: a request left on "auto" gets the preferred device and precision, and the render runs
with that many threads) and which folder a render goes to when its project names none (``output_folder``).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from studio.request.render_request import RenderRequest
from studio.request.schema import settings_of
from studio.system.folders import folder_problem

#: The choices of the render request's own settings, so the two never disagree.
_DECLARED = {s.path: s for s in settings_of(RenderRequest)}
DEVICES: tuple[str, ...] = tuple(_DECLARED["device"].choices)
PRECISIONS: tuple[str, ...] = tuple(_DECLARED["dtype"].choices)


def max_threads() -> int:
    return os.cpu_count() or 1


@dataclass(frozen=True)
class Preferences:
    #: The data folder (queue, caches, autosave, previews, logs); None: the platform's user data folder. It takes
    #: effect at the next start: this session's queue and autosave are open where they are.
    data_folder: str | None = None
    #: Where renders go when the project names no output folder; None: the project's folder or Videos.
    output_folder: str | None = None
    #: The device and precision of a render whose request says "auto".
    device: str = "auto"
    precision: str = "auto"
    #: CPU threads a render uses (torch and OpenCV); 0: their own default (every core).
    threads: int = 0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Preferences:
        """From stored values (strings, as an INI file gives them back); unknown keys are ignored."""
        def text(key: str) -> str | None:
            value = data.get(key)
            return str(value) if value not in (None, "") else None

        try:
            threads = int(data.get("threads") or 0)
        except (TypeError, ValueError):
            threads = 0
        return cls(data_folder=text("data_folder"), output_folder=text("output_folder"),
                   device=text("device") or "auto", precision=text("precision") or "auto", threads=threads)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def problems(self, devices: tuple[str, ...] | None = None) -> list[str]:
        """Why these preferences cannot be used, one sentence each (what is wrong and what to do)."""
        found = []
        for what, folder in (("data folder", self.data_folder), ("default output folder", self.output_folder)):
            if folder:
                problem = _chosen_folder_problem(folder, what)
                if problem:
                    found.append(_sentence(problem))
        devices = devices if devices is not None else DEVICES
        if self.device not in devices:
            found.append(f"The device {self.device!r} is not available here; choose one of {', '.join(devices)}.")
        if self.precision not in PRECISIONS:
            found.append(f"The precision {self.precision!r} is unknown; choose one of {', '.join(PRECISIONS)}.")
        if not 0 <= self.threads <= max_threads():
            found.append(f"Threads must be 0 (automatic) to {max_threads()} (this machine's cores), got "
                         f"{self.threads}.")
        return found

    def resolve(self, request: RenderRequest) -> RenderRequest:
        """``request`` with an "auto" device and precision made the preferred ones (what a render, and an estimate
        of its memory, should use)."""
        changes = {}
        if request.device == "auto" and self.device != "auto":
            changes["device"] = self.device
        if request.dtype == "auto" and self.precision != "auto":
            changes["dtype"] = self.precision
        return request.replace(**changes) if changes else request

    def apply(self, request: RenderRequest) -> RenderRequest:
        """For the render about to run: its request (``resolve``), with the preferred thread count set."""
        use_threads(self.threads)
        return self.resolve(request)

    def output_folder_for(self, project_output: str | None, project_file: str | None, fallback: Path) -> Path:
        """Where a render goes: the project's own output folder, else the preferred default, else the saved
        project's folder, else ``fallback`` (the person's Videos folder)."""
        if project_output:
            return Path(project_output)
        if self.output_folder:
            return Path(self.output_folder)
        return Path(project_file).parent if project_file else fallback


def use_preferred_data_folder(preferences: Preferences) -> str | None:
    """At start, before anything opens the data folder: use the preferred one (None returned), or, when it cannot be
    written now, the home folder and the reason (to show)."""
    from studio.system.paths import use_data_folder

    problem = _chosen_folder_problem(preferences.data_folder, "data folder") if preferences.data_folder else None
    use_data_folder(None if problem else preferences.data_folder)
    if problem is None:
        return None
    return f"{_sentence(problem)} Until then the default data folder is used (Edit → Preferences)."


def _chosen_folder_problem(folder: str | Path, what: str) -> str | None:
    """Why ``folder``, as typed in the preferences, cannot be used (a full path is needed: the studio starts in
    any working folder; then the studio's one writability check), or None when it can."""
    if not Path(folder).expanduser().is_absolute():
        return f"the {what} {folder} is not a full path; choose a folder with Browse…"
    return folder_problem(folder, what)


def _sentence(clause: str) -> str:
    """A message clause (as errors carry them) as a sentence of its own, for a list of problems."""
    return f"{clause[:1].upper()}{clause[1:]}."


#: Process-wide registry: torch's and OpenCV's thread counts before a preference first changed them (restored by
#: "automatic"), written only by ``use_threads`` (the thread counts it records are process-wide themselves).
_DEFAULT_THREADS: dict[str, int] = {}


def use_threads(threads: int) -> None:
    """Run the next render with ``threads`` CPU threads (0: the libraries' defaults). Process-wide: one render runs
    at a time (``studio.service.Studio``)."""
    if not threads and not _DEFAULT_THREADS:
        return  # nothing was ever changed (and no need to import torch for a render that may not use it)
    import cv2
    import torch

    _DEFAULT_THREADS.setdefault("torch", torch.get_num_threads())
    _DEFAULT_THREADS.setdefault("cv2", cv2.getNumThreads())
    torch.set_num_threads(threads or _DEFAULT_THREADS["torch"])
    cv2.setNumThreads(threads or _DEFAULT_THREADS["cv2"])


def device_choices() -> tuple[str, ...]:
    """The devices this machine offers: auto and cpu always, cuda and mps where torch finds them."""
    import torch

    found = ["auto", "cpu"]
    if torch.cuda.is_available():
        found.append("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        found.append("mps")
    return tuple(found)
