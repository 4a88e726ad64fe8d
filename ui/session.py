"""The whole working session as one JSON project file: inputs, trim, alignment, settings, folders.

Saved atomically (temporary file in the same folder, then ``os.replace``); loading checks the version
and types and gives a precise message for a file that is not a studio project.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from studio.errors import InputError
from ui.parameter_specs import default_params

PROJECT_VERSION = 1
PROJECT_SUFFIX = ".sastudio.json"


@dataclass
class Session:
    reference: str | None = None
    motion: str | None = None
    models: str | None = None
    output_dir: str | None = None
    #: Trim of the driving clip in seconds (end None = to the end) and the frame stride.
    start: float = 0.0
    end: float | None = None
    stride: int = 1
    align_method: str = "bones"
    offset_x: float = 0.0
    offset_y: float = 0.0
    scale: float = 1.0
    seed_locked: bool = True
    params: dict[str, Any] = field(default_factory=default_params)

    def to_dict(self) -> dict[str, Any]:
        return {"version": PROJECT_VERSION, "kind": "stableanimator-studio-project", **asdict(self)}

    @classmethod
    def from_dict(cls, data: Any, source: str = "project") -> Session:
        if not isinstance(data, dict) or data.get("kind") != "stableanimator-studio-project":
            raise InputError(f"{source} is not a StableAnimator Studio project file")
        if data.get("version") != PROJECT_VERSION:
            raise InputError(f"{source} has project version {data.get('version')!r}; this studio reads "
                             f"version {PROJECT_VERSION}")
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        session = cls(**values)
        if not isinstance(session.params, dict):
            raise InputError(f"{source}: 'params' must be an object")
        return session

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        text = json.dumps(self.to_dict(), indent=2, sort_keys=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".part", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def load(cls, path: str | Path) -> Session:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise InputError(f"cannot read the project {path}: {exc.strerror or exc}") from None
        except json.JSONDecodeError as exc:
            raise InputError(f"the project {path} is not valid JSON: {exc}") from None
        return cls.from_dict(data, source=str(path))
