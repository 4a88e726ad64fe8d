"""The queue file is moved aside only when it is the studio's own and SQLite calls it damaged (issue 25, cause 1):
a user's file, another program's database, a lock, a newer schema, a read-only or full disk are said as they are
and nothing is renamed; ``batch status`` changes nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from studio.__main__ import main
from studio.batch import queue_file
from studio.batch.queue import JobQueue, QueueError
from tests.studio.batch.test_queue import base


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def test_a_users_text_file_given_as_db_is_never_touched(tmp_path, capsys):
    notes = tmp_path / "x.txt"
    notes.write_text("notes\n")
    for argv in (["batch", "status"], ["batch", "cancel", "--all"], ["batch", "retry", "--all"]):
        assert main([*argv, "--db", str(notes)]) == 1
        err = capsys.readouterr().err
        assert "not a studio queue" in err and str(notes) in err and "Traceback" not in err
        assert _files(tmp_path) == {"x.txt": b"notes\n"}


def test_another_programs_database_is_refused_and_unchanged(tmp_path):
    other = tmp_path / "photos.db"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE albums (name TEXT)")
    db.execute("INSERT INTO albums VALUES ('summer')")
    db.commit()
    db.close()
    before = other.read_bytes()
    with pytest.raises(QueueError, match="not a studio queue"):
        JobQueue(other)
    assert other.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["photos.db"]


def test_status_of_a_missing_queue_creates_nothing(tmp_path, capsys):
    assert main(["batch", "status", "--db", str(tmp_path / "q.db")]) == 0
    assert "the queue is empty" in capsys.readouterr().out and list(tmp_path.iterdir()) == []


def test_status_never_writes_to_a_healthy_queue(tmp_path, capsys):
    path = tmp_path / "q.db"
    JobQueue(path).add(base(), tmp_path / "out" / "a.mp4")
    before = path.read_bytes()
    assert main(["batch", "status", "--db", str(path)]) == 0
    assert "1 queued" in capsys.readouterr().out and path.read_bytes() == before


def test_a_lock_held_by_another_program_is_waited_for_then_named_and_nothing_moves(tmp_path):
    path = tmp_path / "q.db"
    JobQueue(path).add(base(), tmp_path / "a.mp4")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another program writing
    said: list[str] = []
    try:
        with pytest.raises(QueueError, match="stayed locked by another program"):
            JobQueue(path, lock_wait_s=1.5, say=said.append)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert len(said) == 1 and "waiting up to 2 s" in said[0]
    assert not [p for p in tmp_path.iterdir() if ".corrupt-" in p.name]
    assert len(JobQueue(path).jobs()) == 1


def test_a_newer_schema_is_refused_with_its_version(tmp_path, capsys):
    path = tmp_path / "q.db"
    JobQueue(path).add(base(), tmp_path / "a.mp4")
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 7")
    db.close()
    before = _files(tmp_path)
    for argv in (["batch", "status"], ["batch", "cancel", "--all"]):
        assert main([*argv, "--db", str(path)]) == 1
        err = capsys.readouterr().err
        assert "queue schema version 7" in err and "newer studio" in err
    assert _files(tmp_path) == before


@pytest.mark.parametrize(("limit", "expected"), [("read_only", "read-only"), ("full", "is full")])
def test_a_read_only_or_full_queue_is_said_as_it_is(tmp_path, monkeypatch, limit, expected):
    path = tmp_path / "q.db"
    JobQueue(path).add(base(), tmp_path / "a.mp4")
    real_connect = queue_file.connect

    def limited(p, read_only, timeout_s):  # SQLite's own refusals, as a read-only mount or a full disk gives them
        if limit == "read_only":
            return real_connect(p, True, timeout_s)
        db = real_connect(p, read_only, timeout_s)
        db.execute("PRAGMA max_page_count = 1")
        return db

    monkeypatch.setattr(queue_file, "connect", limited)
    queue = JobQueue(path, read_only=True)
    with pytest.raises(QueueError, match=expected):
        queue.read_only = False  # a writer's statement on a file that cannot grow or be written
        for seed in range(3, 60):  # until the file would have to grow
            queue.add(base(seed=seed), tmp_path / f"b{seed}.mp4")
    assert not [p for p in tmp_path.iterdir() if ".corrupt-" in p.name]
    monkeypatch.undo()
    assert JobQueue(path).jobs()[0].output == str(tmp_path / "a.mp4")


def test_a_damaged_studio_queue_with_its_marker_is_moved_aside_by_a_writer_only(tmp_path, capsys):
    path = tmp_path / "q.db"
    queue = JobQueue(path)
    for seed in range(40):  # enough rows for several pages
        queue.add(base(seed=seed), tmp_path / f"o{seed}.mp4")
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    data[page + 100: 3 * page] = b"\xff" * (3 * page - page - 100)  # the b-tree pages after the first
    path.write_bytes(bytes(data))
    assert data[68:72] == queue_file.APPLICATION_ID.to_bytes(4, "big")
    assert main(["batch", "status", "--db", str(path)]) == 1
    assert "damaged" in capsys.readouterr().err and path.read_bytes() == bytes(data)
    fresh = JobQueue(path)
    assert fresh.notice and "moved to" in fresh.notice and fresh.jobs() == []
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("q.db.corrupt-") and not p.name.endswith(("wal", "shm"))]
    assert len(kept) == 1 and kept[0].read_bytes() == bytes(data)


def test_a_queue_written_before_the_marker_is_still_the_studios(tmp_path):
    path = tmp_path / "old.db"
    JobQueue(path).add(base(), tmp_path / "a.mp4")
    db = sqlite3.connect(path)
    db.execute("PRAGMA application_id = 0")
    db.execute("PRAGMA user_version = 0")
    db.close()
    assert len(JobQueue(path).jobs()) == 1


def test_a_symlinked_db_cannot_start_a_second_runner(tmp_path):
    from studio.batch.queue import QueueRunner, RunnerBusy
    from tests.studio.batch.test_queue import FakeRenderer

    real = tmp_path / "real" / "q.db"
    JobQueue(real).add(base(), tmp_path / "a.mp4")
    link = tmp_path / "elsewhere" / "link.db"
    link.parent.mkdir()
    link.symlink_to(real)
    first = QueueRunner(JobQueue(real), FakeRenderer())
    first.acquire()
    try:
        second = QueueRunner(JobQueue(link), FakeRenderer())
        with pytest.raises(RunnerBusy):
            second.acquire()
        assert JobQueue(link).runner_alive("default")
    finally:
        first.release()


def test_a_newer_schema_still_in_the_write_ahead_log_is_refused(tmp_path):
    path = tmp_path / "q.db"
    JobQueue(path).add(base(), tmp_path / "a.mp4")
    other = sqlite3.connect(path, isolation_level=None)  # another studio, still running: its log not yet merged
    other.execute("PRAGMA journal_mode=WAL")
    other.execute("PRAGMA wal_autocheckpoint=0")
    other.execute("PRAGMA user_version = 7")
    try:
        assert queue_file.header_numbers(path.read_bytes()[:100])[1] == queue_file.SCHEMA_VERSION  # header: old
        with pytest.raises(QueueError, match="queue schema version 7"):
            JobQueue(path)
    finally:
        other.close()
