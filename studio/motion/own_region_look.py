"""The followed person looked for on their own region (issue 19), when the tracker lost them, returned someone else
where they are, or returned a pose that drifted off their path.

A single-person pose model shown the followed person overlapping someone else may return the other person in
every window (refused: their look is someone else's), or one pose spread over both. Then the person is looked for
on their own region (``roi``: MediaPipe's rule for the region around a body, from where the tracker last found
them), moved away from the other person, with the bundled landmark model run directly (``landmark_net``; body
only). The region is predicted only from the poses the tracker or the search found, never from what this look
found (the landmark model's hips lean towards the middle of the region it is shown, so regions predicted from its
own finds would wander off the person).

What the look finds is taken on the follower's rules (``follow.PersonFollower``, which holds one of these): the
follower says whether a pose found here is the person (near them, a real person, dressed like them: ``takes``)
and how like the person's fine look a pose is (``fine``); this class says where to look and which find to keep.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from studio.motion.roi import Roi, hip_centre, roi_from_poses, shifted_away
from studio.motion.types import PoseFrame

#: How long after the tracker last found the person their own region (``roi``) is still looked at (seconds): it
#: is where the tracker last found them, which says less the longer ago that was (a person walking across the
#: view moves about a quarter of their region in half a second).
OWN_LOOK_SECONDS = 0.5
#: How far (share of the region's side) the own region is moved away from someone overlapping the person.
AWAY = (0.1, 0.15, 0.2)
#: The tracked pose's hips this far (share of the person's own region's side) off the path they were on (their
#: last place moved on at their last velocity) set off a look at that region. On the corpus the poses kept from
#: frame to frame left it by at most 0.045 of it on the 60 fps portrait clips (once, balancing; 0.023 otherwise),
#: 0.086 on the 30 fps wide clip's running man (9 of 210 frames above 0.04), 0.051 once on the football clip;
#: the tracker sliding onto the woman the man walks past, 0.055 on its first frame. A look costs a model run or
#: three; what it finds is kept only where it lies elsewhere and is dressed more like the person
#: (``instead_of_drifted``).
DRIFT = 0.04
#: What the look at the person's own region found replaces a drifted tracked pose when its fine look is this much
#: more like theirs (the wide clip's small running man: the landmark model's pose of him taken on a near tie
#: lost him for 20 frames).
ALIKE = 0.05


class OwnRegionLook:
    """The look at the followed person's own region; see the module docstring.

    ``looker``: a pose model run on a region of the frame (``landmark_net.LandmarkNet``: its ``detect(frame,
    roi)``), or None: then no region is looked at. ``fps``: the clip's. ``keep``: how many of the tracker's
    last poses the region is predicted from. ``fine``: how like the followed person's fine look a pose is
    (``appearance.similarity``, None where they share no part to compare). ``takes``: whether the follower
    takes a pose found here for the person.
    """

    def __init__(self, looker, fps: float, keep: int, fine: Callable[[PoseFrame], float | None],
                 takes: Callable[[PoseFrame], bool]) -> None:
        self.looker = looker
        self.fps = fps
        self.keep = keep
        self._fine, self._takes = fine, takes
        #: The last poses the tracker or the search found (frame number, pose): the person's own region is predicted
        #: from these, never from what the look at that region found (the module docstring says why).
        self._anchors: list[tuple[int, PoseFrame]] = []

    def anchor(self, number: int, pose: PoseFrame) -> None:
        """``pose``, found by the tracker or the search on frame ``number``, is where the person is now."""
        self._anchors = (self._anchors + [(number, pose)])[-self.keep:]

    def forget(self) -> None:
        """A new shot: where the person was says nothing now."""
        self._anchors = []

    def region(self, number: int) -> Roi | None:
        """Where the person is expected on frame ``number`` (``roi``), from their last tracked poses; None without a
        model to look there, or OWN_LOOK_SECONDS after the tracker last found them (their place then says little)."""
        if self.looker is None or not self._anchors or number - self._anchors[-1][0] > OWN_LOOK_SECONDS * self.fps:
            return None
        return roi_from_poses([p for _, p in self._anchors])

    def drifted(self, pose: PoseFrame, number: int) -> bool:
        """The tracked pose's hips left the path the person's hips were on (from where the tracker last found them,
        on at the velocity between its last two finds) by more than DRIFT of their own region (``roi``): the
        tracker may be sliding onto someone overlapping them."""
        region, hips = self.region(number), hip_centre(pose)
        if region is None or hips is None:
            return False
        place, last = np.array([region.cx, region.cy]), self._anchors[-1][0]  # (the region is centred on its hips)
        if len(self._anchors) > 1:
            before, earlier = self._anchors[-2]
            start = hip_centre(earlier)
            if start is not None and last > before:
                place = place + (place - start) / (last - before) * (number - last)
        return float(np.linalg.norm(hips - place)) > DRIFT * region.side

    def fine_likeness(self, pose: PoseFrame) -> float:
        """How like the followed person's fine look ``pose``'s is (-1 where they share no part to compare)."""
        value = self._fine(pose)
        return -1.0 if value is None else value

    def instead_of_drifted(self, frame: np.ndarray, number: int, tracked: PoseFrame) -> tuple[PoseFrame | None, bool]:
        """What the look at the person's own region finds on ``frame`` (number ``number``) instead of the
        ``tracked`` pose that drifted off their path (or None: keep it), and whether the drift stands.

        Where the look finds nobody, or them where the tracker did (hips within DRIFT of the region), the tracker
        was right and the person moved, or their place had gone stale (the first tracked frame after a search's
        window, a jump): the drift does not stand. Where it finds them elsewhere, its find replaces the tracked
        pose when clearly dressed more like them (ALIKE; the fine look: a pose spread over them and someone else
        scores lower; the tracked pose has the face and hands).
        """
        if self._fine(tracked) is None:
            # no part of the tracked pose to hold against the person's look (none learned yet, or the parts it
            # has are unseen): nothing says it is someone else, and any find would win against it
            return None, False
        own, region = self.find(frame, number, tracked), self.region(number)
        if own is None or region is None:
            return None, False  # nobody else to be seen there: the person moved
        hips, there = hip_centre(own), hip_centre(tracked)
        if hips is not None and there is not None and float(np.linalg.norm(hips - there)) <= DRIFT * region.side:
            return None, False
        return (own if self.fine_likeness(own) > self.fine_likeness(tracked) + ALIKE else None), True

    def find(self, frame: np.ndarray, number: int, intruder: PoseFrame | None) -> PoseFrame | None:
        """The person looked for in their own region (``roi``: where the tracker last found them) on ``frame``
        (number ``number``) when the tracker lost them, or returned someone else there (``intruder``).

        Without anyone else there the region is looked at as it is. With someone else, a single-person model
        shown the region centred on the person often returns the other (on the corpus's two-person clip, always),
        so it is moved away from them (AWAY) instead; the model's hips lean towards the middle of the region it
        is shown, so of the moves the pose dressed most like the person (the fine look, which a pose spread over
        both loses) is kept, and it must lie nearer the person's place than the other's. Only a pose the
        follower's rules take for the person counts (``takes``: near them, dressed like them, a real person).
        Body only (``landmark_net``): the follower adds the face and hands of the one pose it keeps.
        """
        region = self.region(number)
        if region is None:
            return None
        other = None if intruder is None else hip_centre(intruder)
        regions = [region] if other is None else [shifted_away(region, other, share) for share in AWAY]
        place = np.array([region.cx, region.cy])
        found: list[PoseFrame] = []
        for candidate in regions:
            pose = None if candidate is None else self.looker.detect(frame, candidate)
            if pose is None:
                continue
            hips = hip_centre(pose)
            if other is not None and (hips is None or np.linalg.norm(hips - place) >= np.linalg.norm(hips - other)):
                continue  # the someone else again (or a pose between the two)
            if self._takes(pose):
                found.append(pose)
        return max(found, key=self.fine_likeness) if found else None
