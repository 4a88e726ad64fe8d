"""The work being edited, without Qt: one ``RenderRequest``, the window-only fields, the prepared results,
change events and undo/redo.

The window binds its widgets to request fields by their dotted path (``steps``, ``export.crf``,
``hjb.iterations``, ``alignment.offset_x``): a widget edit calls ``project.set``, every change (an edit, an
undo, a loaded project) is announced to the subscribers with the paths that changed, and widgets update
from ``project.get``. So a setting has one name from the request down, and undo covers everything that is
an edit of the request (settings, trim, alignment). Preview, queue and CLI all render ``project.request``.

The prepared results (the photo fitted to the output size, the reference pose in output pixels, the
extracted clip, the aligned poses) are recomputed here with the functions a render uses
(``studio.media.video_io.fit_to_size``, ``studio.motion.align_poses``), so what the alignment view shows is what
the render will use.
"""

from __future__ import annotations

import dataclasses
import json
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from studio.errors import InputError
from studio.export.atomic import write_text_atomic
from studio.export.output_names import DEFAULT_NAME_TEMPLATE, template_problem
from studio.motion.types import PoseFrame
from studio.request.render_request import RenderRequest, random_seed, request_schema
from studio.request.schema import Problem, get_path, replace_paths

PROJECT_KIND = "stableanimator-studio-project"
PROJECT_VERSION = 2
PROJECT_SUFFIX = ".sastudio.json"
#: Edits of the same setting closer together than this (a slider drag, spinbox arrows) are one undo step.
MERGE_WINDOW_S = 0.8
#: Window-only fields (not part of the request) that are saved with the project: whether the seed is kept between
#: renders, where renders go, and the selection (the clip position the person is looking at on the timeline).
UI_FIELDS = ("seed_locked", "output_dir", "selection", "output_name")
#: Request fields the window asks for by itself (load a photo, a video, a weights folder) rather than as a setting.
_INPUT_PATHS = frozenset({"reference", "motion", "models"})
#: Request fields whose change moves the prepared results (the fitted photo and the aligned poses).
FRAMING_FIELDS = frozenset({"width", "height", "fit"})


@dataclass
class Clip:
    """Extracted driving motion: poses in source-video pixels, one per selected frame."""

    indices: list[int]
    poses: list[PoseFrame]
    source_size: tuple[int, int]
    fps: float
    warnings: list[str] = field(default_factory=list)
    #: Per frame: "detected", "held" or "none" (``studio.motion.presence``); None when not known.
    status: list[str] | None = None
    #: Per frame the followed person's box (source pixels, x0, y0, x1, y1) or None where they were not seen
    #: (``studio.motion.people.followed_boxes``); None when not known.
    person_boxes: list[tuple[float, float, float, float] | None] | None = None
    #: Who was followed: "auto", N or "@F:X,Y" (the request's ``person``).
    person: str = "auto"


@dataclass
class Prepared:
    """What the window shows before a render, computed as the render computes it."""

    photo: np.ndarray | None = None
    #: The reference person's pose in the photo's pixels (None: not analysed yet, or no person found).
    photo_pose: PoseFrame | None = None
    fitted: np.ndarray | None = None
    #: The 2×3 affine from photo pixels to output pixels (``fit_to_size``).
    matrix: np.ndarray | None = None
    reference_pose: PoseFrame | None = None
    clip: Clip | None = None
    aligned: list[PoseFrame] = field(default_factory=list)
    #: Why the alignment could not be computed (shown, never raised).
    align_error: str | None = None
    #: A re-alignment is running in the background (``Project.align_in_background``); ``aligned`` is the last one.
    aligning: bool = False


@dataclass(frozen=True)
class Change:
    """One event: the paths that changed (request paths, UI field names, or ``prepared``)."""

    paths: frozenset[str]

    def touches(self, *names: str) -> bool:
        """True when any changed path is one of ``names`` or lies under one (``alignment`` covers
        ``alignment.scale``)."""
        return any(p == n or p.startswith(n + ".") or n.startswith(p + ".") for p in self.paths for n in names)


@dataclass
class _Edit:
    text: str
    before: dict[str, Any]
    after: dict[str, Any]
    stamp: float
    mergeable: bool


Listener = Callable[[Change], None]
#: (aligned poses, why they could not be computed or None)
AlignmentResult = tuple[list[PoseFrame], str | None]
#: ``runner(work, done)``: run ``work()`` off the caller's thread, then call ``done(result)`` on the caller's.
AlignmentRunner = Callable[[Callable[[], AlignmentResult], Callable[[AlignmentResult], None]], None]


