"""Reading a request evaluates each class's annotations once, not once per field and per request: the window
reads every queued job's request, and uncached this cost ~50 ms of interpreter time per job."""

from __future__ import annotations

import typing

from studio.request import schema
from studio.request.render_request import RenderRequest


def test_reading_requests_evaluates_each_class_annotations_at_most_once(monkeypatch):
    data = RenderRequest(reference="a.jpg", motion="b.mp4").to_dict()
    RenderRequest.from_dict(data)  # every class seen once
    calls = []
    real = typing.get_type_hints
    monkeypatch.setattr(typing, "get_type_hints", lambda owner, *a, **k: calls.append(owner) or real(owner, *a, **k))
    for _ in range(3):
        assert RenderRequest.from_dict(data) == RenderRequest.from_dict(data)
    assert calls == [], f"annotations evaluated again for {sorted({c.__name__ for c in calls})}"
    assert schema.nested_fields(RenderRequest)  # (the nested settings are still found)
