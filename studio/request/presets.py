"""Named partial requests: quality (fast preview / balanced / quality) × size (512×512, 576×1024).

A preset is a dict of ``RenderRequest`` fields; applying one replaces only those fields, so a preset never
touches the photo, the motion, the seed or the export folder.
"""

from __future__ import annotations

from typing import Any

from studio.errors import InputError
from studio.request.render_request import RenderRequest

QUALITIES: dict[str, dict[str, Any]] = {
    "fast-preview": {"steps": 10, "decode_chunk": 8, "max_frames": 16, "export": {"crf": 23, "preset": "veryfast"}},
    "balanced": {"steps": 20, "decode_chunk": 4, "max_frames": None, "export": {"crf": 18, "preset": "medium"}},
    "quality": {"steps": 30, "decode_chunk": 4, "max_frames": None, "export": {"crf": 15, "preset": "slow"}},
}
SIZES: dict[str, dict[str, Any]] = {
    "512x512": {"width": 512, "height": 512},
    "576x1024": {"width": 576, "height": 1024},
}

#: Every preset by name: "fast-preview-512x512", "balanced-576x1024", ... plus the qualities and sizes alone.
PRESETS: dict[str, dict[str, Any]] = {
    **{f"{q}-{s}": {**QUALITIES[q], **SIZES[s]} for q in QUALITIES for s in SIZES},
    **QUALITIES,
    **SIZES,
}


def preset_names() -> list[str]:
    return list(PRESETS)


def preset(name: str) -> dict[str, Any]:
    """The partial request named ``name`` (a copy)."""
    try:
        values = PRESETS[name]
    except KeyError:
        raise InputError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}") from None
    return {k: (dict(v) if isinstance(v, dict) else v) for k, v in values.items()}


def apply_preset(request: RenderRequest, name: str) -> RenderRequest:
    return request.replace(**preset(name))
