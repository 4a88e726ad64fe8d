"""The window shows the predicted peak memory beside the Render button and follows the settings."""

from __future__ import annotations

import re


def _gb(text: str) -> float:
    return float(re.search(r"needs ≈ ([0-9.]+) GB", text).group(1))


def test_memory_label_follows_the_settings(window, qtbot, tiny_fixture_dir):
    label = window.memory_label
    params = dict(window.parameter_panel.params) | {"engine": "diffusion", "device": "cpu", "dtype": "fp32",
                                                    "width": 256, "height": 256, "tile_size": 8, "max_frames": 8,
                                                    "decode_chunk": 2, "hjb": False, "cpu_offload": False}
    models = str(tiny_fixture_dir / "checkpoints")
    label.update_for(params, models)
    qtbot.waitUntil(lambda: "needs ≈" in label.text(), timeout=120000)
    assert "on cpu fp32" in label.text() and "(for 8 frames)" in label.text()
    small = _gb(label.text())
    label.update_for(params | {"width": 512, "height": 512}, models)
    qtbot.waitUntil(lambda: "needs ≈" in label.text() and _gb(label.text()) != small, timeout=120000)
    assert _gb(label.text()) > small
    label.update_for(params | {"engine": "warp"}, models)
    qtbot.waitUntil(lambda: label.text() == "", timeout=5000)
