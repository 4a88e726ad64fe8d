"""What the window says when something is unavailable at run time: from the core's checks, not import probing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ui.render_bridge import MISSING_WEIGHTS, render_available


def test_warp_needs_no_weights_and_diffusion_asks_for_them():
    assert render_available("warp", None) is None
    assert render_available("diffusion", None) == MISSING_WEIGHTS


def test_weights_folder_problems_come_from_the_core_check(tmp_path: Path, tiny_fixture_dir: Path):
    missing = tmp_path / "nowhere"
    assert f"{missing} is not a folder" in render_available("diffusion", str(missing))

    reason = render_available("diffusion", str(tmp_path))
    assert "missing SVD/ — the Stable Video Diffusion folder" in reason and "Models…" in reason

    folder = tmp_path / "weights"
    shutil.copytree(tiny_fixture_dir / "checkpoints", folder)
    assert render_available("diffusion", str(folder)) is None
    (folder / "Animation" / "pose_net.pth").write_bytes(b"")
    assert "Animation/pose_net.pth is empty" in render_available("diffusion", str(folder))


def test_queue_panel_without_a_usable_database_says_so(qtbot, tmp_path: Path, monkeypatch):
    from studio.batch.queue import QueueError
    from studio.service import Studio
    from ui.queue_panel import QueuePanel
    from ui.workers import TaskRunner

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where STUDIO_HOME's folder should be")
    monkeypatch.setenv("STUDIO_HOME", str(blocker / "home"))
    panel = QueuePanel(TaskRunner(), Studio(renderer=object()))
    qtbot.addWidget(panel)
    assert panel.queue is None and "database could not be opened" in panel.summary.text()
    assert not panel.run_button.isEnabled()
    with pytest.raises(QueueError, match="batch queue is unavailable"):
        panel.add_jobs([])
