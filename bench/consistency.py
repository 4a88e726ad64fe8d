"""What should stay still: background stability, colour drift removed, the frame matte against ground truth.

    OMP_NUM_THREADS=1 .venv/bin/python bench/consistency.py [--size 512] [--frames 24] [--no-diffusion]

The clip is the sample photo (assets/sample_photo.jpg, the astronaut) driven by the sample dance
(assets/sample_dance) through the warp engine; the diffusion clip is the same with the tiny fixture's random
weights (2 steps; its frames are noise-like, but its background moves, as a model's does).

(a) **Background stability**: per-pixel standard deviation over time of the grey level (0…255), where the
    photo's background is visible in every frame (outside every frame's person matte grown by 2 % of the frame
    and outside the photo's own person), for ``generated`` and ``photo`` (the same frames finished by
    ``studio.compose.background.finish_frames``, as the renderer does). Target: photo ≤ 1 grey level.
(b) **Colour drift**: the warp clip with a known drift injected — over the clip brightness −12 %, red +6 % and
    blue −6 % (white balance), saturation −30 %; and per-tile jumps like a tiled render's (tiles of 16 with 4
    overlapping, a random brightness and white-balance offset within ±6 % per tile, the first tile none,
    crossfaded in the overlaps) — then the colour match; mean CIE76 ΔE against the undrifted clip before and
    after, for ``reference`` and ``first-frame``. And the temporal ΔE (mean ΔE between consecutive frames)
    of a static clip (the photo repeated with σ = 2 levels of noise) and of the undrifted dance, before and
    after the match. Targets: ≥ 80 % of drift and jumps removed; temporal ΔE unchanged within 0.5.
(c) **Matte vs ground truth**: the astronaut's person (its segmentation > 0.5, anti-aliased by the move) over
    its own clean plate, moved along a smooth path through the warp bench's similarities, with the true mask
    moved the same way; the frame matte (``studio.compose.frame_matte``) against it: IoU of the half-level
    set, edge error (distance from each edge pixel of the half-level set to the true edge: mean and 95th
    percentile), halo width (the outermost ring of pixels d = 1…8 px outside the person of which the matte
    takes more than half, > 0.05; and the share it takes of the ring 2 px out) and the share of the frame
    wrongly matted more than 8 px out (false positives, not a halo). Targets: IoU ≥ 0.95, halo ≤ 2 px at 512².
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import _shared  # noqa: E402,F401  (puts the repository on sys.path)
import cv2  # noqa: E402
import numpy as np  # noqa: E402

from studio.compose.background import finish_frames, photo_layers  # noqa: E402
from studio.compose.colour import ColourMatcher, ColourView, delta_e  # noqa: E402
from studio.compose.frame_matte import FrameMatter  # noqa: E402
from studio.render.renderer import Renderer  # noqa: E402
from studio.request.render_request import RenderRequest  # noqa: E402
from studio.system.progress import CancelToken  # noqa: E402

ASSETS = _shared.REPO / "assets"
#: (rotation °, scale, shift x, shift y): the warp bench's ground-truth moves, visited in order.
MOVES = [(0, 1.0, 0, 0), (5, 1.0, 0, 0), (-8, 1.0, 12, -6), (0, 1.1, 0, 0), (0, 0.9, 18, 12), (3, 1.05, -24, 14),
         (0, 1.0, 30, -30), (-4, 0.95, -14, -22), (6, 1.08, 10, 10), (-6, 0.92, -20, 0)]


def rendered(engine: str, size: int, frames: int, fixture) -> tuple:
    """(prepared render, the engine's frames) for the sample photo and dance."""
    extra = {}
    if engine == "diffusion":
        extra = {"models": str(fixture / "checkpoints"), "steps": 2, "seed": 1, "tile_size": 8, "tile_overlap": 2}
    request = RenderRequest(reference=str(ASSETS / "sample_photo.jpg"), motion=str(ASSETS / "sample_dance"),
                            engine=engine, width=size, height=size, max_frames=frames, face_model="none", **extra)
    renderer = Renderer()
    prep = renderer.prepare(request)
    out = list(renderer.engine(engine).render(prep.inputs, lambda p: None, CancelToken()))
    return prep, out


# ------------------------------------------------------------------------------------------------ (a)
def background_std(prep, frames: list[np.ndarray]) -> dict[str, tuple[float, float, float]]:
    inputs = prep.inputs
    photo = list(finish_frames(frames, inputs.poses, reference=inputs.reference,
                               reference_pose=inputs.reference_pose, background="photo"))
    mattes = list(FrameMatter().run(zip(frames, inputs.poses, strict=True)))
    ref_matte, _plate = photo_layers(inputs.reference, inputs.reference_pose)
    grow = max(1, round(0.02 * max(frames[0].shape[:2])))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2)
    covered = (ref_matte > 0.1).astype(np.uint8)
    for matte in mattes:
        covered |= (matte > 0.01).astype(np.uint8)
    visible = cv2.dilate(covered, kernel) == 0
    x0, y0, x1, y1 = prep.content_box
    visible[:y0], visible[y1:], visible[:, :x0], visible[:, x1:] = False, False, False, False
    out = {}
    for name, clip in (("generated", frames), ("photo", photo)):
        grey = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY).astype(np.float64) for f in clip])
        std = grey[:, visible].std(axis=0)
        out[name] = (float(std.mean()), float(np.percentile(std, 99)), float(visible.mean()))
    return out


