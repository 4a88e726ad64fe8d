"""The settings schema: each render setting is declared once, as a dataclass field with ``setting(...)``
metadata (type from the annotation; default, range, choices, unit, help, label, CLI flag, window group in
the metadata). Everything else reads that declaration: validation with field paths (``alignment.scale``),
the CLI options and their help (``studio.cli.options``), the window's editors (``ui.parameter_specs``) and the
JSON schema of the sidecar and the project.

The metadata is a plain mapping, so ``pipelines`` (which never imports ``studio``) declares the HJB settings
beside ``HJBConfig``'s own fields with the same keys (see ``SETTING_KEYS``).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
import re
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from studio.errors import InputError

#: What a declaration may say besides ``help``: bounds are inclusive; ``unset`` says what None means (shown as
#: the CLI default and as the window editor's special value at 0 when the minimum is above 0); ``cli`` is the
#: option name; ``group`` puts the setting in that box of the window's parameter panel (no group: not shown
#: there); ``step``/``decimals``/``slider``/``label`` shape its editor; ``pattern`` (with an ``example``) is the
#: regular expression a text setting must match.
SETTING_KEYS = frozenset({"help", "label", "unit", "minimum", "maximum", "choices", "cli", "group", "step",
                          "decimals", "slider", "unset", "pattern", "example"})


def setting(default: Any = dataclasses.MISSING, *, help: str, factory: Any = None, **declared: Any) -> Any:  # noqa: A002
    """A dataclass field declared as a setting (``factory`` builds a mutable default, e.g. a nested object)."""
    unknown = set(declared) - SETTING_KEYS
    if unknown:
        raise TypeError(f"unknown setting metadata {sorted(unknown)}; allowed: {sorted(SETTING_KEYS)}")
    if "choices" in declared:
        declared["choices"] = tuple(declared["choices"])
    metadata = {"help": help, **declared}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


@dataclass(frozen=True)
class Setting:
    """One declared leaf setting, by its dotted path in the request."""

    path: str
    #: "int" | "float" | "bool" | "choice" | "text"
    kind: str
    optional: bool
    default: Any
    help: str
    label: str
    unit: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    cli: str | None = None
    group: str | None = None
    step: float = 1
    decimals: int = 2
    slider: bool = False
    unset: str | None = None
    #: Text settings: the whole value must match this regular expression; ``example`` says what fits.
    pattern: str | None = None
    example: str | None = None

    def problem(self, value: Any) -> Problem | None:
        """What is wrong with ``value`` for this setting (None when it is fine)."""
        if value is None:
            return None if self.optional else Problem(self.path, f"{self.path} must be set")
        if self.kind == "bool":
            return None if isinstance(value, bool) else self._bad(value, "true or false")
        if self.kind in ("int", "float"):
            whole = self.kind == "int"
            if isinstance(value, bool) or not isinstance(value, numbers.Integral if whole else numbers.Real):
                return self._bad(value, "a whole number" if whole else "a number")
            if not math.isfinite(value):
                return self._bad(value, "a finite number")
            low, high = self.minimum, self.maximum
            number = typing.cast(float, value)  # numbers.Real declares no comparison with float; every Real has one
            if (low is not None and number < low) or (high is not None and number > high):
                return self._bad(value, self.range_text())
            return None
        if not isinstance(value, str):
            return self._bad(value, "text")
        if self.pattern is not None and not re.fullmatch(self.pattern, value):
            return Problem(self.path, f"{self.path} must look like {self.example or self.pattern}, got {value!r}")
        if self.choices and value not in self.choices:
            return Problem(self.path, f"{self.path} {value!r} is unknown; choose one of {', '.join(self.choices)}")
        return None

    def _bad(self, value: Any, wanted: str) -> Problem:
        return Problem(self.path, f"{self.path} must be {wanted}, got {value!r}")

    def range_text(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        low, high = _plain(self.minimum), _plain(self.maximum)
        if low is not None and high is not None:
            return f"between {low} and {high}{unit}"
        return f"≥ {low}{unit}" if low is not None else f"≤ {high}{unit}"

    def default_text(self) -> str:
        """The default as the CLI help says it."""
        if self.default is None:
            return self.unset or "none"
        if self.kind == "bool":
            return "on" if self.default else "off"
        return f"{_plain(self.default)}{' ' + self.unit if self.unit else ''}"


def _plain(number: Any) -> Any:
    """2.0 → 2 in messages; whole-number bounds read as such."""
    return int(number) if isinstance(number, float) and number.is_integer() else number


@dataclass(frozen=True)
class Problem:
    """One invalid value: the setting's path (the window highlights that editor) and a sentence."""

    path: str
    message: str

    def __str__(self) -> str:
        return self.message


