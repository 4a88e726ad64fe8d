"""Nothing lost (a mixin of ``ui.main_window.MainWindow``): closing asks about unsaved changes and a running
render, the project autosaves into the data folder, a start after a crash offers the autosave back (photo, video,
settings, skeleton, alignment and the last result), a normal start takes the last session's skeleton and result
back without asking (its photo, video and settings come from the window's settings), and the title names the
project and marks it modified."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from studio.autosave import Session, clip_from_json, snapshot_of
from studio.project import PROJECT_SUFFIX
from ui.workers import LatestOnly, Task

logger = logging.getLogger(__name__)

#: An autosave follows the last change after this long (a slider drag writes once).
AUTOSAVE_DELAY_MS = 2000
#: Closing waits this long for its last autosave with the event loop running (the window paints, takes no input);
#: the shutdown then waits for whatever is left, so the file is complete before the session ends.
CLOSING_AUTOSAVE_WAIT_MS = 10000
#: While a render finishes in the background (the window hidden), how often the window checks whether it is done.
BACKGROUND_POLL_MS = 500
FINISH_IN_BACKGROUND, STOP_KEEP_QUEUE, CANCEL = ("Finish in the background", "Stop and keep the queue", "Cancel")
SAVE, DISCARD = "Save", "Discard"


class SessionActions:
    # the attributes below are MainWindow's
    def _init_session(self) -> None:
        """The session's state, before the panels exist (their first changes already reach it)."""
        self.session = Session()
        self._closing_for_good = False
        self._restore_offered = False
        self._clean_state = ""
        self._autosave_timer = QTimer(self)
        self._autosave_timer.setSingleShot(True)
        self._autosave_timer.setInterval(AUTOSAVE_DELAY_MS)
        self._autosave_timer.timeout.connect(self._autosave_in_background)
        self._autosave_writer = LatestOnly(self.runner, "autosave")
        #: Autosaves are numbered as the GUI thread takes them; a write never replaces a newer one's file.
        self._autosave_taken = 0
        self._autosave_written = 0
        self._autosave_lock = threading.Lock()
        #: The newest autosave written on the way out (closing, hiding the window); shutdown waits for it.
        self._last_autosave: Task | None = None
        self._background_timer = QTimer(self)
        self._background_timer.setInterval(BACKGROUND_POLL_MS)
        self._background_timer.timeout.connect(self._check_background_done)

    def _begin_session(self) -> None:
        """Once the window holds the last project: that is the unmodified state; offer a crashed session's work."""
        self._clean_state = self._saved_state()
        if self.session.begin():
            self._offer_restore()
        elif self.session.owner:
            self._resume_last_session()
        self.update_title()

    # modified state and title ------------------------------------------------------------------------
    def _saved_state(self) -> str:
        """The project as a file would hold it, without where the timeline stands (moving it is no edit)."""
        data = self.project.to_dict()
        data.pop("selection", None)
        return json.dumps(data, sort_keys=True)

    def is_modified(self) -> bool:
        return self._saved_state() != self._clean_state

    def mark_clean(self) -> None:
        self._clean_state = self._saved_state()
        self.update_title()
        self.output_folder_row.refresh()  # (an unset folder follows the project file)

    def project_name(self) -> str:
        return Path(self.project_path).name.removesuffix(PROJECT_SUFFIX) if self.project_path else "Untitled"

    def update_title(self) -> None:
        self.setWindowTitle(f"{self.project_name()}[*] — StableAnimator Studio")
        self.setWindowModified(self.is_modified())

    def _session_changed(self) -> None:
        """After any change: the title's mark, and an autosave shortly."""
        if not self._clean_state:
            return  # still starting
        self.update_title()
        self._autosave_timer.start()

    # autosave and restore ----------------------------------------------------------------------------
    def write_last_autosave(self, wait_ms: int = 0) -> Task:
        """The autosave as the window is now (closing, hiding the window), written on a worker thread: a long
        clip's skeleton takes hundreds of ms to serialise, and the GUI thread writes nothing. It is newer than any
        autosave taken before, so one still in flight never replaces it. With ``wait_ms`` this waits that long
        for it with the event loop running for painting and the workers' news, never for input (a click cannot
        re-enter a closing window); ``shutdown`` waits for the rest, so the file is complete before the session
        ends. ``Session.write`` replaces the file atomically: a process that dies mid-write leaves the previous
        autosave, never half of this one."""
        self._autosave_timer.stop()  # this one supersedes the autosave an edit asked for
        taken = self._take_autosave()
        task = self.runner.start("autosave on the way out",
                                 lambda _report, _preview, _cancel: self._write_autosave(*taken))
        self._last_autosave = task
        written = QEventLoop()
        task.finished.connect(written.quit)  # connected before the work may begin: its end cannot be missed
        task.go.set()  # at once: closing may give no event loop turn, and nothing waits for slots
        if wait_ms > 0 and not task.isFinished():
            bound = QTimer()
            bound.setSingleShot(True)
            bound.timeout.connect(written.quit)
            bound.start(wait_ms)
            written.exec(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
            bound.stop()
        return task

    def _join_last_autosave(self) -> None:
        """Shutting down: the autosave written on the way out is complete before the threads are cancelled and
        the session ends (a cancel could stop it before it began; an ended session writes nothing)."""
        task, self._last_autosave = self._last_autosave, None  # (the window holds no task past its runner)
        if task is not None and not task.isFinished():
            logger.info("closing: waiting for the autosave to be written")
            task.wait()

    def _autosave_in_background(self) -> None:
        """The autosave after an edit: the skeleton's JSON and the file are written on a worker thread (a long
        clip's skeleton takes hundreds of ms to serialise; the editing must not wait for it)."""
        if self._closing_for_good:
            return  # closing wrote the last autosave itself
        taken = self._take_autosave()
        self._autosave_writer.submit(lambda: self._write_autosave(*taken), lambda _result: None)

    def _take_autosave(self) -> tuple:
        """On the GUI thread: the project's parts as they are now (the clip is replaced on change, never edited)."""
        self._autosave_taken += 1
        return self._autosave_taken, self.project.to_dict(), self.project.prepared.clip, self.last_result

    def _write_autosave(self, number: int, data: dict, clip, last_result: str | None) -> None:
        with self._autosave_lock:  # (any thread)
            if number < self._autosave_written:
                return  # a newer autosave was written already
            self._autosave_written = number
            try:
                self.session.write(snapshot_of(data, clip, last_result))
            except OSError as exc:  # a full disk must not stop the editing; say it once in the log
                logger.warning("the autosave failed: %s", exc)

    def _offer_restore(self) -> None:
        self._restore_offered = True
        self.message_bar.show_message(
            "StableAnimator Studio did not close properly last time. Restore the autosaved project (photo, video, "
            "settings, skeleton, alignment and the last result)?", "warning",
            (("Restore", self.restore_autosave), ("Discard", self._discard_restore)))

    def _discard_restore(self) -> None:
        self._restore_offered = False
        self.message_bar.dismiss()
        self.refresh_guidance()

    def restore_autosave(self) -> bool:
        self._restore_offered = False
        self.message_bar.dismiss()
        data = self.session.read()
        if data is None:
            self.show_error("The autosave could not be read; nothing was restored.")
            return False
        extra = data.get("autosave") or {}
        try:
            self.project.load_dict(data, source="the autosave")
            clip = clip_from_json(extra["clip"]) if extra.get("clip") else None
        except Exception as exc:  # noqa: BLE001 - shown to the person
            self.show_error(f"The autosave could not be restored: {exc}")
            return False
        self.project_path = None
        self._open_project_files()  # the photo and the video (loading a video forgets the skeleton) …
        self._restore_work(clip, extra.get("last_result"))  # … so the skeleton is set after them
        self.show_status("Restored the autosaved project.")
        self.update_actions()
        return True

    def _restore_work(self, clip, result: str | None) -> None:
        """The skeleton (with it the alignment, which follows from it and the photo) and the last result, once
        the photo and the video are open."""
        if clip is not None:
            self._restore_clip_once_opened(clip)  # (the video opens on a worker thread)
        if result and Path(result).is_file():
            self.open_result(0, result)

    def _resume_last_session(self) -> None:
        """A normal start: the last session closed cleanly, writing its autosave on the way out; when that holds
        the project the window just reopened (the same driving video), its skeleton and result come back too."""
        data = self.session.read()
        extra = (data or {}).get("autosave") or {}
        if not extra or (data.get("request") or {}).get("motion") != self.project.request.motion:
            return
        try:
            clip = clip_from_json(extra["clip"]) if extra.get("clip") else None
        except Exception as exc:  # noqa: BLE001 - a stale autosave never stops the window
            logger.info("ignored the last session's unreadable skeleton: %s", exc)
            clip = None
        self._restore_work(clip, extra.get("last_result"))
        self.update_actions()

    # closing -----------------------------------------------------------------------------------------
    def _restore_clip_once_opened(self, clip) -> None:
        """Show ``clip`` over the project's video once the motion panel has opened it (on a worker thread)."""
        motion, panel = self.project.request.motion, self.motion_panel

        def restore() -> None:
            panel.set_motion(clip)
            self.project.set_clip(clip)

        if panel.opening != motion:  # not being opened: open already, or not there
            if panel.path == motion:
                restore()
            return

        def opened(path: str, _info) -> None:
            panel.video_loaded.disconnect(opened)
            if path == motion == self.project.request.motion:
                restore()

        panel.video_loaded.connect(opened)  # after the window's own slot, which forgets the old skeleton

    def ask_choice(self, title: str, text: str, choices: tuple[str, ...]) -> str:
        """A question with one button per choice (the last one is Escape's); returns the chosen text."""
        box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=self)
        buttons = [box.addButton(choice, QMessageBox.ButtonRole.AcceptRole) for choice in choices]
        box.setEscapeButton(buttons[-1])
        box.setDefaultButton(buttons[0])
        box.exec()
        clicked = box.clickedButton()
        return choices[buttons.index(clicked)] if clicked in buttons else choices[-1]

    def render_running(self) -> bool:
        return self.preview_task is not None or self.queue_panel.busy() or self.export_task is not None

    def may_close(self) -> bool:
        """Ask what to do with a running render and with unsaved changes; False keeps the window open."""
        if self._closing_for_good:
            return True
        if self.render_running():
            choice = self.ask_choice(
                "A render is running", "A render is running. Let it finish in the background (the window closes "
                "and the studio quits when it is done), stop it and keep it queued for next time, or keep working?",
                (FINISH_IN_BACKGROUND, STOP_KEEP_QUEUE, CANCEL))
            if choice == CANCEL:
                return False
            if choice == FINISH_IN_BACKGROUND:
                if not self._ask_save():
                    return False
                self.finish_in_background()
                return False
        return self._ask_save()

    def close_without_asking(self) -> None:
        """Close now, keeping nothing running (``--quit-after``: a smoke test has nobody to answer)."""
        self.ask_nothing_on_close()
        self.close()

    def ask_nothing_on_close(self) -> None:
        """The next close stops whatever runs and keeps no edit (a headless test's teardown)."""
        self._closing_for_good = True

    def _ask_save(self) -> bool:
        if not self.is_modified():
            return True
        choice = self.ask_choice("Unsaved changes", f"Save the changes to {self.project_name()} before closing?",
                                 (SAVE, DISCARD, CANCEL))
        if choice == SAVE:
            return self.save_project() is not None
        return choice == DISCARD

    def finish_in_background(self) -> None:
        """Hide the window; the running render (and the queue) go on, and the studio quits when they are done."""
        self.save_settings()
        self.write_last_autosave()  # (closing at the end writes the last one and waits for it)
        self.hide()
        self._background_timer.start()
        logger.info("the window is hidden while the render finishes; the studio quits when it is done")

    def _check_background_done(self) -> None:
        if not self.render_running():
            self._background_timer.stop()
            self._closing_for_good = True
            self.close()
            QApplication.quit()  # (closing a hidden window is not "the last window closed")