def empty_request(models: str | None = None) -> RenderRequest:
    """A new project's request: no photo or video yet; without a weights folder the warp engine, which
    needs none (so Preview and Render work on a fresh machine)."""
    return RenderRequest(reference="", motion="", models=models, engine="diffusion" if models else "warp",
                         seed=42)


class Project:
    def __init__(self, request: RenderRequest | None = None, *, seed_locked: bool = True,
                 output_dir: str | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self._request = request or empty_request()
        self.seed_locked = seed_locked
        self.output_dir = output_dir
        self.selection: int | None = None
        #: The file name of a new render (``studio.export.output_names`` template; the format's extension is added).
        self.output_name = DEFAULT_NAME_TEMPLATE
        self.prepared = Prepared()
        self._undo: list[_Edit] = []
        self._redo: list[_Edit] = []
        self._listeners: list[Listener] = []
        self._clock = clock
        self._align_runner: AlignmentRunner | None = None
        self._align_generation = 0

    # ----------------------------------------------------------------------------- reading
    @property
    def request(self) -> RenderRequest:
        return self._request

    def get(self, path: str) -> Any:
        if path in UI_FIELDS:
            return getattr(self, path)
        return get_path(self._request, path)

    def field_problems(self) -> list[Problem]:
        """The request's own validation (``RenderRequest.field_problems``), without the missing inputs the
        window reports separately (photo, motion, weights folder), and what is wrong with the file name
        template; each names its field by path (the window marks that editor)."""
        problems = [p for p in self._request.field_problems() if p.path not in _INPUT_PATHS]
        name_problem = template_problem(self.output_name)
        return problems + ([Problem("output_name", name_problem)] if name_problem else [])

    def problems(self) -> list[str]:
        return [p.message for p in self.field_problems()]

    # ----------------------------------------------------------------------------- events
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(change)`` after every change; returns a function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def _emit(self, paths: Iterable[str]) -> None:
        change = Change(frozenset(paths))
        if not change.paths:
            return
        for listener in list(self._listeners):
            listener(change)

    # ----------------------------------------------------------------------------- editing
    def set(self, values: dict[str, Any] | None = None, *, text: str | None = None, undoable: bool = True,
            merge: bool = True, **kw: Any) -> bool:
        """Change request paths and/or window fields; True when anything changed.

        ``merge``: a single-setting edit right after another edit of the same setting joins its undo step
        (a slider drag is one step). ``undoable=False`` for what is not an edit (a loaded file's path)."""
        values = {**(values or {}), **kw}
        before = {p: self.get(p) for p in values}
        changed = {p: v for p, v in values.items() if before[p] != v}
        if not changed:
            return False
        before = {p: before[p] for p in changed}
        self._apply(changed)
        if undoable:
            now = self._clock()
            last = self._undo[-1] if self._undo else None
            if (merge and last is not None and last.mergeable and len(changed) == 1
                    and last.after.keys() == changed.keys() and now - last.stamp <= MERGE_WINDOW_S):
                last.after, last.stamp = dict(changed), now
            else:
                label = text or "Change " + ", ".join(changed)
                self._undo.append(_Edit(label, before, dict(changed), now, merge and len(changed) == 1))
            self._redo.clear()
        self._emit(changed)
        return True

    def _apply(self, values: dict[str, Any]) -> None:
        request_values = {p: v for p, v in values.items() if p not in UI_FIELDS}
        for name in UI_FIELDS:
            if name in values:
                setattr(self, name, values[name])
        if request_values:
            self._request = replace_paths(self._request, request_values)
            if any(p in FRAMING_FIELDS or p.startswith("alignment") for p in request_values):
                self._reprepare()

    def can_undo(self) -> bool:
        return bool(self._undo)

    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo_text(self) -> str:
        return self._undo[-1].text if self._undo else ""

    def redo_text(self) -> str:
        return self._redo[-1].text if self._redo else ""

    def undo(self) -> bool:
        if not self._undo:
            return False
        edit = self._undo.pop()
        self._redo.append(edit)
        self._apply(edit.before)
        self._emit(edit.before)
        return True

    def redo(self) -> bool:
        if not self._redo:
            return False
        edit = self._redo.pop()
        self._undo.append(edit)
        edit.stamp = -1e18  # a redone step never merges with the next edit
        self._apply(edit.after)
        self._emit(edit.after)
        return True

    def clear_history(self) -> None:
        self._undo.clear()
        self._redo.clear()

    def apply_preset(self, values: dict[str, Any], name: str) -> bool:
        """A preset (``studio.request.presets``: request fields, nested dicts for export/hjb) as one undo step."""
        flat: dict[str, Any] = {}
        for key, value in values.items():
            if isinstance(value, dict):
                flat.update({f"{key}.{sub}": v for sub, v in value.items()})
            else:
                flat[key] = value
        return self.set(flat, text=f"Preset {name}", merge=False)

    def select(self, position: int | None) -> bool:
        """The clip position shown on the timeline (not an edit: no undo step, but saved with the project)."""
        return self.set(selection=position, undoable=False)

    def fit_on_selection(self, on: bool = True) -> bool:
        """Fit the skeleton on the selected frame (``alignment.fit_frame``; an undoable edit), or, with ``on``
        False, on the best frame the aligner finds."""
        frame = (self.selection or 0) if on else None
        text = f"Fit on frame {frame}" if on else "Fit on the best frame"
        return self.set({"alignment.fit_frame": frame}, text=text, merge=False)

    def seed_for_render(self, rng: random.Random | None = None) -> int:
        """The seed the next render uses: the locked one, or a fresh draw that becomes the shown seed. Rendering
        or queueing is not an edit: the draw adds no undo step."""
        if not self.seed_locked or self._request.seed is None:
            self.set(seed=random_seed(rng), undoable=False)
        seed = self._request.seed
        assert seed is not None  # (drawn just above when there was none)
        return int(seed)

    # ----------------------------------------------------------------------------- prepared results
    def set_photo(self, photo: np.ndarray | None, pose: PoseFrame | None = None) -> None:
        """The loaded reference photo (and, once analysed, its person's pose in photo pixels)."""
        self.prepared.photo, self.prepared.photo_pose = photo, pose
        self._reprepare()
        self._emit({"prepared"})

    def set_clip(self, clip: Clip | None) -> None:
        self.prepared.clip = clip
        self.prepared.aligned, self.prepared.align_error = [], None  # another clip's poses never stand in
        self._realign()
        self._emit({"prepared"})

    def _reprepare(self) -> None:
        from studio.media.video_io import fit_to_size
        from studio.motion import transform_pose

        p, r = self.prepared, self._request
        if p.photo is None:
            p.fitted = p.matrix = p.reference_pose = None
        else:
            p.fitted, p.matrix = fit_to_size(p.photo, r.width, r.height, mode=r.fit)
            p.reference_pose = None if p.photo_pose is None else transform_pose(p.photo_pose, p.matrix)
        self._realign()

    def align_in_background(self, runner: AlignmentRunner | None) -> None:
        """Re-align through ``runner`` (the window's worker threads): finding the photo's pose runs MediaPipe,
        seconds on a slow machine. Until the result is back ``prepared.aligning`` is True and ``aligned`` keeps
        the previous poses; the result of an older request is dropped; its arrival is a ``prepared`` change.
        Without a runner (the CLI, tests) re-alignment happens inside the edit."""
        self._align_runner = runner

    def _realign(self) -> None:
        p, r = self.prepared, self._request
        self._align_generation += 1
        if p.clip is None or p.fitted is None:
            p.aligned, p.align_error, p.aligning = [], None, False
            return
        clip, fitted, options, backend = p.clip, p.fitted, r.alignment, r.pose_backend

        def work() -> AlignmentResult:
            try:
                from studio.motion import align_motion

                # the render's own alignment path, on the same fitted photo (it finds the photo's pose there)
                return align_motion(clip.poses, clip.status, clip.source_size, clip.fps, fitted, options,
                                    backend=backend).poses, None
            except Exception as exc:  # noqa: BLE001 - an alignment failure is shown, never fatal to editing
                return [], str(exc)

        if self._align_runner is None:
            p.aligned, p.align_error = work()
            return
        generation = self._align_generation

        def done(result: AlignmentResult) -> None:
            if generation != self._align_generation:  # a newer edit asked again
                return
            self.prepared.aligned, self.prepared.align_error = result
            self.prepared.aligning = False
            self._emit({"prepared"})

        p.aligning = True
        self._align_runner(work, done)

    # ----------------------------------------------------------------------------- files
    def to_dict(self) -> dict[str, Any]:
        return {"kind": PROJECT_KIND, "version": PROJECT_VERSION, "request": self._request.to_dict(),
                **{name: getattr(self, name) for name in UI_FIELDS}}

    def load_dict(self, data: Any, source: str = "project") -> None:
        """Replace everything with a saved project (not an undo step; the history is cleared)."""
        if not isinstance(data, dict) or data.get("kind") != PROJECT_KIND:
            raise InputError(f"{source} is not a StableAnimator Studio project file")
        version = data.get("version")
        if version == 1:
            data = _from_version_1(data)
        elif version != PROJECT_VERSION:
            raise InputError(f"{source} has project version {version!r}; this studio reads versions 1 and "
                             f"{PROJECT_VERSION}")
        request = RenderRequest.from_dict(data.get("request") or {})
        old = self.to_dict()
        self._request = request
        self.seed_locked = bool(data.get("seed_locked", True))
        self.output_dir = data.get("output_dir") or None
        selection = data.get("selection")
        self.selection = selection if isinstance(selection, int) and not isinstance(selection, bool) and \
            selection >= 0 else None
        name = data.get("output_name")
        self.output_name = name if isinstance(name, str) and template_problem(name) is None else DEFAULT_NAME_TEMPLATE
        self.clear_history()
        self._reprepare()
        new = self.to_dict()
        changed = {k for k in new["request"] if new["request"][k] != old["request"].get(k)}
        changed |= {k for k in UI_FIELDS if new[k] != old[k]}
        self._emit(changed | {"prepared"})

    def save(self, path: str | Path) -> Path:
        return write_text_atomic(Path(path), json.dumps(self.to_dict(), indent=2, sort_keys=True))

    def load(self, path: str | Path) -> None:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise InputError(f"cannot read the project {path}: {exc.strerror or exc}") from None
        except json.JSONDecodeError as exc:
            raise InputError(f"the project {path} is not valid JSON: {exc}") from None
        self.load_dict(data, source=str(path))


def project_schema() -> dict[str, Any]:
    """The JSON schema of a saved project (``Project.save``): the request's schema plus the window-only fields."""
    request = request_schema()
    request.pop("$schema")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "StableAnimator Studio project",
            "type": "object", "additionalProperties": False, "required": ["kind", "version", "request"],
            "properties": {"kind": {"const": PROJECT_KIND}, "version": {"const": PROJECT_VERSION}, "request": request,
                           "seed_locked": {"type": "boolean"}, "output_dir": {"type": ["string", "null"]},
                           "selection": {"type": ["integer", "null"], "minimum": 0},
                           "output_name": {"type": "string"}}}


