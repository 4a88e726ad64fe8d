"""Following one person through a real clip (issue 19): find them, track a window around them, keep their identity.

Every frame the pose model looks at a square window around where the followed person was last seen, scaled so
they fill the model's input (a small figure in a wide shot gets close-up keypoints). What it finds there is
kept only if it is a real person (plausible keypoints on the person segmenter's silhouette, ``presence``) and
the same person (near where they were, dressed the same: ``appearance``); someone else walking through the
window is refused instead of followed. When the person is lost, after a scene cut and at the start, the whole
frame is searched (the frame itself, then overlapping windows for small people) and the person who looks like
the followed one is picked up again; at the start the most prominent person, or the N-th from the left.
"""

from __future__ import annotations

import numpy as np

from studio.motion import appearance
from studio.motion.crops import Window, cut, search_windows, to_frame, window_around
from studio.motion.presence import is_real_person
from studio.motion.segmentation import body_support
from studio.motion.sides import keep_sides
from studio.motion.types import PoseFrame

#: Appearance similarity (Bhattacharyya, 0–1) below which a pose is someone else, and above which a lost person
#: found elsewhere is the followed one again.
OTHER_PERSON = 0.55
SAME_PERSON = 0.7
#: How fast the followed person's look follows what is seen (light and pose change slowly).
LOOK_RATE = 0.05
#: Frames without the person before the whole frame is searched, and between searches while lost.
SEARCH_AFTER = 2
#: Two search results are one person when their boxes overlap this much (intersection over the smaller box).
SAME_BOX = 0.5


def box_of(pose: PoseFrame, score: float = 0.3) -> tuple[float, float, float, float] | None:
    pts = pose.body[pose.body[:, 2] > score]
    if len(pts) < 2:
        return None
    return (float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max()))


