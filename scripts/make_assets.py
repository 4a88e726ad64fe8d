"""Regenerate the first-run sample media in ``assets/`` from public-domain sources.

The sample photo and the sample motion both come from scikit-image's bundled ``astronaut`` image
(Eileen Collins, NASA portrait: public domain). The motion clip moves, scales and tilts the photo along a
smooth path, so the pose extractor finds a person whose skeleton visibly moves.

    .venv/bin/python scripts/make_assets.py
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import imageio.v2 as imageio
import numpy as np
from skimage import data

# The checkout's source folder: this script regenerates it (the studio itself reads them via studio.assets).
ASSETS = Path(__file__).resolve().parents[1] / "assets"
PHOTO = ASSETS / "sample_photo.jpg"
MOTION = ASSETS / "sample_motion.mp4"
FRAMES = 48
FPS = 12
SIZE = 320


def make_photo(image: np.ndarray) -> None:
    photo = cv2.resize(image, (384, 384), interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(PHOTO), cv2.cvtColor(photo, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 88])


def make_motion(image: np.ndarray) -> None:
    base = cv2.resize(image, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    writer = imageio.get_writer(
        str(MOTION), fps=FPS, codec="libx264", quality=None,
        pixelformat="yuv420p", output_params=["-crf", "30", "-preset", "slow"], macro_block_size=16,
    )
    try:
        for i in range(FRAMES):
            phase = 2 * math.pi * i / FRAMES
            angle = 8.0 * math.sin(phase)
            scale = 0.85 + 0.08 * math.sin(2 * phase)
            matrix = cv2.getRotationMatrix2D((SIZE / 2, SIZE * 0.6), angle, scale)
            matrix[0, 2] += 28.0 * math.sin(phase)
            matrix[1, 2] += 10.0 * math.cos(phase)
            frame = cv2.warpAffine(base, matrix, (SIZE, SIZE), borderMode=cv2.BORDER_REFLECT)
            writer.append_data(frame)
    finally:
        writer.close()


def main() -> None:
    ASSETS.mkdir(exist_ok=True)
    image = data.astronaut()
    make_photo(image)
    make_motion(image)
    for path in (PHOTO, MOTION):
        print(f"{path.relative_to(ASSETS.parent)}: {path.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
