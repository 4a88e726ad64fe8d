"""The render request: its one schema (every setting declared once), presets, saved versions."""
