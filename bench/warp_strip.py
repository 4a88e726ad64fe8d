"""The warp preview's before/after picture for the README: five frames of the sample photo driven by the
sample motion, an older render on top (``--before``), this tree's render below.

    .venv/bin/python bench/warp_strip.py --before old.mp4 [--out docs/warp_before_after.png]

``old.mp4`` is made with an older checkout's own code, e.g.
``python -m studio render --engine warp --reference assets/sample_photo.jpg --motion assets/sample_motion.mp4
--width 512 --height 512 --seed 1 --out old.mp4`` run in that checkout.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from _shared import REPO  # noqa: E402  (bench/ is the script's folder)

TILE = 200  # px per frame in the strip: small enough for the README, large enough to see tears


def read_frames(path: Path):
    import cv2

    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    if not frames:
        raise SystemExit(f"{path}: no frames could be read")
    return frames


def row(frames, label: str):
    import cv2
    import numpy as np

    picks = np.linspace(0, len(frames) - 1, 5).round().astype(int)
    tiles = [cv2.resize(frames[i], (TILE, TILE), interpolation=cv2.INTER_AREA) for i in picks]
    strip = np.hstack(tiles)
    cv2.putText(strip, label, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(strip, label, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return strip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="the older render (mp4)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "warp_before_after.png")
    args = parser.parse_args()

    import numpy as np

    from studio.render.renderer import Renderer
    from studio.request.render_request import RenderRequest

    with tempfile.TemporaryDirectory() as tmp:
        after = Path(tmp) / "after.mp4"
        request = RenderRequest(reference=str(REPO / "assets" / "sample_photo.jpg"),
                                motion=str(REPO / "assets" / "sample_motion.mp4"), engine="warp",
                                width=512, height=512, seed=1)
        result = Renderer().render(request, after)
        after_frames = read_frames(after)
    strip = np.vstack([row(read_frames(args.before), "before"), row(after_frames, "after")])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = args.out.with_name(f".{args.out.name}.tmp.png")
    from PIL import Image

    # A 256-colour palette keeps the PNG near 170 KB instead of 500 KB, with no visible loss at this size.
    picture = Image.fromarray(np.ascontiguousarray(strip[..., ::-1]))
    picture.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        tmp_out, format="PNG", optimize=True)
    os.replace(tmp_out, args.out)
    mean = result.identity.mean
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KB); after: identity "
          f"{'n/a' if mean is None else f'{mean:.3f}'} ({result.identity.label or result.identity.backend})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
