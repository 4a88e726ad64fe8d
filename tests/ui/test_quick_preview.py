"""The quick preview is a cheaper render of the project: never more steps or frames than the render it previews."""

from __future__ import annotations

from studio.request.render_request import RenderRequest
from ui.parameter_specs import QUICK_PREVIEW, quick_preview_changes


def _preview_of(**fields) -> RenderRequest:
    request = RenderRequest(reference="a.jpg", motion="b.mp4", **fields)
    return request.replace(**quick_preview_changes(request))


def test_a_project_of_two_steps_and_two_frames_previews_two_of_each():
    preview = _preview_of(steps=2, max_frames=2)
    assert (preview.steps, preview.max_frames) == (2, 2)


def test_a_full_render_is_previewed_at_the_preview_size():
    preview = _preview_of(steps=25, max_frames=None)
    assert (preview.steps, preview.max_frames) == (QUICK_PREVIEW["steps"], QUICK_PREVIEW["max_frames"])
    assert (preview.width, preview.height) == (QUICK_PREVIEW["width"], QUICK_PREVIEW["height"])


def test_a_transparent_background_is_previewed_over_the_photo():
    assert _preview_of(background="transparent").background == "photo"
    assert _preview_of(background="generated").background == "generated"
