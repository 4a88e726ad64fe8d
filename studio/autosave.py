"""The window's autosave and crash detection, without Qt.

The project (its request and window fields), the extracted skeleton and the last result's path are written to
``<data folder>/autosave/project.sastudio.json`` a few seconds after each change. A session holds an OS lock on
``session.lock`` (dropped by the kernel when the process dies, even ``kill -9``) and leaves ``session.open``
beside it until it closes cleanly: a later start that finds ``session.open`` without a live holder of the lock
knows the last session crashed and offers the autosave back.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from studio.export.atomic import write_text_atomic
from studio.motion.types import PoseFrame
from studio.project import Clip, Project
from studio.system.paths import studio_home
from studio.system.platform import DeviceLock

log = logging.getLogger(__name__)

AUTOSAVE_NAME = "project.sastudio.json"


def autosave_folder() -> Path:
    folder = studio_home() / "autosave"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def clip_to_json(clip: Clip) -> dict[str, Any]:
    return {"indices": [int(i) for i in clip.indices], "poses": [p.to_json() for p in clip.poses],
            "source_size": list(clip.source_size), "fps": float(clip.fps), "warnings": list(clip.warnings),
            "status": None if clip.status is None else list(clip.status), "person": clip.person,
            "person_boxes": None if clip.person_boxes is None
            else [None if b is None else [float(v) for v in b] for b in clip.person_boxes]}


def clip_from_json(data: dict[str, Any]) -> Clip:
    return Clip([int(i) for i in data["indices"]], [PoseFrame.from_json(p) for p in data["poses"]],
                (int(data["source_size"][0]), int(data["source_size"][1])), float(data["fps"]),
                list(data.get("warnings") or []), data.get("status"),
                None if data.get("person_boxes") is None
                else [None if b is None else (float(b[0]), float(b[1]), float(b[2]), float(b[3]))
                      for b in data["person_boxes"]],
                str(data.get("person", "auto")))


def snapshot(project: Project, last_result: str | None) -> dict[str, Any]:
    """What the autosave holds: the project file's contents plus the skeleton and the last result."""
    return snapshot_of(project.to_dict(), project.prepared.clip, last_result)


def snapshot_of(project_data: dict[str, Any], clip: Clip | None, last_result: str | None) -> dict[str, Any]:
    """``snapshot`` from the parts taken from a project (the window takes them on its GUI thread and leaves
    the skeleton's JSON — hundreds of ms for a long clip — to a worker thread)."""
    return {**project_data, "autosave": {"clip": None if clip is None else clip_to_json(clip),
                                         "last_result": last_result}}


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class Session:
    """One window's run: its lock, its ``session.open`` marker and its autosave file."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or autosave_folder()
        self.path = self.folder / AUTOSAVE_NAME
        self._lock = DeviceLock(self.folder / "session.lock")
        self._marker = self.folder / "session.open"
        #: The session before this one ended without closing (a crash, a kill, a power cut).
        self.crashed = False
        self.owner = False

    def begin(self) -> bool:
        """Take the session; True when the last one crashed and left an autosave. Another running window
        keeps the session: this one then neither autosaves nor offers anything."""
        try:
            self.owner = self._lock.try_acquire()
        except OSError as exc:  # an unwritable data folder: the window works, without autosave
            log.warning("no autosave: %s", exc)
            return False
        if not self.owner:
            return False
        self.crashed = self._marker.exists() and self.path.is_file()
        self._marker.write_text("open\n", encoding="utf-8")
        return self.crashed

    def write(self, data: dict[str, Any]) -> None:
        if self.owner:
            write_text_atomic(self.path, json.dumps(data, default=_json_default))

    def read(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            log.info("no readable autosave: %s", exc)
            return None
        return data if isinstance(data, dict) else None

    def end(self) -> None:
        """A clean close: the next start offers nothing."""
        if self.owner:
            self._marker.unlink(missing_ok=True)
            self._lock.release()
            self.owner = False
