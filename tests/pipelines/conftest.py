"""Shared fixtures for the pipeline tests: the public tiny fixture's pipeline is loaded once per session."""

from __future__ import annotations

import pytest
import torch

from pipelines.loading import load_stable_animator_pipeline
from pipelines.testing.fixture_context import load_context
from pipelines.testing.tiny import tiny_pipeline


@pytest.fixture(scope="session")
def fixture_pipe(tiny_fixture_dir):
    pipe = load_stable_animator_pipeline(tiny_fixture_dir / "checkpoints", device="cpu", dtype=torch.float32)
    pipe.set_progress_bar_config(disable=True)
    return pipe


@pytest.fixture(scope="session")
def fixture_ctx(tiny_fixture_dir):
    return load_context(tiny_fixture_dir)


@pytest.fixture(scope="session")
def small_pipe():
    """Tiny random pipeline (no files) for behaviour tests."""
    return tiny_pipeline(seed=0)
