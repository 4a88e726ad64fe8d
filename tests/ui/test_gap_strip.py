"""The motion panel's gap strip shows which extracted frames have no person (issue 12)."""

from __future__ import annotations

from studio.motion.types import PoseFrame
from studio.project import Clip


def test_gap_strip_marks_held_and_none_frames(qtbot, window):
    panel = window.motion_panel
    status = ["detected"] * 4 + ["held"] * 2 + ["detected"] * 3 + ["none"] * 8
    note = "no person in frames 9–16 (8 of 17 frames); the nearest pose is held there: trim or continue"
    motion = Clip(list(range(17)), [PoseFrame() for _ in status], (64, 64), 8.0, [note], status)
    panel.set_motion(motion)
    assert not panel.gaps.isHidden() and panel.gaps.toolTip() == note
    image = panel.gaps.grab().toImage()
    right = image.pixelColor(image.width() - 2, 2)
    left = image.pixelColor(1, 2)
    assert right.red() > 200 and right.green() < 120  # the long gap at the end is red
    assert (left.red(), left.green(), left.blue()) != (right.red(), right.green(), right.blue())
    panel.set_motion(Clip([0, 1], [PoseFrame()] * 2, (64, 64), 8.0, [], ["detected"] * 2))
    assert panel.gaps.isHidden()
