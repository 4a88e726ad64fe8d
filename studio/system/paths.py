"""Where the studio keeps its data (queue database, caches, autosave, previews, logs) and the window its settings.

``STUDIO_HOME`` overrides the platform's user data folder; tests point it at a temporary folder so they
never touch a person's real settings or queue. ``STUDIO_DATA`` (set from the data-folder preference at start,
``use_data_folder``) moves the data elsewhere while the settings stay in the home folder, where a start finds them.
"""

from __future__ import annotations

import os
from pathlib import Path

#: The data folder chosen in the preferences (child processes inherit it with the environment).
DATA_ENV = "STUDIO_DATA"


def settings_home() -> Path:
    """The home folder: the settings live here whatever data folder they choose."""
    return _made(_home())


def studio_home() -> Path:
    """The data folder: the preferences' choice, else the home folder."""
    env = os.environ.get(DATA_ENV)
    return _made(Path(env).expanduser() if env else _home())


def use_data_folder(folder: str | Path | None) -> None:
    """From now on (and in child processes) the data goes into ``folder``; None: back to the home folder."""
    if folder:
        os.environ[DATA_ENV] = str(Path(folder).expanduser())
    else:
        os.environ.pop(DATA_ENV, None)


def _home() -> Path:
    env = os.environ.get("STUDIO_HOME")
    if env:
        home = Path(env).expanduser()
    else:
        from platformdirs import user_data_dir

        home = Path(user_data_dir("StableAnimatorStudio", appauthor=False))
    return home


def _made(folder: Path) -> Path:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        pass  # read-only, full or not a folder: whatever writes there says so (a render still runs without it)
    return folder


def cache_dir(name: str) -> Path:
    """A named cache folder under the data folder (e.g. ``cache_dir("motion")``)."""
    path = studio_home() / "cache" / name
    path.mkdir(parents=True, exist_ok=True)
    return path
