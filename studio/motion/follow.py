"""Following one person through a real clip (issue 19): find them, track a window around them, keep their identity.

Every frame the pose model looks at a square window around where the followed person was last seen, scaled so
they fill the model's input (a small figure in a wide shot gets close-up keypoints). What it finds there is
kept only if it is the same person (near where they were, dressed the same: ``appearance``) and still a real
person: their bones keep their lengths (``limbs``) or lie on the person segmenter's silhouette
(``segmentation``). Someone else walking through the window is refused instead of followed, and their look is
remembered: a single-person pose model shown two people overlapping slides from one to the other over a few
frames, and only a look known to be someone else's tells those frames from the person turning round. Where the
tracker returns someone, but not them (a more prominent person, a skeleton its track slipped onto), their window
is looked at again at once with a fresh detection (``_track``).

A single-person pose model shown the followed person overlapping someone else may return the other person in
every window (refused: their look is someone else's), or one pose spread over both. Then, and when the tracker
finds nobody where the person was, or its pose drifts off the person's path, the person is looked for on their
own region (``own_region_look``: ``roi``, MediaPipe's rule for the region around a body, from where the tracker
last found them), moved away from the other person, with the bundled landmark model run directly
(``landmark_net``); what it finds is taken on the same rules, and the one pose kept gets its face and hands
the way the holistic graph adds them (``face_hands_net``), less those that are the other person's there
(``foreign_parts``: a body found beside them may have its head or an arm on them).

When the person is lost, after a scene cut and at the start, the whole frame is searched (the frame itself,
then overlapping windows for small people). Someone new counts as a person only on the segmenter's word (or a
face the face model found): that is what phantoms on walls and animals lack. The followed person found again
elsewhere is recognised by their clothes and limb lengths. At the start the person most prominent over the
first second is followed (``opening``: not whoever fills the first frame), or the N-th from the left.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from studio.motion import appearance
from studio.motion.continuity import jumped, shape_change
from studio.motion.crops import Window, cut, search_windows, to_frame, whole_frame, window_around
from studio.motion.facing import face_turned_from_body
from studio.motion.foreign_parts import ForeignParts
from studio.motion.head import has_face, without_face
from studio.motion.limbs import LimbMemory
from studio.motion.opening import Candidate, box_centre, box_size, link
from studio.motion.own_region_look import OwnRegionLook
from studio.motion.presence import MIN_SUPPORT, is_real_person
from studio.motion.segmentation import support_in_frame
from studio.motion.sides import keep_sides, recent_reference
from studio.motion.types import PoseFrame

#: Appearance similarity (Bhattacharyya, 0–1, ``appearance``): below OTHER_PERSON a pose is someone else; a
#: lost person is found again within reach of where they were lost at OTHER_PERSON, anywhere at SAME_PERSON.
#: On the corpus's wide clip the same person measured 0.71–1.0 between frames (median 0.91), two people
#: 0.5–0.95 (median 0.77), so a pose also has to look more like the followed person than like anyone else seen.
OTHER_PERSON = 0.7
SAME_PERSON = 0.9
#: A pose whose fine look (``appearance``) is not at least this much more like the followed person than like
#: someone else seen is refused: it may be a mix of both (a single-person model shown two people overlapping
#: returns one pose spread over both). Pixels a share p the followed person's and 1 - p someone else's score
#: about sqrt(p) against one and sqrt(1 - p) against the other (clothes of different colours): 0.1 apart at
#: p = 0.57. On the corpus such mixes scored 0.01–0.05 apart, one person against another at least 0.13.
MIXED = 0.1
#: Two people whose fine looks are at least this alike are dressed alike (a team's kit, a troupe's costume; one
#: person's own look scored 0.77 and up from frame to frame on the portrait clips): their looks cannot tell them
#: apart, so neither look refuses the followed person as "more like" the other (a coin toss between two near
#: equal numbers before); where they are, box continuity, decides.
DRESSED_ALIKE = 0.8
#: How far a lost person may have gone: their box size per second lost (a brisk walk), on top of MAX_STEP.
REACH_PER_SECOND = 1.5
#: A person this tall (share of the frame's short side) in the whole frame needs no search of smaller windows.
BIG_ENOUGH = 0.25
#: Kept poses the left/right reference is the median of.
RECENT = 3
#: Looks of other people remembered (the most recent ones).
MAX_OTHERS = 6
#: How fast the followed person's look follows what is seen (light and pose change slowly).
LOOK_RATE = 0.05
#: Frames without the person before the whole frame is searched; then every ``search_every`` frames.
SEARCH_AFTER = 2
#: A tracking window at least this share of the frame's short side is the frame cut at scale ~1: cropping gains
#: no resolution there and only takes the shoulders away, so the whole frame is tracked instead.
CLOSE_UP = 0.9
#: Margin of the second look at a rough find (its box may hold only part of the person).
REFINE_MARGIN = 0.6
#: Two search results are one person when their boxes overlap this much (intersection over the smaller box).
SAME_BOX = 0.5
#: Within one frame a person's box centre moves less than this share of the box's size.
MAX_STEP = 0.6


def box_of(pose: PoseFrame, score: float = 0.3) -> tuple[float, float, float, float] | None:
    pts = pose.body[pose.body[:, 2] > score]
    if len(pts) < 2:
        return None
    return (float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max()))


def _person_box(pose: PoseFrame) -> tuple[float, float, float, float]:
    """``box_of`` a plausible person: ``is_real_person`` asks for more sure points than a box needs."""
    box = box_of(pose)
    assert box is not None
    return box


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


def _height(pose: PoseFrame) -> float:
    box = box_of(pose)
    return 0.0 if box is None else box[3] - box[1]


def _near(box, last) -> bool:
    return float(np.linalg.norm(box_centre(box) - box_centre(last))) <= MAX_STEP * box_size(last)


class PersonFollower:
    """One person's pose per frame (frame pixels) or None; see the module docstring.

    ``tracker``: a pose backend in video mode (fed the window around the person each frame); ``searcher``: one
    in image mode (fed the search windows; may be the tracker for backends without tracking state);
    ``segmenter``: a ``segmentation.PersonSegmenter`` or None (then every plausible pose counts as a person).
    ``person``: "auto", the 1-based place from the left of the person to follow among those found when
    someone is first found, or a ``people.PickedPerson`` (someone picked on a frame) that chooses among them.
    """

    def __init__(self, tracker, searcher, segmenter=None, person: str | int = "auto", search_every: int = 4,
                 fps: float = 30.0, looker=None) -> None:
        self.tracker, self.searcher, self.segmenter = tracker, searcher, segmenter
        self.person = person
        self.search_every = max(1, search_every)
        self.fps = max(1.0, float(fps))
        #: The look at the person's own region when the tracker lost them, returned someone else or drifted
        #: (``own_region_look``), with ``looker`` (``landmark_net.LandmarkNet``; None: no such look).
        self.own_look = OwnRegionLook(looker, self.fps, RECENT, self._fine_similarity, self._person_on_own_region)
        #: Looks of the other people seen in searches: a pose more like one of them is not the followed person.
        self.others: list[dict[str, np.ndarray]] = []
        self.box: tuple[float, float, float, float] | None = None
        self._last_seen: tuple[float, float, float, float] | None = None  # kept through scene cuts and losses
        self.look: dict[str, np.ndarray] = {}
        self.limbs = LimbMemory()
        self.frame = -1  # the number of the current ``step`` (0-based)
        self._recent: list[PoseFrame] = []  # the last kept poses, for left/right (``sides.recent_reference``)
        self._intruder: PoseFrame | None = None  # this frame: someone else the tracker returned where the person is
        #: This frame's poses refused where the person is, on their look: someone else's unless the person is
        #: kept at the same place (``_judge_suspects``).
        self._suspects: list[PoseFrame] = []
        self.lost = 0
        self.after_cut = False
        #: "auto": the person most prominent over the first second (``choose_over``), None before or without it.
        self.opening: Candidate | None = None
        #: Boxes (frame pixels, left to right) of the people found by the first successful search.
        self.first_people: list[tuple[float, float, float, float]] | None = None
        #: Per frame the left/right groups that were swapped back (the bench counts them).
        self.swapped: list[list[str]] = []
        #: Per frame number the parts found that were someone else's and left out ("face", "left_hand",
        #: "right_hand": ``foreign_parts`` on a pose from the person's own region; "face" also ``facing``).
        self.refused_parts: dict[int, list[str]] = {}
        self._frame: np.ndarray = np.zeros((0, 0, 3), np.uint8)  # the frame of the current ``update``
        self._cache: dict[tuple[int, str], tuple[PoseFrame, Any]] = {}  # this frame's (``_per_pose``)

    # ------------------------------------------------------------------------------------------- frames
    def scene_cut(self) -> None:
        """A new shot: the person's place and size say nothing now; their look still does."""
        self.box, self.after_cut, self._recent = None, True, []
        self.own_look.forget()
        self.limbs.clear()
        self._reset_tracker()

    def step(self, frame: np.ndarray) -> PoseFrame | None:
        self._frame, self._cache, self._intruder, self._suspects = frame, {}, None, []
        self.frame += 1
        pose = self._track() if self.box is not None else None
        if pose is not None and self.lost == 0 and self._recent and jumped(pose, self._recent[-1], self.fps):
            pose = self._second_look(pose)
        own = None  # found on the person's own region (``own_region_look``)
        drifted = pose is not None and self.lost == 0 and self.own_look.drifted(pose, self.frame)
        if pose is not None and drifted:
            own, drifted = self.own_look.instead_of_drifted(self._frame, self.frame, pose)
        elif pose is None and self.box is not None:
            own = self.own_look.find(self._frame, self.frame, self._intruder)
        if own is not None:
            # its face and hands, less those of the other person there (``foreign_parts``): the tracker's someone
            # else where the person is, or its pose that drifted off their path and lost to this find
            judge = ForeignParts(self._intruder if pose is None else pose, self._recent)
            pose = self.own_look.looker.with_face_and_hands(self._frame, own, judge)
            if judge.refused:
                self.refused_parts[self.frame] = judge.refused
        if pose is None:
            self.lost += 1
            due = self.lost >= SEARCH_AFTER and (self.lost - SEARCH_AFTER) % self.search_every == 0
            if self.box is None or due:
                pose = self._reacquire()
        self._judge_suspects(pose)
        if pose is None:
            self.swapped.append([])
            return None
        seen = self._look(pose)
        reference = recent_reference(self._recent)
        sided, swapped = keep_sides(pose, reference)
        if face_turned_from_body(sided):
            # a face toward the camera on a back turned away from it is someone else's (``facing``: judged on
            # the kept sides); the body's own head points come back, and their sides are kept afresh
            sided, swapped = keep_sides(without_face(pose), reference)
            self.refused_parts.setdefault(self.frame, []).append("face")
        pose = sided
        self.swapped.append(swapped)
        self.box, self.lost, self.after_cut = box_of(pose), 0, False
        self._recent = (self._recent + [pose])[-RECENT:]
        if own is None and not drifted:  # (a drifted pose kept may still be half someone else's)
            self.own_look.anchor(self.frame, pose)
        self._last_seen = self.box
        self.look = appearance.blend(self.look, seen, LOOK_RATE if self.look else 1.0)
        self.limbs.remember(pose)
        return pose

    # ------------------------------------------------------------------------------------------- evidence
    def _per_pose(self, pose: PoseFrame, kind: str, compute: Callable[[], Any]) -> Any:
        """This frame's ``kind`` (look, support) of ``pose``, computed once. Keyed by id() (poses are not hashable)
        with the pose kept beside its value: one freed after a look (a refused pose) would hand its id, and its look
        or support, to the next pose made, and a re-detection's pose was judged by the refused one's look."""
        key = (id(pose), kind)
        if key not in self._cache:
            self._cache[key] = (pose, compute())
        return self._cache[key][1]

    def _look(self, pose: PoseFrame) -> dict:
        return self._per_pose(pose, "look", lambda: appearance.describe(self._frame, pose))

    def _likeness(self, pose: PoseFrame) -> float | None:
        return appearance.similarity(self.look, self._look(pose))

    def _fine_similarity(self, pose: PoseFrame) -> float | None:
        return appearance.similarity(self.look, self._look(pose), fine=True)

    def _on_silhouette(self, pose: PoseFrame) -> bool:
        """The segmenter sees a person under the skeleton, or the face model a face (asked only when needed)."""
        if self.segmenter is None or has_face(pose):
            return True
        support = self._per_pose(pose, "support", lambda: support_in_frame(self.segmenter, self._frame, pose) or 0.0)
        return support >= MIN_SUPPORT

    def _plausible(self, pose: PoseFrame) -> bool:
        height, width = self._frame.shape[:2]
        return is_real_person(pose, width, height)

    def _more_like_someone_else(self, pose: PoseFrame, likeness: float) -> bool:
        """The pose looks more like one of the others seen than like the followed person, or as much (MIXED): by
        the fine look where all three have one (it tells skin from a grey shirt), else by the coarse
        ``likeness``; others dressed like the followed person (DRESSED_ALIKE) are left out."""
        look = self._look(pose)
        fine = appearance.similarity(self.look, look, fine=True)
        for other in self.others:
            other_fine = appearance.similarity(other, look, fine=True)
            alike = appearance.similarity(self.look, other, fine=True)
            if alike is not None and alike >= DRESSED_ALIKE:
                continue  # which of two people dressed alike this is, their looks cannot say: their places do
            if fine is not None and other_fine is not None and alike is not None:
                if other_fine > fine - MIXED:
                    return True
            elif (appearance.similarity(other, look) or 0.0) > likeness:
                return True
        return False

    def _person_on_own_region(self, pose: PoseFrame) -> bool:
        """Whether a pose the look at the person's own region found is the person, on the rules of the poses the
        tracker finds: near them, a real person, dressed like them."""
        box = box_of(pose)
        if box is None or self.box is None or not _near(box, self.box) or not self._plausible(pose):
            return False
        return self._is_followed_person(pose, strict=False)

    def _is_followed_person(self, pose: PoseFrame, strict: bool) -> bool:
        """Dressed like the followed person and still a real person: limbs of their length, or a silhouette.

        ``strict`` (found again out of reach of where they were lost): the look must match closely.
        """
        likeness = self._likeness(pose)
        if likeness is None:
            if strict:
                return False
        elif likeness < (SAME_PERSON if strict else OTHER_PERSON) or self._more_like_someone_else(pose, likeness):
            return False
        return self.limbs.consistent(pose) or self._on_silhouette(pose)

    def _within_reach(self, pose: PoseFrame) -> bool:
        """Near enough to where the person was last seen for the time they have been lost."""
        box, last = box_of(pose), self._last_seen
        if box is None or last is None:
            return False
        size = max(last[2] - last[0], last[3] - last[1], 1.0)
        step = np.hypot((box[0] + box[2] - last[0] - last[2]) / 2, (box[1] + box[3] - last[1] - last[3]) / 2)
        return step <= size * (MAX_STEP + REACH_PER_SECOND * self.lost / self.fps)

    def _remember_others(self, people: list[PoseFrame], pick: PoseFrame | None) -> None:
        """Remember the looks of the people found besides ``pick``, each seen apart from the followed person.

        A pose lying over where the followed person was last seen may be a chimera of them and someone overlapping
        them (a single-person model shown two); remembered as someone else, its look, half theirs, would make the
        followed person look like someone else from then on.
        """
        for pose in people:
            box = box_of(pose)
            if pose is pick or box is None or (
                    self._last_seen is not None and _overlap_of_smaller(box, self._last_seen) >= SAME_BOX):
                continue
            self._remember_other(self._look(pose))

    def _judge_suspects(self, kept: PoseFrame | None) -> None:
        """Remember as someone else's the looks of this frame's poses refused where the person is (``_followed_among``),
        except one lying where the pose kept now does: that was the person seen badly (a look that dipped on a
        warped or blurred frame), and remembered as someone else it would refuse them from then on."""
        kept_box = None if kept is None else box_of(kept)
        for pose in self._suspects:
            box = box_of(pose)
            if kept_box is not None and box is not None and _overlap_of_smaller(box, kept_box) >= SAME_BOX:
                continue
            self._remember_other(self._look(pose))
        self._suspects = []

    def _remember_other(self, look: dict[str, np.ndarray]) -> None:
        if not look:
            return
        scores = [appearance.similarity(o, look) or 0.0 for o in self.others]
        if scores and max(scores) >= SAME_PERSON:
            k = int(np.argmax(scores))
            self.others[k] = appearance.blend(self.others[k], look, 0.2)
        else:
            self.others = (self.others + [look])[-MAX_OTHERS:]

    # ------------------------------------------------------------------------------------------- finding
    def _reset_tracker(self) -> None:
        getattr(self.tracker, "reset", lambda: None)()

    def _poses_in(self, window: Window, model) -> list[PoseFrame]:
        """Plausible poses the model finds in ``window`` of the frame, in frame pixels."""
        height, width = self._frame.shape[:2]
        image, scale = cut(self._frame, window)
        poses = [to_frame(p, window, scale, width, height) for p in model.detect(image) if p.has_person]
        return [p for p in poses if self._plausible(p)]

    def _track(self) -> PoseFrame | None:
        if self.box is None:  # (nobody followed yet: nothing to look around)
            return None
        height, width = self._frame.shape[:2]
        around = window_around(self.box, width, height)
        # a close-up (a talking head) cut out of the frame shows the pose model a head without its shoulders, which
        # it often misses: where the window is nearly the frame anyway, the model sees the frame
        window = whole_frame(width, height) if around.side >= CLOSE_UP * min(width, height) else around
        seen = self._poses_in(window, self.tracker)
        pose = self._followed_among(seen)
        if pose is None:
            self._reset_tracker()  # nobody, or someone else: look afresh next frame
            if seen and self.lost < SEARCH_AFTER and (self.searcher is not self.tracker or window is not around):
                # the tracker returned someone, not them: someone more prominent in the whole frame, or a skeleton
                # its track slipped onto (motion blur, a fast turn), while they are most likely still there. A fresh
                # detection in their own window, where they are the main figure, finds them now, not at the next
                # search. Where the tracker sees nobody that search comes as before: it sees who else is near and
                # remembers their looks, which tell them apart later (re-detecting there too kept a man followed
                # through the corpus's two-person clip, but never showed the follower the woman he then walked past)
                pose = self._followed_among(self._poses_in(around, self.searcher))
        return pose

    def _followed_among(self, poses: list[PoseFrame]) -> PoseFrame | None:
        """The followed person among ``poses`` (found in a window around them), or None; someone else found
        near them instead has their look remembered."""
        assert self.box is not None
        for pose in poses:
            box = box_of(pose)
            if box is None or not _near(box, self.box):
                continue
            if self._is_followed_person(pose, strict=False):
                return pose
            if self._intruder is None:
                self._intruder = pose
            likeness = self._likeness(pose)
            if likeness is not None and likeness < OTHER_PERSON and self._on_silhouette(pose):
                # someone else where the person is (walking past close, or overlapping them): the pose model sees
                # them instead, so their look is clearly theirs, not a mix, however much their boxes overlap
                self._suspects.append(pose)
        return None

    def _second_look(self, tracked: PoseFrame) -> PoseFrame:
        """The window looked at afresh when the ``tracked`` pose changed shape faster than a body can
        (``continuity``: the model's track slipped): its person detector, not the slipped track, places the pose.
        Of the two, the one nearer the last frame's shape is kept (a small figure's keypoints are noisy enough
        to jump now and then: the frame is not thrown away for that)."""
        self._reset_tracker()
        again = self._track()
        if again is None:
            return tracked
        return min((tracked, again), key=lambda pose: shape_change(pose, self._recent[-1]) or 0.0)

    def search(self, everyone: bool = True) -> list[PoseFrame]:
        """Every plausible pose the searcher finds in the frame, one per person, most prominent first.

        A person small in a search window comes back with rough keypoints (often only part of them), so each
        rough find is looked at again in a window around it. ``everyone=False``: when the whole frame shows a
        person at least BIG_ENOUGH of its short side, the smaller windows (there for small people, and a dozen
        model runs) are skipped: the most prominent person is that one or bigger.
        """
        height, width = self._frame.shape[:2]
        found: list[PoseFrame] = []
        windows = search_windows(width, height)
        for k, window in enumerate(windows):
            if k == 1 and not everyone and any(_height(p) >= BIG_ENOUGH * min(width, height) for p in found):
                break
            for rough in self._poses_in(window, self.searcher):
                box = box_of(rough)
                if box is None or not self._make_way(found, rough, box):
                    continue  # someone already found there
                closer = self._poses_in(window_around(box, width, height, margin=REFINE_MARGIN), self.searcher)
                found += closer or [rough]
        kept: list[PoseFrame] = []
        for pose in sorted(found, key=prominence, reverse=True):
            box = box_of(pose)
            if box is not None and self._make_way(kept, pose, box):
                kept.append(pose)
        return kept

    def _make_way(self, found: list[PoseFrame], pose: PoseFrame, box) -> bool:
        """Whether ``pose`` (at ``box``) may be taken beside ``found`` (which it edits): where it overlaps poses
        already found it is the same person, unless none of them lies on a person and it does (the pose model,
        shown two people close together in the whole frame, returns one pose spread over both: a phantom that
        must not hide the real people the smaller windows find there; it would be refused afterwards anyway).
        The segmenter is asked only on such a clash, which is rare."""
        clashing = [p for p in found if _overlap_of_smaller(box, box_of(p)) >= SAME_BOX]
        if not clashing:
            return True
        if self.segmenter is None or any(self._on_silhouette(p) for p in clashing) or not self._on_silhouette(pose):
            return False
        found[:] = [p for p in found if all(p is not c for c in clashing)]
        return True

    def people_on(self, frame: np.ndarray) -> list[PoseFrame]:
        """Every person the search finds on ``frame`` alone, most prominent first (``people.find_people``)."""
        self._frame, self._cache = frame, {}
        return [p for p in self.search() if self._on_silhouette(p)]

    def _reacquire(self) -> PoseFrame | None:
        # the first search for "auto" only needs the most prominent person; --person N needs everyone
        everyone = self.first_people is not None or self.person != "auto"
        found = self.search(everyone=everyone)
        if self.first_people is None or (self.after_cut and not self.look):
            first = self.first_people is None
            people = [p for p in found if self._on_silhouette(p)]
            chosen = self._initial_choice(people, first) if people else None
            if chosen is None and first and self.opening is not None and not everyone:
                # the person chosen over the first second is not the one the whole frame shows: look for everyone
                found = self.search(everyone=True)
                people = [p for p in found if self._on_silhouette(p)]
                chosen = self._initial_choice(people, first) if people else None
            if chosen is None:
                return None  # nobody, or the person chosen over the first second is not in view yet
            pick = chosen
            if first:
                self.first_people = sorted((_person_box(p) for p in people), key=lambda b: b[0] + b[2])
        else:
            same = [p for p in found if self._is_followed_person(p, strict=not self._within_reach(p))]
            if same:
                pick = max(same, key=lambda p: self._likeness(p) or 0.0)
            elif self.after_cut and not any((self._likeness(p) or 0.0) >= OTHER_PERSON for p in found):
                # a new shot without the followed person: follow its main person (the studio needs someone)
                people = [p for p in found if self._on_silhouette(p)]
                if not people:
                    return None
                pick, self.look = people[0], {}
                self.limbs.clear()
            else:
                self._remember_others(found, None)
                return None
        self._remember_others(found, pick)
        self._reset_tracker()
        self.box = box_of(pick)
        refined = self._track()  # the close-up window, now that we know where they are
        if refined is None:
            return pick
        if _overlap_of_smaller(_person_box(refined), _person_box(pick)) < SAME_BOX:
            # the window's pose model saw someone else beside the pick (two people close together, one walking
            # past): not the pick seen closer but another person, who may not take over. Their look is someone
            # else's from now on (the pick, found apart from them, is the followed person: no chimera of both).
            self._remember_other(self._look(refined))
            self._reset_tracker()
            return pick
        return refined

    def choose_over(self, samples: list[tuple[int, np.ndarray]]) -> None:
        """For "auto": find who is most prominent over ``samples`` ((frame number, frame) from the first second).

        Each sample is searched as the first frame is (the whole frame, and the smaller windows only where it
        shows nobody big: searching every window of four frames cost as much as extracting 100 more frames on
        the corpus's 1080×1920 clips); the person whose prominence summed over the samples is highest among
        those who stay is the one the first frames then pick (``_initial_choice``).
        """
        if self.person != "auto" or len(samples) < 2:
            return
        seen = []
        for number, frame in samples:
            self._frame, self._cache = frame, {}
            people = [p for p in self.search(everyone=False) if self._on_silhouette(p)]
            seen.append((number, [(_person_box(p), prominence(p)) for p in people]))
        self._frame, self._cache = np.zeros((0, 0, 3), np.uint8), {}
        candidates = link(seen, self.fps)
        self.opening = candidates[0] if candidates else None

    def _initial_choice(self, people: list[PoseFrame], first: bool = True) -> PoseFrame | None:
        """Who to follow among ``people`` when nobody is yet (``first``: the clip's first find), None: wait."""
        choose = getattr(self.person, "choose", None)
        if choose is not None:  # a person picked on a frame (``people.PickedPerson``): the one dressed like them
            return choose(people, self._look)
        if self.person == "auto":
            if not first or self.opening is None or self.frame > self.opening.seen[-1][0]:
                return people[0]  # (after a cut, or past the first second: the main person now)
            return self._opening_pick(people)
        ordered = sorted(people, key=lambda p: sum(_person_box(p)[::2]))
        index = int(self.person) - 1
        if not 0 <= index < len(ordered):
            from studio.errors import InputError

            raise InputError(f"--person {self.person}: only {len(ordered)} "
                             f"{'person was' if len(ordered) == 1 else 'people were'} found where the clip first "
                             f"shows someone; choose 1–{len(ordered)} or auto")
        return ordered[index]

    def _opening_pick(self, people: list[PoseFrame]) -> PoseFrame | None:
        """The pose among ``people`` where the person chosen over the first second is now (None: not here)."""
        assert self.opening is not None
        target = self.opening.box_near(self.frame)
        overlaps = [(_overlap_of_smaller(_person_box(p), target), k) for k, p in enumerate(people)]
        best, k = max(overlaps)
        return people[k] if best >= SAME_BOX else None
