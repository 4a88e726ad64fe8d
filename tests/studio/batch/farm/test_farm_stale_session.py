"""A stale Ray session file (its head long gone) is detected and named at once, not waited on for minutes
(issue 25, cause 7)."""

from __future__ import annotations

import socket

import pytest

pytest.importorskip("ray")

from studio.batch.farm import FarmError  # noqa: E402
from studio.batch.farm.cluster import connect  # noqa: E402


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nobody listens once it is closed


def test_auto_with_a_stale_session_file_names_it(tmp_path, monkeypatch):
    import ray._private.services as services

    monkeypatch.setenv("TMPDIR", str(tmp_path))  # where Ray looks for ray/ray_current_cluster on Linux
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setattr(services, "find_gcs_addresses", lambda: frozenset())  # other tests' clusters aside
    session = tmp_path / "ray" / "ray_current_cluster"
    session.parent.mkdir()
    port = _closed_port()
    session.write_text(f"127.0.0.1:{port}")
    with pytest.raises(FarmError) as caught:
        connect("auto")
    message = str(caught.value)
    assert "stale session" in message and str(session) in message and f"127.0.0.1:{port}" in message


def test_auto_with_no_cluster_at_all_says_so(tmp_path, monkeypatch):
    import ray._private.services as services

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setattr(services, "find_gcs_addresses", lambda: frozenset())
    with pytest.raises(FarmError, match="no running Ray cluster was found"):
        connect("auto")
