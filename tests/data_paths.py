"""Where the tests find their reference data: in the repository under ``tests/data/`` (an env var may point elsewhere).

A plain ``git clone`` holds everything the suite reads, so no test skips or fails for a file that lives outside the
repository. ``STABLEANIMATOR_FIXTURE`` / ``STABLEANIMATOR_KEYS`` override the in-repository copies (e.g. to check a
newer release of the public fixture).
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"


def tiny_fixture_dir() -> Path:
    """The public tiny StableAnimator fixture: official checkpoint layout, inputs, expected outputs."""
    env = os.environ.get("STABLEANIMATOR_FIXTURE")
    return Path(env) if env else DATA_DIR / "stableanimator-tiny"


def key_listings_dir() -> Path:
    """The official state-dict key listings (``<model>.tsv``: key, shape, dtype) of the released checkpoints."""
    env = os.environ.get("STABLEANIMATOR_KEYS")
    return Path(env) if env else DATA_DIR / "stableanimator-keys"


def key_listing(name: str) -> Path:
    """One listing by file name; a missing file is a broken checkout, so it fails rather than skips."""
    path = key_listings_dir() / name
    if not path.is_file():
        raise FileNotFoundError(f"key listing {path} is missing; it ships in tests/data/ (or set STABLEANIMATOR_KEYS)")
    return path
