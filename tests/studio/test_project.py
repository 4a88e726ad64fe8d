"""The Qt-free project model: request edits by dotted path, undo/redo (with slider-drag merging), change
events, prepared results from the render's own functions, and the project file (v2 and v1)."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from studio.errors import InputError
from studio.motion.types import PoseFrame
from studio.project import Clip, Project, empty_request
from studio.request.render_request import AlignmentOptions, RenderRequest


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def project() -> Project:
    return Project(clock=Clock())


def test_new_project_without_weights_uses_the_warp_engine():
    assert empty_request().engine == "warp"
    assert empty_request("/weights").engine == "diffusion"


def test_edits_by_path_change_the_request_and_emit_events(project):
    seen = []
    project.subscribe(seen.append)
    assert project.set({"steps": 12, "export.crf": 30, "hjb.iterations": 5, "alignment.offset_x": 0.1})
    r = project.request
    assert (r.steps, r.export.crf, r.hjb.iterations, r.alignment.offset_x) == (12, 30, 5, 0.1)
    assert r.export.preset == "medium" and r.hjb.enabled is False  # siblings kept
    assert seen[-1].paths == {"steps", "export.crf", "hjb.iterations", "alignment.offset_x"}
    assert seen[-1].touches("alignment") and seen[-1].touches("export") and not seen[-1].touches("fit")
    assert project.get("alignment.scale") == 1.0  # the alignment default when the dict does not hold it
    n = len(seen)
    assert not project.set(steps=12)  # no change: no event, no undo step
    assert len(seen) == n


def test_undo_redo_and_merging_of_quick_edits():
    clock = Clock()
    project = Project(clock=clock)
    project.set(steps=10)
    clock.now = 0.2
    project.set(steps=11)  # a drag: merges with the previous edit of the same setting
    clock.now = 5.0
    project.set(steps=12)  # later: its own step
    project.set({"alignment.mode": "global"}, text="Alignment method")
    assert project.undo_text() == "Alignment method"
    events = []
    project.subscribe(events.append)
    project.undo()
    assert project.get("alignment.mode") == "bones" and events[-1].paths == {"alignment.mode"}
    project.undo()
    assert project.request.steps == 11
    project.undo()
    assert project.request.steps == 25 and not project.can_undo()
    project.redo()
    assert project.request.steps == 11
    project.set(fit="crop")
    assert not project.can_redo()  # a new edit drops the redo branch


def test_non_undoable_and_window_fields(project):
    project.set(reference="/x/photo.jpg", undoable=False)
    assert project.request.reference == "/x/photo.jpg" and not project.can_undo()
    project.set(seed_locked=False, output_dir="/out")
    assert project.get("seed_locked") is False and project.output_dir == "/out"
    project.undo()
    assert project.seed_locked is True and project.output_dir is None


def test_the_selection_is_saved_but_not_an_edit_and_the_fit_frame_follows_it(project, tmp_path):
    events = []
    project.subscribe(events.append)
    assert project.select(5) and project.selection == 5 and not project.can_undo()
    assert events[-1].paths == {"selection"}
    assert project.fit_on_selection()
    assert project.request.alignment.fit_frame == 5 and project.undo_text() == "Fit on frame 5"
    project.select(2)  # moving along the timeline keeps the fit where it was chosen
    assert project.get("alignment.fit_frame") == 5
    project.fit_on_selection(False)
    assert project.get("alignment.fit_frame") is None
    project.undo()
    assert project.get("alignment.fit_frame") == 5
    again = Project()
    again.load(project.save(tmp_path / "p.sastudio.json"))
    assert again.selection == 2 and again.request.alignment.fit_frame == 5
    data = json.loads((tmp_path / "p.sastudio.json").read_text()) | {"selection": "third"}
    again.load_dict(data)
    assert again.selection is None  # a bad value is dropped, not fatal


def test_the_file_name_template_is_a_saved_window_field_checked_with_the_settings(project, tmp_path):
    assert project.output_name == "{reference}__{motion}"
    project.set(output_name="{reference}_{counter:03d}")
    again = Project()
    again.load(project.save(tmp_path / "p.sastudio.json"))
    assert again.output_name == "{reference}_{counter:03d}"
    project.set(output_name="{colour}")
    assert any(p.startswith("file name template '{colour}' is not valid") for p in project.problems())
    project.undo()
    assert project.problems() == []


def test_seed_for_render_draws_when_unlocked(project):
    assert project.seed_for_render() == 42
    project.set(seed_locked=False)
    drawn = {project.seed_for_render(random.Random(i)) for i in range(5)}
    assert len(drawn) > 1 and project.request.seed in drawn


def test_a_render_or_queue_adds_no_undo_step(project):
    project.set(width=640)  # the person's last edit
    project.set(seed_locked=False, undoable=False)
    drawn = project.seed_for_render(random.Random(3))
    assert project.request.seed == drawn  # the drawn seed is shown …
    assert project.undo_text() == "Change width"  # … but queueing is not an edit
    project.undo()
    assert project.request.width != 640 and project.request.seed == drawn and not project.can_undo()


def test_preset_is_one_undo_step(project):
    from studio.request.presets import PRESETS

    project.apply_preset(PRESETS["quality-576x1024"], "quality-576x1024")
    r = project.request
    assert (r.width, r.height, r.steps, r.export.crf, r.export.preset) == (576, 1024, 30, 15, "slow")
    project.undo()
    assert (project.request.width, project.request.export.crf) == (512, 18)


def test_problems_come_from_the_request_validator(project):
    assert project.problems() == []  # an empty project is not a settings problem
    project.set({"min_guidance": 5.0, "max_guidance": 2.0, "engine": "diffusion"})
    assert any(p.startswith("min_guidance") for p in project.problems())
    assert project.problems() == [p for p in project.request.problems() if "path is empty" not in p
                                  and "weights folder" not in p]


def test_prepared_results_follow_the_framing_and_alignment(project, monkeypatch):
    # the render's alignment path finds the photo's person on the fitted photo; this synthetic photo has none
    monkeypatch.setattr("studio.motion.extract.reference_pose_on", lambda *a, **k: None)
    photo = np.zeros((100, 200, 3), np.uint8)
    pose = PoseFrame()
    pose.body[1] = (100, 20, 1.0)
    pose.body[8] = (100, 80, 1.0)
    project.set(width=128, height=128, fit="pad")
    project.set_photo(photo, pose)
    assert project.prepared.fitted.shape == (128, 128, 3)
    # pad: 200 px wide → 128, so the neck at x=100 lands in the middle, y shifted down by the bar
    neck = project.prepared.reference_pose.body[1]
    assert neck[0] == pytest.approx(64, abs=1) and neck[1] == pytest.approx(32 + 20 * 0.64, abs=1)
    driving = PoseFrame()
    driving.body[1] = (50, 10, 1.0)
    driving.body[8] = (50, 60, 1.0)
    project.set_clip(Clip([0, 1], [driving, driving], (100, 100), 10.0))
    assert len(project.prepared.aligned) == 2
    project.set({"alignment.mode": "none", "alignment.smoothing": False}, merge=False)
    plain = project.prepared.aligned[0].body[1][0]
    project.set({"alignment.offset_x": 0.25})
    assert project.prepared.aligned[0].body[1][0] - plain == pytest.approx(0.25 * 128, abs=0.5)
    project.undo()  # undo re-aligns too
    assert project.prepared.aligned[0].body[1][0] == pytest.approx(plain)
    project.set(width=256)
    assert project.prepared.fitted.shape == (128, 256, 3)


def test_project_file_round_trip_and_bad_files(project, tmp_path):
    project.set({"steps": 33, "export.fps": 12.5, "start": 0.5, "end": 2.0, "stride": 2,
                 "alignment.mode": "global", "seed_locked": False})
    path = project.save(tmp_path / "p.sastudio.json")
    other = Project()
    events = []
    other.subscribe(events.append)
    other.load(path)
    assert other.request == project.request and other.seed_locked is False
    assert {"steps", "export", "alignment", "start"} <= events[-1].paths
    assert not other.can_undo()

    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}')
    with pytest.raises(InputError, match="not a StableAnimator Studio project"):
        other.load(bad)
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(InputError, match="not valid JSON"):
        other.load(tmp_path / "broken.json")


def test_version_1_projects_still_open(tmp_path):
    old = {"kind": "stableanimator-studio-project", "version": 1, "reference": "/a.jpg", "motion": "/b.mp4",
           "models": None, "output_dir": "/out", "start": 1.0, "end": None, "stride": 3, "align_method": "global",
           "offset_x": 0.1, "offset_y": 0.0, "scale": 1.2, "seed_locked": False,
           "params": {"engine": "warp", "steps": 7, "max_frames": 0, "export_fps": 0.0, "crf": 20,
                      "x264_preset": "fast", "hjb": True, "hjb_iterations": 4, "hjb_mode": "exact"}}
    (tmp_path / "v1.json").write_text(json.dumps(old))
    project = Project()
    project.load(tmp_path / "v1.json")
    r = project.request
    assert (r.reference, r.motion, r.stride, r.steps, r.max_frames, r.export.fps) == ("/a.jpg", "/b.mp4", 3, 7,
                                                                                        None, None)
    assert (r.export.crf, r.export.preset, r.hjb.enabled, r.hjb.iterations, r.hjb.decode_mode) == (
        20, "fast", True, 4, "exact")
    assert r.alignment == AlignmentOptions(mode="global", offset_x=0.1, offset_y=0.0, scale=1.2)
    # a version-1 frame rate played the frames at that rate (see test_schema's version-2 migration)
    old["params"]["export_fps"] = 12.0
    (tmp_path / "v1.json").write_text(json.dumps(old))
    project.load(tmp_path / "v1.json")
    assert (project.request.export.fps, project.request.export.playback_fps) == (None, 12.0)
    assert project.output_dir == "/out" and project.seed_locked is False
    assert isinstance(RenderRequest.from_dict(r.to_dict()), RenderRequest)


def test_realignment_runs_through_the_background_runner_and_the_newest_result_wins(project, monkeypatch):
    monkeypatch.setattr("studio.motion.extract.reference_pose_on", lambda *a, **k: None)
    asked: list[tuple] = []  # (work, done, thread that asked)
    project.align_in_background(lambda work, done: asked.append((work, done)))
    changes: list = []
    project.subscribe(changes.append)
    pose = PoseFrame()
    pose.body[1], pose.body[8] = (100, 20, 1.0), (100, 80, 1.0)
    project.set({"width": 128, "height": 128, "alignment.mode": "none", "alignment.smoothing": False},
                undoable=False)
    project.set_photo(np.zeros((100, 200, 3), np.uint8), pose)
    driving = PoseFrame()
    driving.body[1], driving.body[8] = (50, 10, 1.0), (50, 60, 1.0)
    project.set_clip(Clip([0, 1], [driving, driving], (100, 100), 10.0))
    # nothing aligned inside the edit: the work waits for the runner
    assert project.prepared.aligning and project.prepared.aligned == [] and len(asked) == 1
    project.set({"alignment.offset_x": 0.25})  # a newer edit asks again before the first result is back
    assert len(asked) == 2 and project.prepared.aligned == []
    older_work, older_done = asked[0]
    newer_work, newer_done = asked[1]
    newer = newer_work()
    changes.clear()
    newer_done(newer)
    assert not project.prepared.aligning and len(project.prepared.aligned) == 2
    assert [c.paths for c in changes] == [frozenset({"prepared"})]
    shifted = project.prepared.aligned[0].body[1][0]
    older_done(older_work())  # late: dropped
    assert project.prepared.aligned[0].body[1][0] == shifted
    # the result is the render's own alignment: the same poses as aligning inside the edit
    project.align_in_background(None)
    project.set({"alignment.offset_x": 0.0}, undoable=False)
    project.set({"alignment.offset_x": 0.25}, undoable=False)
    assert project.prepared.aligned[0].body[1][0] == pytest.approx(shifted)
