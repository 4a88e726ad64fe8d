"""``python -m studio extract-motion VIDEO --reference IMAGE --out DIR``: poses, face masks and motion.json."""

from __future__ import annotations

import argparse
import errno
import json
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

from studio.cli.options import help_text
from studio.cli.render import ProgressBars
from studio.request.render_request import RenderRequest
from studio.request.schema import setting_by_path
from studio.system.progress import Progress


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
    person = declared["person"]
    parser.add_argument("--person", default=person.default, help=help_text(person))
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
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an earlier extraction in DIR even when DIR also holds other files (those "
                             "files are kept)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from studio.errors import InputError
    from studio.faces.reference_face import face_mask, write_face_mask
    from studio.media.video_io import fit_to_size, load_image
    from studio.motion import AlignmentOptions, prepare_motion
    from studio.motion.draw import draw_pose
    from studio.motion.extract import parse_person
    from studio.motion.motion_file import write_motion_json
    from studio.request.render_request import FrameSelection

    out = Path(args.out)
    _refuse_reading_and_writing_one_folder(out, args.video, args.reference)
    _check_out_folder(out, args.overwrite)  # refused before the minutes of pose finding, not after
    reference = load_image(args.reference)
    width = args.width or reference.shape[1]
    height = args.height or reference.shape[0]
    if width < 16 or height < 16:
        raise InputError(f"output size {width}×{height} is too small (at least 16×16)")
    if (width, height) != (reference.shape[1], reference.shape[0]):
        reference, _ = fit_to_size(reference, width, height, args.fit)
    selection = FrameSelection(args.start, args.end, args.stride, args.max_frames)
    options = AlignmentOptions(mode=args.align, smoothing=not args.no_smooth, face=args.face)
    person = parse_person(args.person)
    bars = ProgressBars(not args.quiet)
    try:
        with warnings.catch_warnings(record=True) as caught:
            prepared = prepare_motion(
                args.video, reference, options, args.backend, selection, bars, use_cache=not args.no_cache,
                model_dir=args.dwpose_dir, person=person,
            )
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
            _put_in_place(work, out, args.overwrite)
        except OSError as error:
            raise InputError(_write_error(out, error)) from None
        finally:
            shutil.rmtree(work, ignore_errors=True)
    finally:
        bars.close()
    # what the extraction warned about is in prepared.warnings already: each reaches the user once, one line
    others = [str(w.message) for w in caught if not any(n in str(w.message) for n in prepared.warnings)]
    notes = list(prepared.warnings) + list(dict.fromkeys(others))
    if args.json:
        print(json.dumps({"out": str(out), "frames": len(prepared.poses), "width": width, "height": height,
                          "backend": args.backend, "align": args.align, "motion_json": str(out / "motion.json"),
                          "person": prepared.clip.person, "warnings": notes}, indent=2))
        return 0
    for note in notes:
        print(f"warning: {note}", file=sys.stderr)
    print(f"wrote {len(prepared.poses)} frames ({width}×{height}, {args.backend}, align {args.align}) to {out}")
    return 0


def _write_error(out: Path, error: OSError) -> str:
    if error.errno == errno.ENOSPC:
        return f"the disk holding {out.parent} is full; free some space or choose another --out"
    return f"cannot write the motion folder {out}: {error.strerror or error}; choose another --out"


def _work_folder(out: Path) -> Path:
    from studio.errors import InputError
    from studio.export.output_names import create_partial

    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        return create_partial(out, folder=True)  # unique, exclusive, and an ordinary folder once renamed
    except OSError as error:
        raise InputError(_write_error(out, error)) from None


def _refuse_reading_and_writing_one_folder(out: Path, *inputs: str) -> None:
    """The swap replaces OUT whole: an input inside it (frames from OUT/poses) would be deleted by its own run,
    and OUT inside an input folder of frames would be read as frames next time."""
    from studio.errors import InputError

    out_real = Path(os.path.realpath(out))
    for given in inputs:
        source = Path(os.path.realpath(given))
        if source == out_real or out_real in source.parents:
            raise InputError(f"{given} is inside the output folder {out}; the extraction replaces that folder, "
                             "so choose another --out")
        if source.is_dir() and source in out_real.parents:
            raise InputError(f"the output folder {out} is inside the input folder {given}; choose an --out "
                             "outside it")


def _earlier_extraction(out: Path) -> set[Path]:
    """The files an earlier extraction wrote into ``out``: its motion.json and, for each of the frames it lists,
    one pose and one face image. Nothing when ``out`` holds no readable motion.json."""
    try:
        frames = json.loads((out / "motion.json").read_text(encoding="utf-8"))["frames"]
        count = len(frames) if isinstance(frames, list) else 0
    except (OSError, ValueError, KeyError, TypeError):
        return set()
    written = {out / "motion.json"}
    for i in range(count):
        written |= {out / "poses" / f"frame_{i}.png", out / "faces" / f"frame_{i}.png"}
    return written


def _foreign_entries(out: Path) -> list[Path]:
    """What in ``out`` an extraction did not write (files, links, and folders other than poses/ and faces/)."""
    ours = _earlier_extraction(out)
    foreign = []
    for folder, dirs, files in os.walk(out):  # links are not followed
        here = Path(folder)
        for name in dirs:
            path = here / name
            if path.is_symlink() or here != out or name not in ("poses", "faces"):
                foreign.append(path)
        dirs[:] = [d for d in dirs if here / d not in foreign]
        foreign += [here / name for name in files if here / name not in ours]
    return sorted(foreign)


def _check_out_folder(out: Path, overwrite: bool) -> list[Path]:
    """``out`` may be absent, empty, or an earlier extraction; other files there need ``--overwrite`` (and are
    then kept). Returns those other files."""
    from studio.errors import InputError

    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise InputError(f"{out} exists and is not a folder; choose another --out")
    if not out.exists():
        return []
    foreign = _foreign_entries(out)
    if foreign and not overwrite:
        example = foreign[0].relative_to(out)
        raise InputError(f"{out} holds {len(foreign)} file(s) extract-motion did not write (e.g. {example}); "
                         "choose a new or empty folder, or pass --overwrite to replace the earlier extraction "
                         "and keep them")
    return foreign


def _put_in_place(work: Path, out: Path, overwrite: bool) -> None:
    """Rename the finished ``work`` folder to ``out``. An earlier extraction there is replaced; other files there
    (allowed by ``--overwrite``) are carried into the new folder; nothing the studio did not write is deleted."""
    from studio.errors import InputError

    foreign = _check_out_folder(out, overwrite)  # again: the folder may have changed during the extraction
    clashes = [p for p in foreign if (work / p.relative_to(out)).exists()]
    if clashes:
        raise InputError(f"{clashes[0]} has the name of a file the new extraction writes; move it and try again")
    if not out.exists() or not any(out.iterdir()):
        os.replace(work, out)  # also onto an empty folder
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
    os.replace(out, old / out.name)
    try:
        os.replace(work, out)
    except OSError:
        os.replace(old / out.name, out)  # put the earlier extraction back
        shutil.rmtree(old, ignore_errors=True)
        raise
    for path in foreign:  # top-down order: a moved folder takes its contents with it
        source = old / out.name / path.relative_to(out)
        if source.exists() or source.is_symlink():
            (out / path.relative_to(out)).parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, out / path.relative_to(out))
    shutil.rmtree(old)  # only the earlier extraction's own files are left in it
