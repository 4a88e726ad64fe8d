"""The render farm's pieces that need no cluster: what travels (pack/unpack by content hash, the atomic
install of a worker's files), and the clear errors when Ray is missing or the head cannot be reached."""

from __future__ import annotations

import socket
import sys

import pytest

from studio.__main__ import main
from studio.batch.farm import FarmError
from studio.batch.farm.cluster import connect
from studio.batch.farm.payload import InputStore, install, pack, unpack
from studio.batch.queue import JobQueue
from studio.errors import ExportError
from studio.request.render_request import RenderRequest


def test_inputs_go_to_the_store_once_per_content_and_unpack_once_per_node(tmp_path):
    a = tmp_path / "a.png"
    a.write_bytes(b"photo bytes")
    same = tmp_path / "copy_of_a.png"
    same.write_bytes(b"photo bytes")
    folder = tmp_path / "motion"
    (folder / "poses").mkdir(parents=True)
    (folder / "motion.json").write_text("{}")
    (folder / "poses" / "frame_0.png").write_bytes(b"pose")
    puts = []
    store = InputStore(lambda value: puts.append(value) or len(puts))
    ha, ref_a = store.ref(a)
    assert store.ref(a) == (ha, ref_a) and store.ref(same) == (ha, ref_a)  # same content: one upload
    hf, _ = store.ref(folder)
    assert store.uploads == len(puts) == 2 and hf != ha

    cache = tmp_path / "worker"
    local = unpack(puts[1], hf, cache)
    assert local.name == "motion" and (local / "poses" / "frame_0.png").read_bytes() == b"pose"
    assert unpack(puts[1], hf, cache) == local  # second job on this node: already there
    assert unpack(puts[0], ha, cache).read_bytes() == b"photo bytes"
    assert not [p for p in (cache / "inputs").iterdir() if p.name.startswith(".unpack")]


def test_unpack_refuses_names_that_leave_the_cache(tmp_path):
    evil = {"name": "x", "folder": True, "files": {"../../escaped.txt": b"no"}}
    with pytest.raises(ExportError, match="unsafe file name"):
        unpack(evil, "sha256:00", tmp_path / "cache")
    assert not (tmp_path / "escaped.txt").exists()


def test_install_writes_the_mp4_last_and_never_through_planted_files(tmp_path):
    out = tmp_path / "out" / "clip.mp4"
    files = {"clip.mp4": b"video", "clip.json": b'{"request": {}}', "clip_frames/frame_0.png": b"png"}
    written = install(files, out)
    assert written[-1] == out and out.read_bytes() == b"video" and (out.parent / "clip_frames" / "frame_0.png").is_file()
    assert sorted(p.name for p in out.parent.iterdir()) == ["clip.json", "clip.mp4", "clip_frames"]

    with pytest.raises(ExportError, match="does not belong"):
        install({"clip.mp4": b"v", "other.json": b"{}"}, out)
    with pytest.raises(ExportError, match="unsafe"):
        install({"clip.mp4": b"v", "clip/../../x": b"{}"}, out)
    with pytest.raises(ExportError, match="sent no clip.mp4"):
        install({"clip.json": b"{}"}, out)
    assert out.read_bytes() == b"video"  # a refused install changed nothing

    # a symlink planted under the temporary name: the exclusive create refuses it, nothing is followed
    target = tmp_path / "victim.txt"
    target.write_text("keep me")
    (out.parent / ".clip.partial.json").symlink_to(target)
    with pytest.raises(ExportError, match="cannot write"):
        install({"clip.mp4": b"new", "clip.json": b"{}"}, out)
    assert target.read_text() == "keep me" and out.read_bytes() == b"video"
    assert not [p for p in out.parent.iterdir() if ".partial" in p.name]


