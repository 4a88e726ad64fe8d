"""The dlib helper process's entry point (``python -m studio.faces.dlib_helper_main``; see
``studio.faces.dlib_process``): describes the frames that arrive on stdin, answers on stdout."""

from __future__ import annotations

import sys

from studio.faces.dlib_identity import DlibFaceEmbedder
from studio.faces.dlib_process import serve

if __name__ == "__main__":
    answers = sys.stdout.buffer
    sys.stdout = sys.stderr  # anything a library prints must not land in the answers
    serve(sys.stdin.buffer, answers, DlibFaceEmbedder)