class SettingsError(InputError):
    """Invalid settings; ``problems`` name each field by path. One line, as every user-facing error."""

    def __init__(self, problems: list[Problem], what: str = "render request") -> None:
        self.problems = list(problems)
        super().__init__(f"invalid {what}: " + "; ".join(p.message for p in self.problems))

    @property
    def paths(self) -> list[str]:
        return [p.path for p in self.problems]


# ------------------------------------------------------------------------------------------ reading declarations
@functools.cache
def _type_hints(owner: type) -> dict[str, Any]:
    """``typing.get_type_hints`` once per class: it evaluates every annotation string of the class, and a
    request is built field by field (each queued job read from the queue, each sidecar) — uncached, reading one
    job cost ~100 ms of interpreter time."""
    return typing.get_type_hints(owner)


def _field_type(owner: type, f: dataclasses.Field) -> tuple[Any, bool]:
    """The field's type without ``| None``, and whether None is allowed."""
    hint = _type_hints(owner)[f.name]
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return args[0], len(args) < len(typing.get_args(hint))
    return hint, False


def _kind(hint: Any, metadata: Any) -> str:
    if hint is bool:
        return "bool"
    if hint is int:
        return "int"
    if hint is float:
        return "float"
    if hint is str:
        return "choice" if metadata.get("choices") else "text"
    raise TypeError(f"a setting must be bool, int, float or str (or a nested settings class), not {hint!r}")


