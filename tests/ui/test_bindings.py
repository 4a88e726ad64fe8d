"""``ui.bindings``: a panel shows the project's fields and writes its edits back as one undo step; the window's
trim, clip limit and weights folder live in the project only."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QSpinBox

from studio.project import Project
from ui.bindings import bind


def test_a_binding_shows_changes_and_writes_edits_back_once(qtbot):
    project = Project()
    spin = QSpinBox()
    spin.setRange(1, 1000)
    qtbot.addWidget(spin)
    shown: list[dict] = []

    def show(values):
        shown.append(values)
        spin.setValue(values["steps"])  # emits valueChanged: must not become an edit

    bind(project, ("steps",), show, edited=spin.valueChanged, read=lambda: {"steps": spin.value()},
         text="Change steps")
    assert spin.value() == project.request.steps and not project.can_undo()
    project.set(steps=7, undoable=False)
    assert spin.value() == 7 and not project.can_undo()
    spin.setValue(9)  # the person edits
    assert project.request.steps == 9 and project.undo_text() == "Change steps"
    project.undo()
    assert spin.value() == 7 and project.request.steps == 7 and not project.can_undo()
    project.set(width=320)  # another field: not shown again
    assert shown[-1] == {"steps": 7} and len(shown) == 4


def test_the_window_panels_follow_the_project(window):
    project = window.project
    project.set({"start": 1.5, "end": 3.0, "stride": 2, "max_frames": 12, "models": "/some/weights"},
                undoable=False)
    assert window.motion_panel.trim() == (pytest.approx(1.5), pytest.approx(3.0), 2)
    assert window.motion_panel.max_frames == 12 and window.reference_panel.models_dir == "/some/weights"
    window.motion_panel.stride_spin.setValue(3)  # an edit in the panel is the project's, undoable
    assert project.request.stride == 3 and project.undo_text() == "Change trim"
    window.undo_action.trigger()
    assert project.request.stride == 2 and window.motion_panel.trim()[2] == 2
