"""The motion view shows who is followed and lets the user click another person (issue 19 item 3).

Driven through the real widgets: the window extracts the wide two-person clip (a man on a box, a woman walking
past below him; auto follows the woman, the more prominent), paints the followed person's box, then "Pick
person" draws the boxes of the people on the shown frame, a click on nobody says so in the message bar, and a
click on the man extracts the motion again following him, saved in the request.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt

from tests.studio.motion.test_follow import MAN_HIPS_Y, WIDE, WOMAN_HIPS_Y
from tests.ui.conftest import wait_task

MIDWAY = (MAN_HIPS_Y + WOMAN_HIPS_Y) / 2
#: A frame where the search finds both people (tests/studio/motion/test_pick.py).
FRAME = 25


def _widget_point(view, x: float, y: float) -> QPoint:
    """Where source pixel (x, y) lies on the view."""
    point = view._to_widget(view._target_rect(), view._boxes_size).map(QPointF(x, y))
    return QPoint(round(point.x()), round(point.y()))


def _edge_colours(view, box) -> np.ndarray:
    """The view's painted colours (RGB) along the top edge of ``box`` (source pixels)."""
    image = view.grab().toImage().convertToFormat(view.grab().toImage().Format.Format_RGB888)
    rect = view._to_widget(view._target_rect(), view._boxes_size).mapRect(
        QRectF(box[0], box[1], box[2] - box[0], box[3] - box[1]))
    ratio = image.width() / view.width()  # (1 offscreen; a high-DPI screen grabs more pixels)
    y = round(rect.top() * ratio)
    xs = range(round((rect.left() + 6) * ratio), round((rect.right() - 6) * ratio))
    return np.array([[image.pixelColor(x, y).red(), image.pixelColor(x, y).green(), image.pixelColor(x, y).blue()]
                     for x in xs])


def _hips(motion) -> list[float]:
    return [float(p.body[[8, 11], 1].mean()) for p, s in zip(motion.poses, motion.status, strict=True)
            if s == "detected"]


def test_the_followed_box_is_painted_and_a_click_on_a_person_follows_them(qtbot, window):
    from ui.frame_view import CANDIDATE_COLOUR, FOLLOWED_COLOUR

    panel, view = window.motion_panel, window.motion_panel.view
    wait_task(qtbot, panel.load(str(WIDE)))
    wait_task(qtbot, panel.extract())
    assert panel.motion is not None and panel.motion.person == "auto"
    assert all(h > MIDWAY for h in _hips(panel.motion))  # auto: the woman, the more prominent
    assert "the most prominent person" in panel.person_label.text()

    # the followed person's box is painted on the shown frame
    panel.player.set_frame(FRAME)
    followed = view._person_box
    assert followed is not None and followed[3] > MIDWAY
    dashes = _edge_colours(view, followed)
    want = np.array([FOLLOWED_COLOUR.red(), FOLLOWED_COLOUR.green(), FOLLOWED_COLOUR.blue()])
    assert (np.abs(dashes - want).max(axis=1) <= 40).mean() > 0.5, dashes[:5]

    # Pick person: the people on this frame are found off the GUI thread and their boxes drawn
    qtbot.mouseClick(panel.pick_button, Qt.MouseButton.LeftButton)
    assert panel.picking() and panel.pick_button.isChecked()
    qtbot.waitUntil(lambda: len(view._candidates) == 2, timeout=120000)
    man = min(view._candidates, key=lambda box: box[1])
    yellow = np.array([CANDIDATE_COLOUR.red(), CANDIDATE_COLOUR.green(), CANDIDATE_COLOUR.blue()])
    assert (np.abs(_edge_colours(view, man) - yellow).max(axis=1) <= 40).any()  # (dashed)
    assert "Click a person to follow (frame 25: 2 found)" in panel.person_label.text()

    # a click on nobody (the grass in the bottom-left corner): a clear message, nothing extracted
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=_widget_point(view, 5, 490))
    assert "No person at that point on frame 25" in window.message_bar.text()
    assert panel.extract_task is None and panel.picking()

    # a click on the man: the motion is extracted again following him, and the pick is saved in the request
    x, y = (man[0] + man[2]) / 2, (man[1] + man[3]) / 2
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=_widget_point(view, x, y))
    task = panel.extract_task
    assert task is not None and not panel.picking()
    pick = window.project.request.person
    assert pick.startswith("@25:") and abs(int(pick.split(":")[1].split(",")[0]) - x) <= 2
    assert "the person picked on frame 25" in panel.person_label.text()
    wait_task(qtbot, task)
    assert task.outcome == "succeeded", task.error
    assert panel.motion.person == pick and window.project.prepared.clip.person == pick
    assert all(h < MIDWAY for h in _hips(panel.motion))  # the man, on every frame he was seen
    panel.player.set_frame(FRAME)
    assert view._person_box is not None and view._person_box[3] < MIDWAY
    assert view._candidates == []  # the pick boxes are gone

    # the pick is one undoable step of the project
    window.undo_action.trigger()
    assert window.project.request.person == "auto"
    assert "extract again to apply" in panel.person_label.text()


def test_picking_can_be_stopped_and_a_cancelled_extraction_keeps_the_pick(qtbot, window):
    panel = window.motion_panel
    wait_task(qtbot, panel.load(str(WIDE)))
    panel.player.set_frame(0)
    panel.pick_button.click()
    assert panel.picking() and panel.view.cursor().shape() == Qt.CursorShape.CrossCursor
    panel.pick_button.click()  # stop picking: no boxes, no cross
    assert not panel.picking() and panel.view.cursor().shape() == Qt.CursorShape.ArrowCursor
    qtbot.waitUntil(lambda: not window.runner.running(), timeout=120000)  # the finder's answer is dropped
    assert panel.view._candidates == [] and "Following:" in panel.person_label.text()
    # the extraction started by a pick is the ordinary one: Cancel stops it
    window.project.set({"person": "@0:320,120"}, text="Pick person")
    task = panel.extract()
    panel.cancel_button.click()
    wait_task(qtbot, task)
    assert task.outcome == "cancelled" and panel.motion is None
    assert window.project.request.person == "@0:320,120" and panel.person == "@0:320,120"
