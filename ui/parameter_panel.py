"""The parameter panel: every render setting as a slider or spinbox bound to a field of the project's
request, presets, seed lock and dice, inline validation from the request's own validator. Edits go to
``studio.project.Project`` (which keeps the undo history); the editors follow the project's change events."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.project import UI_FIELDS, Change, Project, get_path
from studio.request.presets import PRESETS
from studio.request.render_request import random_seed
from ui.parameter_specs import SPEC_BY_NAME, SPECS, ParamSpec, from_editor, to_editor
from ui.render_bridge import interpolation_problem, unavailable_choices

_SLIDER_STEPS = 1000
#: Slider and number box share a row; the slider gives way first when the dock is narrow.
_SLIDER_MIN_WIDTH = 60


class _CommitBeforeUndo(QObject):
    """Ctrl+Z right after typing a number: commit the typed text first, then let the window's Undo run.

    A spin box's line edit would otherwise take Ctrl+Z for its own text undo, so the typed value was
    neither committed nor undone."""

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            if event.matches(QKeySequence.StandardKey.Undo) or event.matches(QKeySequence.StandardKey.Redo):
                spin = obj.parent() if not isinstance(obj, QAbstractSpinBox) else obj
                if isinstance(spin, QAbstractSpinBox):
                    spin.interpretText()
                event.ignore()
                return True  # not accepted: the shortcut (the window's Undo/Redo) handles the key
        return False


class ParameterPanel(QWidget):
    """The request's settings as editors; ``project`` holds the values."""

    def __init__(self, project: Project, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.project = project
        self.presets: dict[str, dict[str, Any]] = dict(PRESETS)
        self.editors: dict[str, QWidget] = {}
        self.sliders: dict[str, QSlider] = {}
        self.errors: dict[str, QLabel] = {}
        self._updating = False
        self._commit_filter = _CommitBeforeUndo(self)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        top = QHBoxLayout()
        top.addWidget(QLabel("Preset"))
        self.preset_combo = QComboBox()
        self.preset_combo.setToolTip("Apply a named set of settings (only the settings it names change).")
        self.preset_combo.addItem("— choose —")
        self.preset_combo.addItems(list(self.presets))
        self.preset_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.preset_combo.setMinimumContentsLength(10)
        self.preset_combo.activated.connect(self._preset_chosen)
        top.addWidget(self.preset_combo, 1)
        reset = QPushButton("Defaults")
        reset.setToolTip("Put every setting back to its default (undoable).")
        reset.clicked.connect(self.reset_defaults)
        top.addWidget(reset)
        outer.addLayout(top)

        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(2, 2, 2, 2)
        groups: dict[str, QFormLayout] = {}
        for spec in SPECS:
            if spec.group not in groups:
                box = QGroupBox(spec.group)
                form = QFormLayout(box)
                # narrow dock: the editor moves under its label instead of being cut off
                form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
                form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
                groups[spec.group] = form
                body_layout.addWidget(box)
            self._add_row(groups[spec.group], spec)
        body_layout.addStretch(1)
        self.scroll.setWidget(body)
        # the dock may not get narrower than the settings need (no clipped number boxes)
        self.scroll.setMinimumWidth(body.minimumSizeHint().width() + self.scroll.verticalScrollBar().sizeHint().width()
                                    + 2 * self.scroll.frameWidth())
        outer.addWidget(self.scroll, 1)
        self.validation_label = QLabel()
        self.validation_label.setObjectName("validation")
        self.validation_label.setWordWrap(True)
        outer.addWidget(self.validation_label)
        self.project.subscribe(self._project_changed)
        self._show(SPEC_BY_NAME)
        self._show_availability()
        self._refresh_validation()

    # building --------------------------------------------------------------------------------------
    def _add_row(self, form: QFormLayout, spec: ParamSpec) -> None:
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        editor: QWidget
        if spec.kind == "bool":
            editor = QCheckBox()
            editor.toggled.connect(lambda v, n=spec.name: self._edited(n, v))
        elif spec.kind == "choice":
            editor = QComboBox()
            editor.addItems(list(spec.choices))
            editor.currentTextChanged.connect(lambda v, n=spec.name: self._edited(n, v))
        elif spec.kind == "text":
            editor = QLineEdit()
            editor.editingFinished.connect(lambda e=editor, n=spec.name: self._edited(n, e.text()))
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
            if spec.none_at is not None:
                editor.setSpecialValueText(spec.none_text)
            editor.setKeyboardTracking(False)
            editor.valueChanged.connect(lambda v, n=spec.name: self._edited(n, v))
            editor.installEventFilter(self._commit_filter)
            editor.findChild(QWidget, "qt_spinbox_lineedit").installEventFilter(self._commit_filter)
            if spec.slider:
                slider = QSlider(Qt.Orientation.Horizontal)
                slider.setRange(0, _SLIDER_STEPS)
                slider.setMinimumWidth(_SLIDER_MIN_WIDTH)
                slider.setToolTip(spec.tooltip)
                slider.valueChanged.connect(lambda pos, s=spec: self._slider_moved(s, pos))
                self.sliders[spec.name] = slider
                layout.addWidget(slider, 1)
        editor.setToolTip(spec.tooltip)
        editor.setObjectName(f"param_{spec.name}")
        layout.addWidget(editor, 0 if spec.slider else 1)
        label: QWidget = QLabel(spec.label)
        if spec.name == "seed":
            # the lock is the row's label ("Lock seed"), so the row stays narrow enough for a narrow dock
            self.seed_lock = QCheckBox(f"Lock {spec.label.lower()}")
            self.seed_lock.setToolTip("Keep this seed for every render. Unlocked, each render draws a new seed "
                                      "(the seed used is recorded in the sidecar).")
            self.seed_lock.toggled.connect(lambda v: self._edited("seed_locked", v))
            label = self.seed_lock
            dice = QToolButton()
            dice.setText("Roll")
            dice.setToolTip("Pick a new random seed (undoable).")
            dice.clicked.connect(self.roll_seed)
            self.dice_button = dice
            layout.addWidget(dice)
        self.editors[spec.name] = editor
        if not label.toolTip():
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
    def value(self, name: str) -> Any:
        """The current value of a setting, as the request holds it."""
        return self.project.get(name)

    def _slider_moved(self, spec: ParamSpec, pos: int) -> None:
        if not self._updating:
            self._edited(spec.name, self._from_slider(spec, pos))

    def _edited(self, name: str, value: Any) -> None:
        if self._updating:
            return
        spec = SPEC_BY_NAME.get(name)
        if spec is not None:
            value = from_editor(spec, value)
        label = spec.label if spec is not None else "seed lock"
        # a typed name is one finished edit, never merged with the previous one like a slider's drag
        merge = spec is None or spec.kind != "text"
        self.project.set({name: value}, text=f"Change {label}", merge=merge)

    def set_value(self, name: str, value: Any) -> None:
        """Change one setting as a person would (undoable)."""
        self._edited(name, value)

    def reset_defaults(self) -> None:
        defaults = type(self.project.request)(reference="", motion="")
        values = {spec.name: self.project.get(spec.name) for spec in SPECS}
        blank = Project()  # the window-only fields' defaults
        fresh = {spec.name: blank.get(spec.name) if spec.name in UI_FIELDS else get_path(defaults, spec.name)
                 for spec in SPECS if spec.name != "engine"}
        changed = {k: v for k, v in fresh.items() if values[k] != v}
        if changed:
            self.project.set(changed, text="Reset to defaults", merge=False)

    def _project_changed(self, change: Change) -> None:
        names = [n for n in SPEC_BY_NAME if change.touches(n)]
        if names:
            self._show(names)
        if change.touches("seed_locked"):
            self._updating = True
            try:
                self.seed_lock.setChecked(bool(self.project.seed_locked))
            finally:
                self._updating = False
        if change.touches("models"):
            self._show_availability()
        if names or change.touches("models"):
            self._refresh_validation()

    def _show(self, names) -> None:
        self._updating = True
        try:
            for name in names:
                spec = SPEC_BY_NAME[name]
                value = to_editor(spec, self.project.get(name))
                editor = self.editors[name]
                if isinstance(editor, QCheckBox):
                    editor.setChecked(bool(value))
                elif isinstance(editor, QComboBox):
                    editor.setCurrentText(str(value))
                elif isinstance(editor, QLineEdit):
                    editor.setText(str(value))
                else:
                    # a value outside the editor (a loaded file's) shows at the nearest end; its error says why
                    value = _within(value, editor.minimum(), editor.maximum())
                    editor.setValue(value)
                if name in self.sliders:
                    self.sliders[name].setValue(self._to_slider(spec, value))
            self.seed_lock.setChecked(bool(self.project.seed_locked))
        finally:
            self._updating = False

    def _show_availability(self) -> None:
        """A choice that cannot run with this project (RIFE without its weights) stays listed but disabled; its
        tooltip and the editor's say why and what to do."""
        unavailable = unavailable_choices(self.project.request)
        for spec in SPECS:
            if spec.kind != "choice":
                continue
            editor = self.editors[spec.name]
            assert isinstance(editor, QComboBox)
            reasons = unavailable.get(spec.name, {})
            for index, choice in enumerate(spec.choices):
                reason = reasons.get(choice)
                editor.model().item(index).setEnabled(reason is None)
                editor.setItemData(index, f"{choice}: {reason}." if reason else "", Qt.ItemDataRole.ToolTipRole)
            editor.setToolTip(spec.tooltip + "".join(f" Unavailable now: {reason}." for reason in reasons.values()))

    def _refresh_validation(self) -> None:
        problems = self.problems()
        for name, label in self.errors.items():
            message = problems.get(name, "")
            label.setText(message)
            label.setVisible(bool(message))
        unplaced = problems.get("", "")
        count = len(problems) - (1 if unplaced else 0) + (unplaced.count("\n") + 1 if unplaced else 0)
        self.validation_label.setText("" if not problems else f"{count} setting(s) need attention."
                                      + (f" {unplaced}" if unplaced else ""))

    def problems(self) -> dict[str, str]:
        """The request validator's problems by setting path (key "" for those no editor here shows), and an
        interpolator the render would need but cannot run (``render_bridge.interpolation_problem``)."""
        by_field: dict[str, str] = {}
        found = [(p.path, p.message) for p in self.project.field_problems()]
        interpolation = interpolation_problem(self.project.request)
        if interpolation:
            found.append(("interpolate_method", interpolation[:1].upper() + interpolation[1:]))
        for path, message in found:
            name = path if path in self.errors else ""
            by_field[name] = (by_field[name] + "\n" + message) if name in by_field else message
        return by_field

    # presets and seed ------------------------------------------------------------------------------
    def _preset_chosen(self, index: int) -> None:
        if index <= 0:
            return
        name = self.preset_combo.itemText(index)
        self.apply_preset(name)
        self.preset_combo.setCurrentIndex(0)

    def apply_preset(self, name: str) -> None:
        self.project.apply_preset(self.presets[name], name)

    def roll_seed(self) -> None:
        self.project.set(seed=random_seed(), text="Roll seed", merge=False)


def _within(value: Any, low: float, high: float) -> Any:
    """``value`` clamped to an editor's range (a value that is not a finite number shows as the low end)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or value in (
            float("inf"), float("-inf")):
        return low
    return min(max(value, low), high)
