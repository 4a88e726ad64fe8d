"""The parameter panel: every render setting as a slider or spinbox, presets, seed lock and dice,
inline validation, and undo/redo of every edit through a shared QUndoStack."""

from __future__ import annotations

import random
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ui.param_undo import SetParameters
from ui.parameter_specs import SPECS, ParamSpec, coerce, core_presets, default_params, validate

_SLIDER_STEPS = 1000


class ParameterPanel(QWidget):
    """Holds the current settings (``params``) and emits ``changed`` after every edit, undo or redo."""

    changed = Signal(dict)

    def __init__(self, undo_stack: QUndoStack, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = undo_stack
        self.params: dict[str, Any] = default_params()
        self.presets: dict[str, dict[str, Any]] = core_presets()
        self.editors: dict[str, QWidget] = {}
        self.sliders: dict[str, QSlider] = {}
        self.errors: dict[str, QLabel] = {}
        self._updating = False

        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        top = QHBoxLayout()
        top.addWidget(QLabel("Preset"))
        self.preset_combo = QComboBox()
        self.preset_combo.setToolTip("Apply a named set of settings (only the settings it names change).")
        self.preset_combo.addItem("— choose —")
        self.preset_combo.addItems(list(self.presets))
        self.preset_combo.activated.connect(self._preset_chosen)
        top.addWidget(self.preset_combo, 1)
        reset = QPushButton("Defaults")
        reset.setToolTip("Put every setting back to its default (undoable).")
        reset.clicked.connect(lambda: self.apply_values(default_params(), "Reset to defaults"))
        top.addWidget(reset)
        outer.addLayout(top)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        body_layout = QVBoxLayout(body)
        groups: dict[str, QFormLayout] = {}
        for spec in SPECS:
            if spec.group not in groups:
                box = QGroupBox(spec.group)
                groups[spec.group] = QFormLayout(box)
                body_layout.addWidget(box)
            self._add_row(groups[spec.group], spec)
        body_layout.addStretch(1)
        scroll.setWidget(body)
        outer.addWidget(scroll, 1)
        self.validation_label = QLabel()
        self.validation_label.setObjectName("validation")
        self.validation_label.setWordWrap(True)
        outer.addWidget(self.validation_label)
        self._refresh_validation()

    # building --------------------------------------------------------------------------------------
    def _add_row(self, form: QFormLayout, spec: ParamSpec) -> None:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        editor: QWidget
        if spec.kind == "bool":
            editor = QCheckBox()
            editor.setChecked(bool(spec.default))
            editor.toggled.connect(lambda v, n=spec.name: self._edited(n, v))
        elif spec.kind == "choice":
            editor = QComboBox()
            editor.addItems(list(spec.choices))
            editor.setCurrentText(spec.default)
            editor.currentTextChanged.connect(lambda v, n=spec.name: self._edited(n, v))
        else:
            if spec.kind == "int":
                editor = QSpinBox()
                editor.setRange(int(spec.minimum), int(spec.maximum))
                editor.setSingleStep(int(spec.step))
            else:
                editor = QDoubleSpinBox()
                editor.setDecimals(spec.decimals)
                editor.setRange(spec.minimum, spec.maximum)
                editor.setSingleStep(spec.step)
            editor.setValue(spec.default)
            editor.setKeyboardTracking(False)
            editor.valueChanged.connect(lambda v, n=spec.name: self._edited(n, v))
            if spec.slider:
                slider = QSlider(Qt.Orientation.Horizontal)
                slider.setRange(0, _SLIDER_STEPS)
                slider.setToolTip(spec.tooltip)
                slider.setValue(self._to_slider(spec, spec.default))
                slider.valueChanged.connect(lambda pos, s=spec: self._slider_moved(s, pos))
                self.sliders[spec.name] = slider
                layout.addWidget(slider, 1)
        editor.setToolTip(spec.tooltip)
        editor.setObjectName(f"param_{spec.name}")
        layout.addWidget(editor)
        if spec.name == "seed":
            self.seed_lock = QCheckBox("lock")
            self.seed_lock.setToolTip("Keep this seed for every render. Unlocked, each render draws a new seed "
                                      "(the seed used is recorded in the sidecar).")
            self.seed_lock.setChecked(True)
            layout.addWidget(self.seed_lock)
            dice = QToolButton()
            dice.setText("Roll")
            dice.setToolTip("Pick a new random seed (undoable).")
            dice.clicked.connect(self.roll_seed)
            self.dice_button = dice
            layout.addWidget(dice)
        self.editors[spec.name] = editor
        label = QLabel(spec.label)
        label.setToolTip(spec.tooltip)
        error = QLabel()
        error.setObjectName("field_error")
        error.setWordWrap(True)
        error.hide()
        self.errors[spec.name] = error
        column = QWidget()
        column_layout = QVBoxLayout(column)
        column_layout.setContentsMargins(0, 0, 0, 0)
        column_layout.setSpacing(1)
        column_layout.addWidget(row)
        column_layout.addWidget(error)
        form.addRow(label, column)

    @staticmethod
    def _to_slider(spec: ParamSpec, value: float) -> int:
        span = spec.maximum - spec.minimum
        return round((float(value) - spec.minimum) / span * _SLIDER_STEPS) if span else 0

    @staticmethod
    def _from_slider(spec: ParamSpec, pos: int) -> float:
        value = spec.minimum + (spec.maximum - spec.minimum) * pos / _SLIDER_STEPS
        if spec.kind == "int":
            return int(round(value))
        return round(round(value / spec.step) * spec.step, spec.decimals)

    # edits -----------------------------------------------------------------------------------------
    def _slider_moved(self, spec: ParamSpec, pos: int) -> None:
        if not self._updating:
            self._edited(spec.name, self._from_slider(spec, pos))

    def _edited(self, name: str, value: Any) -> None:
        if self._updating or self.params.get(name) == value:
            return
        spec_label = next(s.label for s in SPECS if s.name == name)
        self.undo_stack.push(SetParameters(self._set_values, {name: self.params[name]}, {name: value},
                                           f"Change {spec_label}"))

    def set_value(self, name: str, value: Any) -> None:
        """Change one setting as a person would (undoable)."""
        self._edited(name, coerce(name, value))

    def apply_values(self, values: dict[str, Any], text: str) -> None:
        """Change several settings as one undoable step."""
        values = {k: coerce(k, v) for k, v in values.items() if k in self.params}
        before = {k: self.params[k] for k in values}
        if before != values:
            self.undo_stack.push(SetParameters(self._set_values, before, values, text, mergeable=False))

    def load_values(self, values: dict[str, Any]) -> None:
        """Replace the settings without an undo step (opening a project)."""
        merged = default_params()
        merged.update({k: coerce(k, v) for k, v in values.items() if k in merged})
        self._set_values(merged)

    def _set_values(self, values: dict[str, Any]) -> None:
        self.params.update(values)
        self._updating = True
        try:
            for name, value in values.items():
                editor = self.editors[name]
                if isinstance(editor, QCheckBox):
                    editor.setChecked(bool(value))
                elif isinstance(editor, QComboBox):
                    editor.setCurrentText(str(value))
                else:
                    editor.setValue(value)
                if name in self.sliders:
                    spec = next(s for s in SPECS if s.name == name)
                    self.sliders[name].setValue(self._to_slider(spec, value))
        finally:
            self._updating = False
        self._refresh_validation()
        self.changed.emit(dict(self.params))

    def _refresh_validation(self) -> None:
        problems = validate(self.params)
        for name, label in self.errors.items():
            message = problems.get(name, "")
            label.setText(message)
            label.setVisible(bool(message))
        self.validation_label.setText("" if not problems else f"{len(problems)} setting(s) need attention.")

    def problems(self) -> dict[str, str]:
        return validate(self.params)

    # presets and seed ------------------------------------------------------------------------------
    def _preset_chosen(self, index: int) -> None:
        if index <= 0:
            return
        name = self.preset_combo.itemText(index)
        self.apply_preset(name)
        self.preset_combo.setCurrentIndex(0)

    def apply_preset(self, name: str) -> None:
        self.apply_values(self.presets[name], f"Preset {name}")

    def roll_seed(self) -> None:
        self.set_value("seed", random.randrange(0, 2**31 - 1))

    def seed_for_render(self) -> int:
        """The seed the next render uses: the locked one, or a fresh draw that becomes the shown seed."""
        if not self.seed_lock.isChecked():
            self.roll_seed()
        return int(self.params["seed"])
