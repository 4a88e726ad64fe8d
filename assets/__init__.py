"""Bundled sample media, theme and icon, shipped as package data so an installed studio finds them.

Code never builds paths into this folder itself: ``studio.system.assets.asset_path`` is the one place that locates
these files (with ``importlib.resources``), in a checkout and in an installed wheel alike.
"""