# ------------------------------------------------------------------------------------------------ (b)
def drifted(image: np.ndarray, t: float, jump: np.ndarray) -> np.ndarray:
    x = image.astype(np.float32)
    grey = x.mean(2, keepdims=True)
    x = grey + (1.0 - 0.3 * t) * (x - grey)
    x = x * (1.0 - 0.12 * t + jump[0])
    x[..., 0] *= 1.0 + 0.06 * t + jump[1]
    x[..., 2] *= 1.0 - 0.06 * t - jump[1]
    return np.clip(x + 0.5, 0, 255).astype(np.uint8)


def tile_jumps(n: int, rng: np.random.Generator, tile: int = 16, overlap: int = 4) -> list[np.ndarray]:
    step = tile - overlap
    offsets = rng.uniform(-0.06, 0.06, (n // step + 2, 2))
    offsets[0] = 0.0
    out = []
    for i in range(n):
        k, into = divmod(i, step)
        if k > 0 and into < overlap:
            a = (into + 1) / (overlap + 1)
            out.append((1 - a) * offsets[k - 1] + a * offsets[k])
        else:
            out.append(offsets[k])
    return out


def mean_de(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    return float(np.mean([delta_e(x, y).mean() for x, y in zip(a, b, strict=True)]))


def temporal_de(clip: list[np.ndarray]) -> float:
    return mean_de(clip[1:], clip[:-1])


def colour_drift(prep, frames: list[np.ndarray]) -> list[str]:
    inputs, box = prep.inputs, prep.content_box
    ref_matte, _plate = photo_layers(inputs.reference, inputs.reference_pose)
    targets = {"reference": ColourView.of(inputs.reference, ref_matte, inputs.reference_pose, box),
               "first-frame": None}
    n = len(frames)
    jumps = tile_jumps(n, np.random.default_rng(0))
    none = [np.zeros(2)] * n
    lines = []
    for name, slow, steps in (("slow drift", True, none), ("per-tile jumps", False, jumps),
                              ("drift + jumps", True, jumps)):
        bad = [drifted(f, i / max(n - 1, 1) if slow else 0.0, steps[i]) for i, f in enumerate(frames)]
        mattes = list(FrameMatter().run(zip(bad, inputs.poses, strict=True)))
        before = mean_de(bad, frames)
        for mode, target in targets.items():
            started = time.perf_counter()
            fixed = list(ColourMatcher(target, box=box).run(zip(bad, mattes, inputs.poses, strict=True)))
            ms = 1000 * (time.perf_counter() - started) / n
            after = mean_de(fixed, frames)
            lines.append(f"  {name:15s} {mode:11s}: mean ΔE vs undrifted {before:.2f} → {after:.2f} "
                         f"({100 * (1 - after / before):.0f} % removed; target ≥ 80 %), {ms:.0f} ms/frame")
    mattes = list(FrameMatter().run(zip(frames, inputs.poses, strict=True)))
    for mode, target in targets.items():
        fixed = list(ColourMatcher(target, box=box).run(zip(frames, mattes, inputs.poses, strict=True)))
        lines.append(f"  undrifted dance {mode:11s}: temporal ΔE {temporal_de(frames):.3f} → {temporal_de(fixed):.3f}; "
                     f"ΔE vs itself {mean_de(fixed, frames):.3f}")
    rng = np.random.default_rng(1)
    photo = inputs.reference
    static = [np.clip(photo + rng.normal(0, 2, photo.shape) + 0.5, 0, 255).astype(np.uint8) for _ in range(n)]
    still_poses = [inputs.reference_pose] * n
    mattes = list(FrameMatter().run(zip(static, still_poses, strict=True)))
    for mode, target in targets.items():
        fixed = list(ColourMatcher(target, box=box).run(zip(static, mattes, still_poses, strict=True)))
        lines.append(f"  static clip     {mode:11s}: temporal ΔE {temporal_de(static):.3f} → {temporal_de(fixed):.3f} "
                     f"(target: within 0.5)")
    return lines


# ------------------------------------------------------------------------------------------------ (c)
def _boundary(mask: np.ndarray) -> np.ndarray:
    m = mask.astype(np.uint8)
    return (m - cv2.erode(m, np.ones((3, 3), np.uint8))) > 0


def matte_truth(size: int, steps: int = 4) -> list[tuple[float, ...]]:
    import skimage.data

    from studio.motion import detect_pose
    from studio.warp.matte import fill_background, person_matte
    from studio.warp.quality import moved_pose, similarity

    image = cv2.resize(np.ascontiguousarray(skimage.data.astronaut()), (size, size), interpolation=cv2.INTER_AREA)
    pose = detect_pose(image, backend="mediapipe")
    truth = (person_matte(image) > 0.5).astype(np.float32)
    plate = fill_background(image, truth)
    frames, truths, poses = [], [], []
    for a, b in zip(MOVES[:-1], MOVES[1:], strict=True):
        for k in range(steps):
            angle, scale, dx, dy = (np.array(a) * (1 - k / steps) + np.array(b) * (k / steps)).tolist()
            m = similarity(angle, scale, (dx, dy), pose.body[1, :2])
            person = cv2.warpAffine(image, m, (size, size), flags=cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_REFLECT_101)
            alpha = cv2.warpAffine(truth, m, (size, size), flags=cv2.INTER_LINEAR)[..., None]
            frames.append(np.clip(person * alpha + plate * (1 - alpha) + 0.5, 0, 255).astype(np.uint8))
            truths.append(alpha[..., 0] >= 0.5)
            poses.append(moved_pose(pose, m))
    rows = []
    for matte, true in zip(FrameMatter().run(zip(frames, poses, strict=True)), truths, strict=True):
        inside = matte >= 0.5
        iou = float((inside & true).sum() / max((inside | true).sum(), 1))
        to_true_edge = cv2.distanceTransform((~_boundary(true)).astype(np.uint8), cv2.DIST_L2, 5)
        edge = to_true_edge[_boundary(inside)]
        # the halo: the rings of pixels 1, 2, … 8 px outside the person; a band of the frame's own background
        # around the person is the rings most of whose pixels the matte takes (> 0.05)
        to_person = cv2.distanceTransform((~true).astype(np.uint8), cv2.DIST_L2, 5)
        rings = np.ceil(to_person)
        taken = [float((matte[rings == d] > 0.05).mean()) for d in range(1, 9)]
        width = max([d for d, share in enumerate(taken, 1) if share > 0.5], default=0)
        rows.append((iou, float(edge.mean()), float(np.percentile(edge, 95)), width, taken[1],
                     float(((matte > 0.05) & ~true & (to_person > 8)).mean())))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--frames", type=int, default=24, help="frames of the warp clip (the dance has 48)")
    parser.add_argument("--diffusion-size", type=int, default=256)
    parser.add_argument("--diffusion-frames", type=int, default=8)
    parser.add_argument("--no-diffusion", action="store_true", help="skip the tiny diffusion model's clip")
    parser.add_argument("--fixture", default=str(_shared.DEFAULT_FIXTURE))
    args = parser.parse_args()
    from pathlib import Path

    print("(a) background std over time (grey levels of 255) where the photo's background shows: "
          "mean, 99th percentile, share of the frame measured")
    runs = [("warp", args.size, args.frames)]
    if not args.no_diffusion:
        runs.append(("diffusion", args.diffusion_size, args.diffusion_frames))
    warp = None
    for engine, size, n in runs:
        prep, frames = rendered(engine, size, n, Path(args.fixture))
        if engine == "warp":
            warp = (prep, frames)
        for mode, (mean, p99, share) in background_std(prep, frames).items():
            print(f"  {engine:9s} {size}² × {len(frames):2d} {mode:9s}: mean {mean:.3f}, p99 {p99:.3f}, "
                  f"over {100 * share:.0f} % of the frame (target for photo: ≤ 1)")
    print("(b) colour drift (CIE76 ΔE, warp clip)")
    print("\n".join(colour_drift(*warp)))
    rows = np.array(matte_truth(args.size))
    print(f"(c) frame matte vs ground truth, {args.size}², {len(rows)} frames: IoU median {np.median(rows[:, 0]):.3f} "
          f"(worst {rows[:, 0].min():.3f}; target ≥ 0.95); edge error mean {np.mean(rows[:, 1]):.2f} px, "
          f"p95 median {np.median(rows[:, 2]):.1f} px; halo width median {np.median(rows[:, 3]):.0f} px, worst "
          f"{rows[:, 3].max():.0f} px (target ≤ 2), ring 2 px out matted {100 * np.mean(rows[:, 4]):.0f} %; "
          f"wrongly matted beyond 8 px: {100 * np.mean(rows[:, 5]):.2f} % of the frame")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
