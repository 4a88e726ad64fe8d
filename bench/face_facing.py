"""Which way the followed person's faces and bodies face, per corpus clip (issue 19, ``studio/motion/facing``).

    OMP_NUM_THREADS=1 .venv/bin/python bench/face_facing.py --videos DIR [--clips a,b] [--frames N] [--list]

``--videos``: the corpus folder of ``bench/motion_real.py`` (``bench/motion_corpus.json``). Each clip is extracted
as the studio does; every frame whose kept pose has a face is judged by ``facing.face_turned_from_body`` on the
final (kept) sides. Per clip: the faces judged, those refused, and the range of the face and body measures of
each group (a face turned toward the camera measures positive, a body showing its back negative). The thresholds'
margins are the gap between the kept bodies' lowest and the refused bodies' highest values. Which faces are
someone else's is read off the frames by eye (``--list`` prints each judged frame's measures and place).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("GLOG_minloglevel", "2")
warnings.filterwarnings("ignore")

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
from corpus_clips import clip_file  # noqa: E402  (bench/ is the script's folder)


def judged_faces(path: Path, frames: int | None) -> list[dict]:
    """Per judged face: the frame, its face and body measures, the verdict and the face's middle (pixels)."""
    import studio.motion.follow as follow
    from studio.motion import extract_poses
    from studio.motion.facing import body_facing, face_facing, face_turned_from_body
    from studio.request.render_request import FrameSelection

    seen: list[dict] = []
    follower_of_frame: list = []

    def judge(pose):
        verdict = face_turned_from_body(pose)
        face = face_facing(pose)
        if face is not None:
            seen.append({"frame": follower_of_frame[-1].frame, "face": face, "body": body_facing(pose),
                         "refused": verdict, "at": pose.face[:, :2].mean(0).round().tolist()})
        return verdict

    step = follow.PersonFollower.step

    def spying_step(self, frame):
        follower_of_frame.append(self)
        return step(self, frame)

    follow.face_turned_from_body, follow.PersonFollower.step = judge, spying_step
    try:
        extract_poses(path, use_cache=False, selection=FrameSelection(max_frames=frames))
    finally:
        follow.face_turned_from_body, follow.PersonFollower.step = face_turned_from_body, step
    return seen


def _span(rows: list[dict], key: str) -> str:
    values = [r[key] for r in rows if r[key] is not None]
    return f"{min(values):+.2f}..{max(values):+.2f}" if values else "–"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", required=True)
    parser.add_argument("--clips", help="comma-separated clip names (default: all)")
    parser.add_argument("--frames", type=int, help="at most this many frames per clip")
    parser.add_argument("--list", action="store_true", help="also every judged frame")
    args = parser.parse_args()
    manifest = json.loads((BENCH / "motion_corpus.json").read_text())
    wanted = None if not args.clips else set(args.clips.split(","))
    print("| clip | faces | refused | kept: face / body | refused: face / body |\n|---|---|---|---|---|")
    for clip in manifest["clips"]:
        if wanted is not None and clip["name"] not in wanted:
            continue
        path = clip_file(Path(args.videos), manifest["sources"][clip["source"]], clip["file"])
        rows = judged_faces(path, args.frames)
        kept, refused = [r for r in rows if not r["refused"]], [r for r in rows if r["refused"]]
        print(f"| {clip['name']} | {len(rows)} | {len(refused)} | {_span(kept, 'face')} / {_span(kept, 'body')} | "
              f"{_span(refused, 'face')} / {_span(refused, 'body')} |")
        for r in rows if args.list else []:
            body = "–" if r["body"] is None else f"{r['body']:+.2f}"
            print(f"    frame {r['frame']}: face {r['face']:+.2f} body {body} at {r['at']}"
                  f"{' refused' if r['refused'] else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
