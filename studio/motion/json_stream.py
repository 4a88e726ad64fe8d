"""Read a JSON object whose one long array (a motion file's ``frames``) may be cut short: work is bounded by what
was asked, not by the file's size.

``json.load`` of a motion file of a million frames takes minutes and gigabytes before a render of 4 frames can
start. Here the file is read in chunks; the top-level values are decoded one by one, and the long array's items
only until ``stop`` of them are in hand. Numbers must be finite: ``NaN``, ``Infinity`` and overflowing literals
(``1e999``) are refused where they are read.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: No single value (a header field or one frame) may be larger: a hostile file cannot make us hold gigabytes.
MAX_VALUE_BYTES = 16 << 20
CHUNK = 1 << 20


class NotFiniteError(ValueError):
    pass


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise NotFiniteError(f"the number {text} is too large")
    return value


def _refuse_constant(name: str) -> Any:
    raise NotFiniteError(f"{name} is not a number a motion file may hold")


_DECODER = json.JSONDecoder(parse_float=_finite_float, parse_constant=_refuse_constant)
_SPACE = " \t\n\r"


class _Reader:
    def __init__(self, handle):
        self.handle, self.text, self.pos, self.eof = handle, "", 0, False

    def _more(self) -> bool:
        if self.eof:
            return False
        chunk = self.handle.read(CHUNK)
        if not chunk:
            self.eof = True
            return False
        self.text = self.text[self.pos:] + chunk  # what was consumed is dropped: memory stays ~ one value
        self.pos = 0
        return True

    def peek(self) -> str:
        while True:
            while self.pos < len(self.text) and self.text[self.pos] in _SPACE:
                self.pos += 1
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self._more():
                raise ValueError("the file ends too early")

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise ValueError(f"expected {char!r} at a {self.text[self.pos]!r}")
        self.pos += 1

    def value(self) -> Any:
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.text, self.pos)
            except NotFiniteError:
                raise
            except json.JSONDecodeError:
                if len(self.text) - self.pos > MAX_VALUE_BYTES:
                    raise ValueError(f"a value is larger than {MAX_VALUE_BYTES >> 20} MB") from None
                if not self._more():
                    raise
                continue
            # a number at the chunk's edge may be cut ("12" of "123"): decode it again with more text
            if end == len(self.text) and not self.eof and self._more():
                continue
            self.pos = end
            return value


def read_object(path: str | Path, long_array: str, stop: Callable[[dict], int | None] | None = None,
                needs: tuple[str, ...] = ()) -> tuple[dict, bool]:
    """The top-level JSON object in ``path``, with at most ``stop(what was read before the array)`` items of its
    array ``long_array`` (all when ``stop`` is None or says None). Returns (object, whether the array was read to its end). The rest of the file is left unread when the
    keys ``needs`` are in hand by then (the studio writes the array last); otherwise the further items are decoded
    and dropped. Raises ValueError for malformed JSON and for non-finite numbers (the message says which)."""
    with open(path, encoding="utf-8") as handle:
        reader = _Reader(handle)
        reader.expect("{")
        result: dict = {}
        complete = True
        if reader.peek() == "}":
            return result, complete
        while True:
            key = reader.value()
            if not isinstance(key, str):
                raise ValueError("an object key must be a string")
            reader.expect(":")
            if key == long_array and reader.peek() == "[":
                reader.expect("[")
                limit = stop(result) if stop is not None else None
                items: list = []
                if reader.peek() == "]":
                    reader.pos += 1
                else:
                    while True:
                        if limit is not None and len(items) >= limit:
                            complete = False
                            if all(k in result for k in needs):
                                break  # the rest is not read: nothing after the array is needed
                            reader.value()  # read past, kept nowhere
                        else:
                            items.append(reader.value())
                        if reader.peek() == "]":
                            reader.pos += 1
                            break
                        reader.expect(",")
                result[key] = items
                if not complete and all(k in result for k in needs):
                    return result, complete
            else:
                result[key] = reader.value()
            if reader.peek() == "}":
                return result, complete
            reader.expect(",")
