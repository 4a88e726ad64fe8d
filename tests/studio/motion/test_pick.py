"""Picking the person to follow by pointing at them on a frame (issue 19): ``--person @F:X,Y``.

The wide test clip shows a man on a box (upper half) and a woman walking past on the grass below him (see
test_follow.py). The clicks are the centres of the boxes ``find_people`` returns, as the window's picker uses
them; the followed person is told apart by the height of their hips (the man's ~135 px, the woman's ~360 px).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from studio.__main__ import main
from studio.errors import InputError
from studio.motion import extract_poses
from studio.motion.motion_file import read_motion_json
from studio.motion.people import PickedPerson, PickSpec, find_people, missed_pick, person_at
from studio.motion.types import PoseFrame
from tests.generated_media import write_astronaut_photo
from tests.studio.motion.test_follow import MAN_HIPS_Y, WIDE, WOMAN_HIPS_Y

MIDWAY = (MAN_HIPS_Y + WOMAN_HIPS_Y) / 2
#: A frame in the middle of the clip where the search finds both people (on some frames it misses the man).
PICK_FRAME = 25


def _centre(box) -> tuple[int, int]:
    return round((box[0] + box[2]) / 2), round((box[1] + box[3]) / 2)


@pytest.fixture(scope="module")
def people():
    found = find_people(WIDE, PICK_FRAME)
    assert len(found) == 2, found
    return sorted(found, key=lambda p: p.box[1])  # the man (higher up) first


def test_find_people_gives_a_box_per_person_and_a_click_names_one(people):
    man, woman = people
    assert man.box[3] < MIDWAY < woman.box[3], (man.box, woman.box)  # the man's feet are above the woman's hips
    assert all(0 < p.score <= 1 for p in people)
    assert person_at(people, *_centre(man.box)) is man and person_at(people, *_centre(woman.box)) is woman
    assert person_at(people, 5, 490) is None  # the grass in the bottom-left corner: nobody


@pytest.mark.parametrize("which", [0, 1], ids=["man", "woman"])
def test_cli_person_pick_follows_the_person_clicked(people, which, tmp_path, capsys):
    box = people[which].box
    x, y = _centre(box)
    photo = write_astronaut_photo(tmp_path / "photo.png", size=128)
    out = tmp_path / "out"
    code = main(["extract-motion", str(WIDE), "--reference", str(photo), "--out", str(out), "--person",
                 f"@{PICK_FRAME}:{x},{y}", "--quiet", "--no-cache", "--json"])
    assert code == 0, capsys.readouterr().err
    assert json.loads(capsys.readouterr().out)["person"] == f"@{PICK_FRAME}:{x},{y}"
    motion = read_motion_json(out / "motion.json")
    assert motion.person == f"@{PICK_FRAME}:{x},{y}"
    detected = [k for k, s in enumerate(motion.status) if s == "detected"]
    assert len(detected) >= 0.8 * len(motion.status), motion.status
    hips = [float(motion.source_poses[k].body[[8, 11], 1].mean()) for k in detected]
    # never the other person: every detected frame's hips on the clicked person's side of the midway line
    clicked_above = (box[1] + box[3]) / 2 < MIDWAY
    assert all((h < MIDWAY) == clicked_above for h in hips), [round(h) for h in hips]
    # motion.json carries the followed person's box on every frame they were seen, holding their keypoints
    for k in detected:
        x0, y0, x1, y1 = motion.person_boxes[k]
        body = motion.source_poses[k].body
        sure = body[body[:, 2] > 0.3]
        assert (sure[:, 0] >= x0).all() and (sure[:, 0] <= x1).all() and (sure[:, 1] >= y0).all() \
            and (sure[:, 1] <= y1).all()
    clicked = motion.person_boxes[motion.indices.index(PICK_FRAME)]
    assert clicked[0] <= x <= clicked[2] and clicked[1] <= y <= clicked[3], (clicked, x, y)
    assert all(motion.person_boxes[k] is None for k, s in enumerate(motion.status) if s != "detected")


def test_a_pick_on_the_first_frame_is_chosen_by_place():
    # the man is the less prominent of the two (auto follows the woman): clicking him on frame 0 follows him
    first = find_people(WIDE, 0)
    man = min(first, key=lambda p: p.box[1])
    clip = extract_poses(WIDE, use_cache=False, person="@0:{},{}".format(*_centre(man.box)))
    hips = [float(p.body[[8, 11], 1].mean()) for p, s in zip(clip.poses, clip.status, strict=True) if s == "detected"]
    assert hips and all(h < MIDWAY for h in hips), [round(h) for h in hips]
    assert not clip.warnings, clip.warnings


def _standing(x: float) -> PoseFrame:
    """A pose whose sure points span x..x+20, 10..70."""
    pose = PoseFrame()
    pose.body[1] = (x, 10, 0.9)
    pose.body[8] = (x + 20, 70, 0.9)
    return pose


def test_a_picked_person_is_chosen_by_place_on_its_frame_by_look_elsewhere_and_else_by_nearness():
    a, b = _standing(10), _standing(100)
    red, blue = {"torso": np.array([1.0, 0.0])}, {"torso": np.array([0.0, 1.0])}
    looks = {id(a): red, id(b): blue}
    # clicked at (20, 40) on frame 7, where the one under the point was dressed in blue
    picked = PickedPerson(PickSpec(7, 20, 40), (8.0, 8.0, 32.0, 72.0), look=blue, others=[red])
    picked.now = 7  # the follower first finds people on the picked frame itself: the one under the point
    assert picked.choose([a, b], lambda p: looks[id(p)]) is a
    picked.now = 0  # elsewhere: the one dressed like the picked person
    assert picked.choose([a, b], lambda p: looks[id(p)]) is b
    assert picked.choose([b, a], lambda p: {}) is a  # no look to compare: the nearest to the picked box


def test_a_note_says_when_the_person_followed_on_the_picked_frame_is_not_the_one_clicked():
    picked = PickedPerson(PickSpec(7, 20, 40), (8.0, 8.0, 32.0, 72.0), look={}, others=[])
    assert missed_pick(picked, [5, 7], [None, _standing(10)]) is None  # followed there: the one clicked
    assert missed_pick(picked, [5, 6], [None, _standing(100)]) is None  # frame 7 not extracted: nothing to say
    for other in (_standing(100), None):  # someone else, or nobody, followed on frame 7
        note = missed_pick(picked, [5, 7], [None, other])
        assert note is not None and note.startswith("--person @7:20,40: the person followed on frame 7 is not")


@pytest.mark.parametrize("pick, message", [
    ("@36:100,100", r"--person @36:100,100: frame 36 is beyond the clip .*frames 0–35"),
    ("@5:884,100", r"--person @5:884,100: the point 884,100 lies outside the 884×498 frame"),
    ("@5:100,498", r"the point 100,498 lies outside"),
    ("@0:5,490", r"--person @0:5,490: no person at 5,490 on frame 0 \(the people there lie in the boxes"),
])
def test_a_pick_off_the_clip_or_on_nobody_is_a_one_line_error(pick, message):
    with pytest.raises(InputError, match=message) as error:
        extract_poses(WIDE, use_cache=False, person=pick)
    assert "\n" not in str(error.value)


def test_cli_refuses_a_malformed_pick(tmp_path, capsys):
    photo = write_astronaut_photo(tmp_path / "photo.png", size=64)
    code = main(["extract-motion", str(WIDE), "--reference", str(photo), "--out", str(tmp_path / "o"),
                 "--person", "@5:100", "--quiet"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "--person must be auto, a number from 1" in err and "@F:X,Y" in err