def _default_of(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


@functools.cache
def settings_of(cls: type, prefix: str = "", defaults: Any = None) -> tuple[Setting, ...]:
    """Every declared leaf setting of ``cls`` (nested settings classes walked), in declaration order.
    ``defaults``: the instance whose values are the defaults (a nested field's own default object)."""
    found: list[Setting] = []
    for f in dataclasses.fields(cls):
        hint, optional = _field_type(cls, f)
        default = getattr(defaults, f.name) if defaults is not None else _default_of(f)
        path = prefix + f.name
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            found += settings_of(hint, path + ".", default)
            continue
        if "help" not in f.metadata:
            continue  # not a setting (a content hash, the format version)
        meta = dict(f.metadata)
        found.append(Setting(path=path, kind=_kind(hint, meta), optional=optional, default=default,
                             label=meta.pop("label", f.name.replace("_", " ").capitalize()), **meta))
    return tuple(found)


def nested_fields(cls: type) -> dict[str, type]:
    """The fields of ``cls`` that hold a nested settings object, with its class."""
    return dict(_nested_fields(cls))


@functools.cache
def _nested_fields(cls: type) -> tuple[tuple[str, type], ...]:
    out = []
    for f in dataclasses.fields(cls):
        hint, _ = _field_type(cls, f)
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            out.append((f.name, hint))
    return tuple(out)


def setting_by_path(cls: type) -> dict[str, Setting]:
    return {s.path: s for s in settings_of(cls)}


# ------------------------------------------------------------------------------------------ values by path
def get_path(obj: Any, path: str) -> Any:
    """A value by dotted path: ``steps``, ``export.crf``, ``alignment.mode``."""
    for name in path.split("."):
        obj = getattr(obj, name)
    return obj


def replace_paths(obj: Any, values: dict[str, Any]) -> Any:
    """A copy of ``obj`` with the dotted paths set (nested objects keep their other fields)."""
    top: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {}
    for path, value in values.items():
        head, _, rest = path.partition(".")
        if rest:
            nested.setdefault(head, {})[rest] = value
        else:
            top[head] = value
    for head, sub in nested.items():
        top[head] = replace_paths(top.get(head, getattr(obj, head)), sub)
    return dataclasses.replace(obj, **top)


# ------------------------------------------------------------------------------------------ checking
def check(obj: Any) -> list[Problem]:
    """Every value of ``obj`` that does not fit its declaration (type, finite, range, choices), by path."""
    problems = []
    cls: type = type(obj)
    for s in settings_of(cls):
        try:
            value = get_path(obj, s.path)
        except AttributeError:  # a nested object of the wrong kind
            head = s.path.rpartition(".")[0]
            problems.append(Problem(head, f"{head} must be an object, got {get_path(obj, head)!r}"))
            continue
        problem = s.problem(value)
        if problem is not None:
            problems.append(problem)
    return list(dict.fromkeys(problems))


def build(cls: type, data: Any, default: Any = None, path: str = "", what: str = "render request") -> Any:
    """An instance of ``cls`` from a JSON mapping: the fields given, the rest from ``default`` (or the class
    defaults); nested mappings become their settings class. Unknown fields are refused by path; the values
    are not checked here (``check`` does that, so a window can hold an invalid value and say why)."""
    if isinstance(data, cls):
        return data
    if not isinstance(data, dict):
        raise SettingsError([Problem(path.rstrip("."), f"{path.rstrip('.')} must be an object, got {data!r}")], what)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        where = f" {path.rstrip('.')!r}" if path else ""
        names = ", ".join(unknown)
        raise SettingsError([Problem(path + u, f"unknown {what} field(s){where}: {names}") for u in unknown[:1]], what)
    values = dict(data)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for name, kind in nested_fields(cls).items():
        if name in values:
            inner_default = getattr(default, name) if default is not None else _default_of(fields[name])
            values[name] = build(kind, values[name], inner_default, f"{path}{name}.", what)
    if default is not None:
        return dataclasses.replace(default, **values)
    return cls(**values)


# ------------------------------------------------------------------------------------------ JSON schema
_JSON_TYPES = {"int": "integer", "float": "number", "bool": "boolean", "choice": "string", "text": "string"}


def json_schema(cls: type, title: str, defaults: Any = None) -> dict[str, Any]:
    """A JSON schema (draft 2020-12) of ``cls`` as it is saved: one property per field, nested objects inside."""
    by_name = {s.path: s for s in settings_of(cls, "", defaults)}
    properties: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        hint, optional = _field_type(cls, f)
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            inner = getattr(defaults, f.name) if defaults is not None else _default_of(f)
            properties[f.name] = json_schema(hint, f.name, inner)
            properties[f.name].pop("$schema")
            continue
        s = by_name.get(f.name)
        if s is None:
            kind = _kind(hint, {})
            properties[f.name] = {"type": [_JSON_TYPES[kind], "null"] if optional else _JSON_TYPES[kind]}
            continue
        prop: dict[str, Any] = {"type": [_JSON_TYPES[s.kind], "null"] if s.optional else _JSON_TYPES[s.kind],
                                "description": s.help + (f" ({s.unit})" if s.unit else "")}
        if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING:
            prop["default"] = s.default
        if s.choices:
            prop["enum"] = list(s.choices) + ([None] if s.optional else [])
        if s.minimum is not None:
            prop["minimum"] = s.minimum
        if s.maximum is not None:
            prop["maximum"] = s.maximum
        if s.pattern is not None:
            prop["pattern"] = f"^(?:{s.pattern})$"
        properties[f.name] = prop
    required = [f.name for f in dataclasses.fields(cls)
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": title, "type": "object",
            "properties": properties, "required": required, "additionalProperties": False}


def iter_flat(values: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``{"export": {"crf": 18}}`` → ``("export.crf", 18)``: a partial request (a preset) as paths."""
    for key, value in values.items():
        if isinstance(value, dict):
            yield from iter_flat(value, f"{prefix}{key}.")
        else:
            yield prefix + key, value
