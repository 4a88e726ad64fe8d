"""The one place that locates the bundled assets (sample photo and motion, theme, icon).

``assets`` is a package of the distribution, so ``importlib.resources`` finds its files wherever the studio
runs from: a checkout, an installed wheel, or a zip (then the file is extracted once and kept until exit).
"""

from __future__ import annotations

import atexit
import contextlib
from importlib import resources
from pathlib import Path

from studio.errors import StudioError

SAMPLE_PHOTO = "sample_photo.jpg"
SAMPLE_MOTION = "sample_motion.mp4"
#: The same dance as a motion folder (keypoints with face-68 points): ``asset_path(SAMPLE_DANCE).parent``.
SAMPLE_DANCE = "sample_dance/motion.json"
THEME = "theme.qss"
ICON = "icons/app.svg"

# Files extracted from a zipped installation stay on disk until the process exits.
_extracted = contextlib.ExitStack()
atexit.register(_extracted.close)


def asset_path(name: str) -> Path:
    """The file ``name`` (e.g. ``"icons/app.svg"``) of the bundled assets, as a real path on disk."""
    resource = resources.files("assets").joinpath(*name.split("/"))
    if not resource.is_file():
        raise StudioError(f"the bundled asset {name} is missing from this installation; reinstall the studio")
    if isinstance(resource, Path):
        return resource
    return _extracted.enter_context(resources.as_file(resource))
