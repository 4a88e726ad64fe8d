"""The alignment view frames the photo exactly as the render will: same size and the same crop/pad fit."""

from __future__ import annotations

import numpy as np


def test_alignment_view_follows_the_fit_setting(window, qtbot, sample_photo):
    panel, view = window.parameter_panel, window.alignment_view
    window.reference_panel.load(sample_photo)
    panel.set_value("width", 512)
    panel.set_value("height", 256)  # the square sample photo must be padded or cropped to 2:1
    panel.set_value("fit", "pad")
    qtbot.waitUntil(lambda: view.reference_out is not None and view.fit == "pad")
    padded = view.reference_out
    assert padded.shape == (256, 512, 3)
    assert not padded[:, :64].any() and not padded[:, -64:].any()  # black side bars: the whole photo fits
    panel.set_value("fit", "crop")
    qtbot.waitUntil(lambda: view.fit == "crop")
    cropped = view.reference_out
    assert cropped.shape == (256, 512, 3)
    assert np.mean(cropped[:, :64]) > 10 and np.mean(cropped[:, -64:]) > 10  # the photo fills the frame
