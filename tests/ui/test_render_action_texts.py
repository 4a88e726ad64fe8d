"""The three render actions tell themselves apart: each name and tooltip says what it renders, with which engine,
how long it takes and where the result goes (read from the window's real actions)."""

from __future__ import annotations


def _plain(action) -> str:
    return action.text().replace("&", "")


def test_the_three_render_actions_say_what_which_engine_how_long_and_where(window, sample_photo, sample_video,
                                                                           tmp_path):
    out = tmp_path / "my renders"
    window.project.set({"reference": sample_photo, "motion": sample_video, "output_dir": str(out),
                        "engine": "warp"})
    instant, draft, render = window.instant_action, window.preview_action, window.render_action
    names = [_plain(a) for a in (instant, draft, render)]
    assert len(set(names)) == 3 and "Instant" in names[0] and "Draft" in names[1] and "queue" in names[2]

    tip = instant.toolTip()
    assert "warp engine" in tip and "seconds" in tip and "nothing is saved" in tip and "not the model's" in tip
    tip = draft.toolTip()
    assert "warp engine" in tip and "seconds" in tip and "temporary" in tip and "Result panel" in tip
    tip = render.toolTip()
    assert "warp engine" in tip and "Queue" in tip and str(out) in tip and "sidecar" in tip
    statuses = [a.statusTip() for a in (instant, draft, render)]
    assert all(statuses) and len(set(statuses)) == 3 and str(out) in statuses[2]
    # the alignment view's button is the same action and says the same
    assert window.alignment_view.instant_button.toolTip() == instant.toolTip()

    window.project.set(engine="diffusion")  # the tooltips follow the engine (no weights here: said first)
    for action in (draft, render):
        assert "diffusion engine" in action.toolTip() and "on a GPU" in action.toolTip()
        assert "weights" in action.toolTip() and not action.isEnabled()
    assert "minutes on a GPU" in render.toolTip() and "model is loaded" in draft.toolTip()
    assert "warp engine" in instant.toolTip() and instant.isEnabled()  # the instant preview is always warp


def test_a_blocked_action_says_why_and_still_what_it_does(window):
    assert not window.render_action.isEnabled()
    tip = window.render_action.toolTip()
    assert tip.startswith("Load a reference photo") and "Full render" in tip
