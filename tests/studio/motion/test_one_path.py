"""One alignment path (issue 12): the window's alignment view and the render align the same poses on the
same fitted photo, bit for bit."""

from __future__ import annotations

import numpy as np

from studio.media.video_io import fit_to_size, load_image
from studio.system.progress import CancelToken
from tests.generated_media import write_astronaut_photo, write_transform_video

W, H = 160, 192  # a portrait output from a square photo: the fit really crops


def test_the_window_alignment_is_what_renders(tmp_path):
    from studio.project import Project
    from studio.render.renderer import Renderer
    from studio.request.render_request import RenderRequest
    from ui import core

    photo_path = write_astronaut_photo(tmp_path / "photo.png", size=240)
    video, _ = write_transform_video(tmp_path / "drive.mp4", num_frames=5, size=128)
    nudge = dict(offset_x=0.03, offset_y=-0.02, scale=1.1)
    for mode in ("bones", "global"):
        # The window's project: the photo framed as the render frames it, the extracted clip, the method and nudge.
        request = RenderRequest(reference=str(photo_path), motion=str(video), engine="warp", width=W, height=H,
                                fit="crop", alignment={"mode": mode, **nudge})
        project = Project(request)
        project.set_photo(load_image(photo_path))
        project.set_clip(core.extract_motion(str(video), 0.0, None, 1, None, lambda _p: None, CancelToken()))
        fitted, _ = fit_to_size(load_image(photo_path), W, H, mode="crop")
        np.testing.assert_array_equal(project.prepared.fitted, fitted)
        shown = project.prepared.aligned
        # The render of the same request.
        rendered = Renderer().prepare(project.request).inputs.poses
        assert len(shown) == len(rendered) == 5
        for a, b in zip(shown, rendered, strict=True):
            for group in ("body", "face", "left_hand", "right_hand"):
                np.testing.assert_array_equal(getattr(a, group), getattr(b, group), err_msg=f"{mode} {group}")
