"""The window shows the predicted peak memory beside the Render button and follows the project's request."""

from __future__ import annotations

import re


def _gb(text: str) -> float:
    return float(re.search(r"needs ≈ ([0-9.]+) GB", text).group(1))


def test_memory_label_follows_the_request(window, qtbot, tiny_fixture_dir):
    label = window.memory_label
    project = window.project
    project.set({"engine": "diffusion", "models": str(tiny_fixture_dir / "checkpoints"), "device": "cpu",
                 "dtype": "fp32", "width": 256, "height": 256, "tile_size": 8, "max_frames": 8,
                 "decode_chunk": 2, "hjb.enabled": False, "cpu_offload": False}, undoable=False)
    qtbot.waitUntil(lambda: "needs ≈" in label.text(), timeout=120000)
    assert "on cpu fp32" in label.text() and "(for 8 frames)" in label.text()
    small = _gb(label.text())
    project.set({"width": 512, "height": 512}, undoable=False)  # an edit through the model reaches the label
    qtbot.waitUntil(lambda: "needs ≈" in label.text() and _gb(label.text()) != small, timeout=120000)
    assert _gb(label.text()) > small
    project.set({"engine": "warp"}, undoable=False)
    qtbot.waitUntil(lambda: label.text() == "", timeout=5000)
