"""A stand-in antelopev2 pack shared by the face tests (exported once per session, ~1 s)."""

from __future__ import annotations

import pytest

from tests.studio.faces.antelope_models import write_antelopev2


@pytest.fixture(scope="session")
def antelope_root(tmp_path_factory):
    """A folder holding ``antelopev2/`` with the stand-in models (the layout ``find_antelopev2`` accepts)."""
    root = tmp_path_factory.mktemp("faces_pack")
    write_antelopev2(root / "antelopev2")
    return root


@pytest.fixture(scope="session")
def analyzer(antelope_root):
    from studio.faces.reference_face import FaceAnalyzer

    return FaceAnalyzer(antelope_root)
