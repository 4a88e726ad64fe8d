"""A command-line render imports the model code while it prepares the photo and poses, not after (issue 22 item 3:
the import took longer than loading the 9 GB of weights)."""

from __future__ import annotations

import importlib
import sys

import pytest

import studio.render.renderer
from studio.render.model_imports import import_model_code
from studio.render.renderer import Renderer
from studio.request.render_request import RenderRequest
from studio.system.progress import CancelToken


class Prepared(Exception):
    """Stops the render where the test has seen what it needs."""


@pytest.mark.parametrize(("engine", "imports_early"), [("diffusion", True), ("warp", False)])
def test_a_diffusion_render_starts_the_model_imports_before_preparing(monkeypatch, tmp_path, engine, imports_early):
    events: list[str] = []
    monkeypatch.setattr(studio.render.renderer, "import_model_code_soon", lambda: events.append("imports started"))

    def prepare(*_args, **_kwargs):
        events.append("prepare")
        raise Prepared

    monkeypatch.setattr(studio.render.renderer, "prepare", prepare)
    photo, video = tmp_path / "photo.png", tmp_path / "dance.mp4"
    request = RenderRequest(reference=str(photo), motion=str(video), engine=engine,
                            models=str(tmp_path / "models") if engine == "diffusion" else None)
    with pytest.raises(Prepared):
        Renderer(lambda name: None).render(request, tmp_path / "out.mp4")
    assert events == (["imports started", "prepare"] if imports_early else ["prepare"])


def test_the_imports_run_under_the_heavy_import_lock_and_stop_when_cancelled(monkeypatch):
    from studio.render.engine import HEAVY_IMPORT_LOCK

    imported: list[tuple[str, bool]] = []
    cancel = CancelToken()

    def fake_import(name):
        # the lock is held by this thread (a render needing the libraries waits instead of racing the import)
        held = HEAVY_IMPORT_LOCK._is_owned()  # type: ignore[attr-defined]  # RLock's own check of its owner
        imported.append((name, held))
        if name == "second":
            cancel.cancel()
        return sys

    monkeypatch.setattr(importlib, "import_module", fake_import)
    assert import_model_code(("first", "second", "third"), cancel) is False
    assert imported == [("first", True), ("second", True)]
    assert import_model_code(("first",)) is True


def test_a_missing_library_is_left_to_the_code_that_uses_it(monkeypatch):
    tried: list[str] = []

    def fake_import(name):
        tried.append(name)
        if name == "absent.library":
            raise ImportError(f"no module named {name}")
        return sys

    monkeypatch.setattr(importlib, "import_module", fake_import)
    assert import_model_code(("absent.library", "present.library")) is True
    assert tried == ["absent.library", "present.library"]  # the rest still imported ahead of need