def _overlap_of_smaller(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return ix * iy / smaller if smaller > 0 else 0.0


def prominence(pose: PoseFrame) -> float:
    box = box_of(pose)
    if box is None:
        return 0.0
    return (box[2] - box[0] + 1) * (box[3] - box[1] + 1) * float(pose.body[:, 2].mean())


class PersonFollower:
    """One person's pose per frame (frame pixels) or None; see the module docstring.

    ``tracker``: a pose backend in video mode (fed the window around the person each frame); ``searcher``: one
    in image mode (fed the search windows); ``segmenter``: a ``segmentation.PersonSegmenter`` or None (then
    poses are not checked against a silhouette). ``person``: "auto" or the 1-based place from the left of the
    person to follow among those found when someone is first found.
    """

    def __init__(self, tracker, searcher, segmenter=None, person: str | int = "auto", search_every: int = 4) -> None:
        self.tracker, self.searcher, self.segmenter = tracker, searcher, segmenter
        self.person = person
        self.search_every = max(1, search_every)
        self.box: tuple[float, float, float, float] | None = None
        self.look: dict[str, np.ndarray] = {}
        self.previous: PoseFrame | None = None
        self.lost = 0
        self.after_cut = False
        #: Boxes (frame pixels, left to right) of the people found by the first successful search.
        self.first_people: list[tuple[float, float, float, float]] | None = None
        #: Per frame the left/right groups that were swapped back (the bench counts them).
        self.swapped: list[list[str]] = []
        self._looks: dict[int, dict] = {}  # this frame's appearance of each pose found, by id

    # ------------------------------------------------------------------------------------------- frames
    def scene_cut(self) -> None:
        """A new shot: the person's place says nothing now; their look still does."""
        self.box, self.previous, self.after_cut = None, None, True
        getattr(self.tracker, "reset", lambda: None)()

    def step(self, frame: np.ndarray) -> PoseFrame | None:
        self._looks = {}
        pose = None
        if self.box is not None:
            pose = self._track(frame)
        if pose is None:
            self.lost += 1
            if self.box is None or (self.lost - SEARCH_AFTER) % self.search_every == 0 and self.lost >= SEARCH_AFTER:
                pose = self._reacquire(frame)
        if pose is None:
            self.swapped.append([])
            return None
        seen = self._look_of(frame, pose)
        pose, swapped = keep_sides(pose, self.previous)
        self.swapped.append(swapped)
        self.box, self.previous, self.lost, self.after_cut = box_of(pose), pose, 0, False
        self.look = appearance.blend(self.look, seen, LOOK_RATE if self.look else 1.0)
        return pose

    def _look_of(self, frame: np.ndarray, pose: PoseFrame) -> dict:
        if id(pose) not in self._looks:
            self._looks[id(pose)] = appearance.describe(frame, pose)
        return self._looks[id(pose)]

    # ------------------------------------------------------------------------------------------- finding
    def _people_in(self, frame: np.ndarray, window: Window, model) -> list[PoseFrame]:
        """Real people the model finds in ``window`` of the frame, in frame pixels."""
        height, width = frame.shape[:2]
        image, scale = cut(frame, window)
        found = [p for p in model.detect(image) if p.has_person]
        mask = self.segmenter.mask(image) if (self.segmenter is not None and found) else None
        people = []
        for pose in found:
            support = None if mask is None else (body_support(mask, pose) or 0.0)
            in_frame = to_frame(pose, window, scale, width, height)
            if is_real_person(in_frame, width, height, support):
                people.append(in_frame)
        return people

    def _track(self, frame: np.ndarray) -> PoseFrame | None:
        people = self._people_in(frame, window_around(self.box), self.tracker)
        for pose in people:
            if self._same_person(frame, pose, moved_from=self.box):
                return pose
        getattr(self.tracker, "reset", lambda: None)()  # nobody, or someone else: look afresh next frame
        return None

    def _same_person(self, frame: np.ndarray, pose: PoseFrame, moved_from=None) -> bool:
        box = box_of(pose)
        if box is None:
            return False
        if moved_from is not None:
            # within one frame a person moves a fraction of their size, not across the window
            size = max(moved_from[2] - moved_from[0], moved_from[3] - moved_from[1], 1.0)
            centre = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])
            last = np.array([(moved_from[0] + moved_from[2]) / 2, (moved_from[1] + moved_from[3]) / 2])
            if np.linalg.norm(centre - last) > 0.6 * size:
                return False
        likeness = appearance.similarity(self.look, self._look_of(frame, pose))
        return likeness is None or likeness >= OTHER_PERSON

    def search(self, frame: np.ndarray) -> list[PoseFrame]:
        """Everyone the searcher finds in the frame, one pose each, most prominent first."""
        height, width = frame.shape[:2]
        people: list[PoseFrame] = []
        for window in search_windows(width, height):
            people += self._people_in(frame, window, self.searcher)
        kept: list[PoseFrame] = []
        for pose in sorted(people, key=prominence, reverse=True):
            box = box_of(pose)
            if box is not None and all(_overlap_of_smaller(box, box_of(k)) < SAME_BOX for k in kept):
                kept.append(pose)
        return kept

    def _reacquire(self, frame: np.ndarray) -> PoseFrame | None:
        people = self.search(frame)
        if not people:
            return None
        if self.first_people is None:
            self.first_people = sorted((box_of(p) for p in people), key=lambda b: b[0] + b[2])
            pick = self._initial_choice(people)
        else:
            scored = [(appearance.similarity(self.look, self._look_of(frame, p)), p) for p in people]
            same = [(s, p) for s, p in scored if s is not None and s >= SAME_PERSON]
            if same:
                pick = max(same, key=lambda sp: sp[0])[1]
            elif self.after_cut and len(people) and not any(s is not None and s >= OTHER_PERSON for s, _ in scored):
                # a new shot without the followed person: follow its main person (the studio needs someone)
                pick, self.look = people[0], {}
            else:
                return None
        getattr(self.tracker, "reset", lambda: None)()
        self.box = box_of(pick)
        refined = self._track(frame)  # the close-up window, now that we know where they are
        return refined if refined is not None else pick

    def _initial_choice(self, people: list[PoseFrame]) -> PoseFrame:
        if self.person == "auto":
            return people[0]
        ordered = sorted(people, key=lambda p: sum(box_of(p)[::2]))
        index = int(self.person) - 1
        if not 0 <= index < len(ordered):
            from studio.errors import InputError

            raise InputError(f"--person {self.person}: only {len(ordered)} "
                             f"{'person was' if len(ordered) == 1 else 'people were'} found where the clip first "
                             f"shows someone; choose 1–{len(ordered)} or auto")
        return ordered[index]
