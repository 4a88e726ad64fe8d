"""dlib in a helper process (for the window, whose GUI thread must not wait while dlib holds the interpreter
lock) answers exactly what dlib in this process answers."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("dlib")

from studio.faces import dlib_identity  # noqa: E402
from studio.faces.dlib_identity import DlibFaceEmbedder  # noqa: E402
from studio.faces.dlib_process import HelperEmbedder  # noqa: E402
from studio.media.video_io import load_image  # noqa: E402
from studio.system.assets import SAMPLE_PHOTO, asset_path  # noqa: E402


def test_the_helper_process_describes_a_face_as_dlib_does_here():
    photo = load_image(asset_path(SAMPLE_PHOTO))
    here = DlibFaceEmbedder()
    helper = HelperEmbedder()
    try:
        vector, box = here.describe(photo)
        assert vector is not None
        for near in (None, box):  # a whole-frame search, and the search near the last face
            expected = here.describe(photo, near)
            got = helper.describe(photo, near)
            assert got[1] == expected[1]
            np.testing.assert_array_equal(got[0], expected[0])
        assert helper.describe(np.zeros((80, 96, 3), np.uint8)) == (None, None)  # no face: no descriptor
        with pytest.raises(ValueError, match="RGB frame"):
            helper.describe(np.zeros((8, 8), np.uint8))
        assert helper._process.poll() is None  # a refused frame is refused here, the helper still runs
    finally:
        helper.close()
    assert helper._process.returncode == 0


def test_the_window_switch_makes_the_shared_embedder_a_helper_process():
    try:
        dlib_identity.describe_in_helper_process(True)
        shared = dlib_identity.shared_embedder()
        assert isinstance(shared, HelperEmbedder) and dlib_identity.shared_embedder() is shared
    finally:
        dlib_identity.describe_in_helper_process(False)
    assert shared._process.poll() is not None  # switching back closed it
    assert isinstance(dlib_identity.shared_embedder(), DlibFaceEmbedder)
