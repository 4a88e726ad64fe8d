"""Pose extraction speed at 512×512: frames per second for each available backend, on this machine.

    OMP_NUM_THREADS=1 .venv/bin/python bench/motion.py [--frames 24] [--size 512] [--repeats 2] [--dwpose-dir DIR]

The driving clip is the bundled astronaut photo (scikit-image) moved, scaled and rotated per frame
(``tests/generated_media.write_transform_video``), encoded as H.264. For each backend it reports the best of
``--repeats`` uncached ``extract_poses`` runs (decode + detection + tracking; the machine is shared, the best run
is the least disturbed one) and, in the same run, how long a cached reopen takes. Backends that cannot run here
are listed with the reason.

It then measures face retargeting (issue 12): the cameraman, mouth warped open and shut by a known amount per
frame (``tests/generated_media.write_talking_video``), drives the astronaut; it prints the median Procrustes
distance of the aligned face-68 shape to the photo's face (retargeted vs the driver's points as they are) and
the correlation of the aligned mouth opening with the driver's and with the known warp.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
warnings.filterwarnings("ignore", message=r"SymbolDatabase\.GetPrototype", category=UserWarning)

from studio.media.video_io import fit_to_size  # noqa: E402
from studio.motion import AlignmentOptions, align_motion, available_backends, extract_poses  # noqa: E402
from studio.motion.retarget import mouth_opening, retargeting_scores  # noqa: E402
from tests.generated_media import astronaut, write_talking_video, write_transform_video  # noqa: E402


def retargeting(folder: Path, frames: int = 12, size: int = 256) -> None:
    import numpy as np

    video, openings = write_talking_video(folder / "talk.mp4", num_frames=frames, size=size)
    clip = extract_poses(video, use_cache=False)
    photo, _ = fit_to_size(astronaut(), size, size)
    for face in ("retargeted", "driver"):
        aligned = align_motion(clip.poses, clip.status, (size, size), clip.info.fps, photo,
                               AlignmentOptions(face=face, smoothing=False))
        scores = retargeting_scores(aligned.poses, clip.poses, aligned.reference_pose)
        known = float(np.corrcoef([mouth_opening(p.face) for p in aligned.poses], openings)[0, 1])
        print(f"face {face:10s} Procrustes distance to the photo's face {scores['procrustes']:.3f} (median of "
              f"{frames}); mouth opening correlation with the driver's {scores['mouth_correlation']:.3f}, "
              f"with the known warp {known:.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--dwpose-dir", help="folder with yolox_l.onnx and dw-ll_ucoco_384.onnx")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["STUDIO_HOME"] = str(Path(tmp) / "home")  # a throwaway cache
        video, _ = write_transform_video(Path(tmp) / "drive.mp4", num_frames=args.frames, size=args.size)
        print(f"clip: {args.frames} frames, {args.size}×{args.size}, H.264; OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}")
        for name, reason in available_backends(args.dwpose_dir).items():
            if reason is not None:
                print(f"{name:10s} unavailable: {reason}")
                continue
            model_dir = args.dwpose_dir if name == "dwpose" else None
            times = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                clip = extract_poses(video, name, use_cache=False, model_dir=model_dir)
                times.append(time.perf_counter() - start)
            found = sum(not h for h in clip.held)
            extract_poses(video, name, model_dir=model_dir)  # fill the cache
            start = time.perf_counter()
            extract_poses(video, name, model_dir=model_dir)
            cached = time.perf_counter() - start
            best = min(times)
            print(f"{name:10s} {args.frames / best:6.2f} frames/s (best of {args.repeats}: {best:.2f} s; "
                  f"all runs {', '.join(f'{t:.2f}' for t in times)} s; person found in {found}/{len(clip.held)}); "
                  f"cached reopen {cached * 1000:.0f} ms ({best / cached:.0f}× faster)")
        retargeting(Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