def test_install_never_replaces_what_the_studio_did_not_make(tmp_path):
    out = tmp_path / "clip.mp4"
    user_folder = tmp_path / "clip_frames"
    (user_folder / "my_project").mkdir(parents=True)
    (user_folder / "my_project" / "notes.txt").write_text("mine")
    with pytest.raises(ExportError, match="never replaced"):
        install({"clip.mp4": b"v", "clip_frames/frame_0.png": b"png"}, out)
    assert (user_folder / "my_project" / "notes.txt").read_text() == "mine" and not out.exists()

    someone = tmp_path / "other.mp4"
    someone.write_bytes(b"their video")  # no studio sidecar beside it
    with pytest.raises(ExportError, match="never replaced"):
        install({"other.mp4": b"v"}, someone)
    assert someone.read_bytes() == b"their video"
    assert not [p for p in tmp_path.iterdir() if ".partial" in p.name]


def test_pack_of_a_missing_input_is_a_clear_error(tmp_path):
    with pytest.raises(Exception, match="does not exist"):
        pack(tmp_path / "gone.png")


def _queue_one(tmp_path) -> JobQueue:
    queue = JobQueue(tmp_path / "q.db")
    queue.add(RenderRequest(reference=str(tmp_path / "p.png"), motion=str(tmp_path / "m.mp4"), engine="warp",
                            width=64, height=64), tmp_path / "out" / "a.mp4")
    return queue


def test_cluster_without_ray_installed_says_what_to_install(tmp_path, monkeypatch, capsys):
    _queue_one(tmp_path)
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray → ImportError
    assert main(["batch", "run", "--db", str(tmp_path / "q.db"), "--cluster", "auto"]) == 1
    err = capsys.readouterr().err
    assert "needs Ray, which is not installed" in err and "pip install '.[cluster]'" in err
    assert "Traceback" not in err
    assert JobQueue(tmp_path / "q.db").counts()["queued"] == 1  # the queue is untouched


def test_an_unreachable_head_is_a_clear_error_and_leaves_the_queue_intact(tmp_path, capsys):
    pytest.importorskip("ray")
    _queue_one(tmp_path)
    with socket.socket() as s:  # a port on 127.0.0.1 that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert main(["batch", "run", "--db", str(tmp_path / "q.db"), "--cluster", f"127.0.0.1:{port}"]) == 1
    err = capsys.readouterr().err
    assert f"cannot reach the Ray cluster at 127.0.0.1:{port}" in err and "Traceback" not in err
    assert JobQueue(tmp_path / "q.db").counts()["queued"] == 1
    with pytest.raises(FarmError, match="not an address"):
        connect("no-port-here")


def test_the_panels_run_on_cluster_without_ray_says_what_to_install(qtbot, tmp_path, monkeypatch):
    from studio.service import Studio
    from ui.queue_panel import QueuePanel
    from ui.workers import TaskRunner

    monkeypatch.setitem(sys.modules, "ray", None)
    panel = QueuePanel(TaskRunner(), Studio())
    qtbot.addWidget(panel)
    job_id = panel.queue.add(RenderRequest(reference=str(tmp_path / "p.png"), motion=str(tmp_path / "m.mp4"),
                                           engine="warp", width=64, height=64), tmp_path / "out" / "a.mp4")
    assert panel.run_on_cluster("auto", 0.0) is not None and not panel.cluster_button.isEnabled()
    qtbot.waitUntil(lambda: panel.consumer is None, timeout=30000)
    assert "needs Ray, which is not installed" in panel.summary.text()
    # the job waits for the next run; the failed cluster run does not start rendering it on this machine
    assert panel.consumer is None and panel.queue.get(job_id).state == "queued"
    assert panel.cluster_button.isEnabled() and panel.run_button.isEnabled()
    panel.stop()


def test_batch_add_for_a_farm_checks_the_weights_on_the_workers_not_here(tmp_path, capsys):
    photo, motion = tmp_path / "p.png", tmp_path / "m.mp4"
    photo.write_bytes(b"x")
    motion.write_bytes(b"y")
    args = ["batch", "add", "--db", str(tmp_path / "q.db"), "--reference", str(photo), "--motion", str(motion),
            "--out-dir", str(tmp_path / "out"), "--models", "/weights/on/the/workers"]
    assert main(args) == 1 and "does not exist" in capsys.readouterr().err  # checked here by default
    assert main([*args, "--weights-on-workers"]) == 0
    [job] = JobQueue(tmp_path / "q.db").jobs()
    assert job.state == "queued" and job.request.models == "/weights/on/the/workers"
