"""Batch work: the batch plan, the SQLite queue, its runner and the Ray farm."""
