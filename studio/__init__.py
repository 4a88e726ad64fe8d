"""StableAnimator Studio application core: requests, media, motion, render, export, queue, CLI.

This package never imports Qt (an import-linter contract in the tests holds this), so everything here
runs headless from the command line as well as under the desktop window in ``ui``.
"""

__version__ = "0.1.0"
