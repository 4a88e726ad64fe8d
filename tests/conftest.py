"""Test-wide settings: offscreen Qt, one torch thread, a throwaway data folder, the public tiny fixture."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests import data_paths

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def tiny_fixture_dir() -> Path:
    """The public tiny StableAnimator fixture (official checkpoint layout, inputs, expected outputs)."""
    path = data_paths.tiny_fixture_dir()
    if not (path / "fixture.json").is_file():
        pytest.fail(f"the tiny fixture was not found at {path}; it ships in tests/data/ (or set STABLEANIMATOR_FIXTURE)")
    return path


@pytest.fixture(autouse=True)
def _isolated_studio_home(tmp_path_factory, monkeypatch):
    """Keep every test away from the user's real settings, caches and queue."""
    home = tmp_path_factory.mktemp("studio_home")
    monkeypatch.setenv("STUDIO_HOME", str(home))
    monkeypatch.delenv("STUDIO_DATA", raising=False)  # (a data folder chosen in a test's preferences ends with it)
    yield home


def pytest_configure(config):
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # the queue and UI tests do not need torch
        pass