def read_request(path: str | Path) -> RenderRequest:
    """The request in a saved request, a sidecar, or a project file of any version (what the window saved)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError:
        return RenderRequest.from_file(path)  # which says what is wrong with the file
    try:
        data = json.loads(text)
    except ValueError:
        data = None  # from_json says where the JSON breaks
    except RecursionError:
        raise InputError(f"{path}: its JSON is nested too deeply to be a render request") from None
    if isinstance(data, dict) and data.get("kind") == PROJECT_KIND:
        project = Project()
        project.load_dict(data, source=str(path))
        return project.request
    return RenderRequest.from_json(text)


#: Version-1 project files stored the settings flat under the window's old names.
_V1_NAMES = {"hjb": "hjb.enabled", "hjb_iterations": "hjb.iterations", "hjb_mode": "hjb.decode_mode",
             "crf": "export.crf", "x264_preset": "export.preset", "export_fps": "export.fps", "audio": "export.audio",
             "side_by_side": "export.side_by_side", "png_sequence": "export.png_sequence", "gif": "export.gif"}


def _from_version_1(data: dict[str, Any]) -> dict[str, Any]:
    """A version-1 project (flat ``params`` + separate trim/alignment fields) as version 2."""
    values: dict[str, Any] = {}
    for name, value in (data.get("params") or {}).items():
        values[_V1_NAMES.get(name, name)] = value
    if not values.get("max_frames"):
        values["max_frames"] = None
    if not values.get("export.fps"):
        values["export.fps"] = None
    values.update(reference=data.get("reference") or "", motion=data.get("motion") or "",
                  models=data.get("models"), start=float(data.get("start") or 0.0), end=data.get("end"),
                  stride=int(data.get("stride") or 1))
    for key, name in (("align_method", "mode"), ("offset_x", "offset_x"), ("offset_y", "offset_y"),
                      ("scale", "scale")):
        if key in data:
            values[f"alignment.{name}"] = data[key]
    known = {f.name for f in dataclasses.fields(RenderRequest)}
    values = {k: v for k, v in values.items() if k.partition(".")[0] in known}
    request = replace_paths(RenderRequest(reference="", motion=""), values)
    # the settings as version-2 requests held them (their export.fps still the playback rate): the request's own
    # migrations bring them up to date
    return {"request": {**request.to_dict(), "version": 2}, "seed_locked": data.get("seed_locked", True),
            "output_dir": data.get("output_dir")}
