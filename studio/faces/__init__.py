"""Faces: the reference face, identity embeddings and per-frame identity scores."""
