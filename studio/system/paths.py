"""Where the studio keeps its data (queue database, caches, settings).

``STUDIO_HOME`` overrides the platform's user data folder; tests point it at a temporary folder so they
never touch a person's real settings or queue.
"""

from __future__ import annotations

import os
from pathlib import Path


def studio_home() -> Path:
    env = os.environ.get("STUDIO_HOME")
    if env:
        home = Path(env).expanduser()
    else:
        from platformdirs import user_data_dir

        home = Path(user_data_dir("StableAnimatorStudio", appauthor=False))
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError:
        pass  # read-only, full or not a folder: whatever writes there says so (a render still runs without it)
    return home


def cache_dir(name: str) -> Path:
    """A named cache folder under the data folder (e.g. ``cache_dir("motion")``)."""
    path = studio_home() / "cache" / name
    path.mkdir(parents=True, exist_ok=True)
    return path
