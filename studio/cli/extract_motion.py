"""``python -m studio extract-motion VIDEO --reference IMAGE --out DIR``: poses, face masks and motion.json."""

from __future__ import annotations

import argparse
import errno
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from studio.cli.options import help_text
from studio.cli.render import ProgressBars
from studio.progress import Progress
from studio.request import RenderRequest
from studio.schema import setting_by_path


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "extract-motion",
        help="extract the skeleton motion of a video, aligned to a reference photo",
        description="Find the person's pose in every selected frame of VIDEO, fit it to the person in the "
        "reference photo, and write DIR/poses/frame_i.png (DWPose-style skeletons), DIR/faces/frame_i.png "
        "(face masks) and DIR/motion.json.",
    )
    parser.add_argument("video", help="driving video (mp4/mov/webm/mkv/gif) or a folder of frames")
    parser.add_argument("--reference", required=True, help="the reference photo")
    parser.add_argument("--out", required=True, help="output folder")
    declared = setting_by_path(RenderRequest)
    backend, fit, align, face = (declared[p] for p in ("pose_backend", "fit", "alignment.mode", "alignment.face"))
    parser.add_argument("--backend", choices=backend.choices, default=backend.default, help=help_text(backend))
    parser.add_argument("--dwpose-dir", help="folder with yolox_l.onnx and dw-ll_ucoco_384.onnx (dwpose backend)")
    parser.add_argument("--width", type=int, help="output width (default: the reference's)")
    parser.add_argument("--height", type=int, help="output height (default: the reference's)")
    # a motion folder is usually made for a photo of its own size: crop, unlike a render's pad
    parser.add_argument("--fit", choices=fit.choices, default="crop",
                        help=fit.help.rstrip(".") + " (default: crop)")
    parser.add_argument("--align", choices=align.choices, default=align.default, help=help_text(align))
    parser.add_argument("--face", choices=face.choices, default=face.default, help=help_text(face))
    parser.add_argument("--no-smooth", action="store_true", help="turn off the One-Euro keypoint smoothing")
    for flag, path in (("--start", "start"), ("--end", "end"), ("--stride", "stride"), ("--max-frames", "max_frames")):
        s = declared[path]
        parser.add_argument(flag, type=float if s.kind == "float" else int, default=s.default, help=help_text(s))
    parser.add_argument("--no-cache", action="store_true", help="ignore and do not write the motion cache")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from studio.errors import InputError
    from studio.faces import face_mask, write_face_mask
    from studio.media import FrameSelection, fit_to_size, load_image
    from studio.motion import AlignmentOptions, prepare_motion
    from studio.motion.draw import draw_pose
    from studio.motion.motion_file import write_motion_json

    reference = load_image(args.reference)
    width = args.width or reference.shape[1]
    height = args.height or reference.shape[0]
    if width < 16 or height < 16:
        raise InputError(f"output size {width}×{height} is too small (at least 16×16)")
    if (width, height) != (reference.shape[1], reference.shape[0]):
        reference, _ = fit_to_size(reference, width, height, args.fit)
    selection = FrameSelection(args.start, args.end, args.stride, args.max_frames)
    options = AlignmentOptions(mode=args.align, smoothing=not args.no_smooth, face=args.face)
    bars = ProgressBars(not args.quiet)
    try:
        prepared = prepare_motion(
            args.video, reference, options, args.backend, selection, bars, use_cache=not args.no_cache,
            model_dir=args.dwpose_dir,
        )
        out = Path(args.out)
        from PIL import Image

        # Everything is written into a hidden folder beside OUT and renamed into place when complete: a
        # read-only or full disk, a cancel or a crash never leaves a half extraction under OUT.
        work = _work_folder(out)
        try:
            (work / "poses").mkdir()
            (work / "faces").mkdir()
            total = len(prepared.poses)
            for i, (pose, box) in enumerate(zip(prepared.poses, prepared.face_boxes, strict=True)):
                Image.fromarray(draw_pose(pose, width, height)).save(work / "poses" / f"frame_{i}.png")
                write_face_mask(work / "faces" / f"frame_{i}.png", face_mask(box, width, height))
                bars(Progress("export", i + 1, total, "writing frames"))
            write_motion_json(work / "motion.json", prepared)
            _put_in_place(work, out)
        except OSError as error:
            raise InputError(_write_error(out, error)) from None
        finally:
            shutil.rmtree(work, ignore_errors=True)
    finally:
        bars.close()
    if args.json:
        print(json.dumps({"out": str(out), "frames": len(prepared.poses), "width": width, "height": height,
                          "backend": args.backend, "align": args.align, "motion_json": str(out / "motion.json"),
                          "warnings": list(prepared.warnings)}, indent=2))
        return 0
    for note in prepared.warnings:
        print(f"warning: {note}", file=sys.stderr)
    print(f"wrote {len(prepared.poses)} frames ({width}×{height}, {args.backend}, align {args.align}) to {out}")
    return 0


def _write_error(out: Path, error: OSError) -> str:
    if error.errno == errno.ENOSPC:
        return f"the disk holding {out.parent} is full; free some space or choose another --out"
    return f"cannot write the motion folder {out}: {error.strerror or error}; choose another --out"


def _work_folder(out: Path) -> Path:
    from studio.errors import InputError
    from studio.output_names import create_partial

    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        return create_partial(out, folder=True)  # unique, exclusive, and an ordinary folder once renamed
    except OSError as error:
        raise InputError(_write_error(out, error)) from None


def _put_in_place(work: Path, out: Path) -> None:
    """Rename the finished ``work`` folder to ``out``; an earlier extraction there is replaced, anything else
    at ``out`` is kept and refused."""
    from studio.errors import InputError

    ours = {"poses", "faces", "motion.json"}
    if out.is_dir() and not out.is_symlink() and any(out.iterdir()):
        names = {p.name for p in out.iterdir()}
        if not (out / "motion.json").is_file() or not names <= ours:
            raise InputError(f"{out} already holds other files; choose a new or empty folder for --out")
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
        os.replace(out, old / out.name)
        try:
            os.replace(work, out)
        except OSError:
            os.replace(old / out.name, out)  # put the earlier extraction back
            raise
        finally:
            shutil.rmtree(old, ignore_errors=True)
    elif out.exists() and not out.is_dir():
        raise InputError(f"{out} exists and is not a folder; choose another --out")
    else:
        os.replace(work, out)  # also onto an empty folder
