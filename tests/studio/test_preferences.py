"""``studio.preferences``: stored values read back, what a render does with them, where a render goes."""

from __future__ import annotations

from pathlib import Path

from studio.preferences import Preferences, max_threads
from studio.request.render_request import RenderRequest

REQUEST = RenderRequest("photo.jpg", "dance.mp4")


def test_stored_strings_read_back_and_bad_values_are_said():
    prefs = Preferences.from_dict({"device": "cpu", "precision": "fp16", "threads": "2", "data_folder": "",
                                   "output_folder": "/videos", "unknown": "x"})
    assert prefs == Preferences(output_folder="/videos", device="cpu", precision="fp16", threads=2)
    assert Preferences.from_dict(prefs.to_dict()) == prefs
    assert Preferences.from_dict({"threads": "many"}).threads == 0
    problems = Preferences(device="cuda", threads=max_threads() + 1).problems(devices=("auto", "cpu"))
    assert any("'cuda' is not available here" in p for p in problems)
    assert any(f"0 (automatic) to {max_threads()}" in p for p in problems)


def test_auto_takes_the_preferred_device_and_precision_a_projects_own_choice_stays():
    prefs = Preferences(device="cpu", precision="fp32")
    assert (lambda r: (r.device, r.dtype))(prefs.apply(REQUEST)) == ("cpu", "fp32")
    own = REQUEST.replace(device="cuda", dtype="bf16")
    assert prefs.apply(own) == own
    assert Preferences().apply(REQUEST) == REQUEST
    assert prefs.resolve(REQUEST) == prefs.apply(REQUEST)  # (resolve: the same, without threads)


def test_where_a_render_goes():
    fallback = Path("/home/me/Videos")
    plain, preferred = Preferences(), Preferences(output_folder="/renders")
    assert plain.output_folder_for("/mine", "/p/x.sastudio.json", fallback) == Path("/mine")
    assert preferred.output_folder_for(None, "/p/x.sastudio.json", fallback) == Path("/renders")
    assert plain.output_folder_for(None, "/p/x.sastudio.json", fallback) == Path("/p")
    assert plain.output_folder_for(None, None, fallback) == fallback
