"""The names of the background modes and colour-match modes (light: the request validates against them)."""

#: generated: the engine's frames; photo: the person over the photo's clean plate; transparent: RGBA.
BACKGROUND_MODES = ("generated", "photo", "transparent")
#: off; reference: matched to the reference photo; first-frame: matched to the first rendered frame.
COLOR_MATCH_MODES = ("off", "reference", "first-frame")
