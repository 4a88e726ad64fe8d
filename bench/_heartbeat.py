"""A heartbeat on the GUI thread and a watchdog that says what the GUI thread was doing when it missed a beat.

``Heartbeat``: a QTimer ticking every ``interval_ms`` on the GUI thread; a stall is the gap between two ticks
minus the interval. ``Watchdog``: a plain thread that, while the heartbeat is late by more than ``late_ms``,
samples every thread's Python stack every few ms (through ``faulthandler``, which holds no frame objects); each
stall is then blamed on the place its samples name most often (the innermost frame in the studio's own code,
else the innermost frame). When the GUI thread's stack shows it idle in the event loop during a stall, it was
not running Python code of its own: it waited for the interpreter lock or a core (a worker holding the lock, or
the machine busy), and the workers' innermost studio frames are named instead.
"""

from __future__ import annotations

import faulthandler
import re
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QEventLoop, QObject, Qt, QTimer

#: A thread whose innermost frame is in these modules is waiting (a lock, a queue, a timer), not running.
WAITING_IN = {"threading.py", "queue.py", "selectors.py"}
THREAD_LINE = re.compile(r"^(?:Current thread|Thread) (0x[0-9a-f]+)")
FRAME_LINE = re.compile(r'^\s+File "(.*)", line (\d+) in (.*)$')
#: A stall over this long counts toward the "share of time in long stalls".
LONG_STALL_MS = 50.0


@dataclass
class Stall:
    start: float  # perf_counter of the tick before the gap
    ms: float
    blame: str = ""
    #: Of the stall, how long the GUI thread sat in the scheduler's run queue: runnable, waiting for a core
    #: (Linux ``/proc/self/task/TID/schedstat``); the rest it waited for a lock or ran code.
    cpu_wait_ms: float = 0.0


@dataclass
class PhaseResult:
    name: str
    seconds: float
    ticks: int
    stalls: list[Stall] = field(default_factory=list)

    @property
    def longest_ms(self) -> float:
        return max((s.ms for s in self.stalls), default=0.0)

    def long_share(self, threshold_ms: float = LONG_STALL_MS) -> float:
        """The share of the phase's wall time spent in stalls longer than ``threshold_ms``."""
        spent = sum(s.ms for s in self.stalls if s.ms > threshold_ms) / 1000.0
        return spent / self.seconds if self.seconds > 0 else 0.0

    def culprits(self, threshold_ms: float = LONG_STALL_MS, top: int = 6) -> list[tuple[str, float, int]]:
        """(place, total stall ms, count) of the long stalls, largest first."""
        total: Counter = Counter()
        count: Counter = Counter()
        for s in self.stalls:
            if s.ms > threshold_ms:
                total[s.blame or "?"] += s.ms
                count[s.blame or "?"] += 1
        return [(place, ms, count[place]) for place, ms in total.most_common(top)]

    def cpu_wait_share(self, threshold_ms: float = LONG_STALL_MS) -> float:
        """Of the time in stalls over ``threshold_ms``, the share the GUI thread waited for a core (a busy
        machine, not the window's code)."""
        long = [s for s in self.stalls if s.ms > threshold_ms]
        total = sum(s.ms for s in long)
        return sum(min(s.cpu_wait_ms, s.ms) for s in long) / total if total else 0.0

    def between(self, name: str, begin: float, end: float) -> PhaseResult:
        """The stalls that began between two ``perf_counter`` times (e.g. while the weights loaded)."""
        inside = [s for s in self.stalls if begin <= s.start < end]
        return PhaseResult(name, end - begin, 0, inside)

    def to_dict(self) -> dict:
        return {"name": self.name, "seconds": self.seconds, "ticks": self.ticks, "longest_ms": self.longest_ms,
                "long_share": self.long_share(), "culprits": self.culprits(),
                "cpu_wait_share": self.cpu_wait_share(),
                "stalls_over_50": sum(1 for s in self.stalls if s.ms > LONG_STALL_MS)}


class Watchdog:
    def __init__(self, code_root: Path, late_ms: float, sample_ms: float = 5.0) -> None:
        self.code_root = str(code_root.resolve())
        self.late_s, self.sample_s = late_ms / 1000.0, sample_ms / 1000.0
        self.gui_id = threading.get_ident()
        self.beat = time.perf_counter()  # written by the heartbeat on the GUI thread
        self.samples: dict[float, Counter] = {}
        self._stop = threading.Event()
        self._dump = tempfile.TemporaryFile()
        self._thread = threading.Thread(target=self._run, name="latency watchdog", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)

    def _run(self) -> None:
        while not self._stop.wait(self.sample_s):
            beat = self.beat
            if time.perf_counter() - beat > self.late_s:
                self.samples.setdefault(beat, Counter())[self._place()] += 1

    def _own(self, filename: str) -> str | None:
        if filename.startswith(self.code_root) and "/bench/" not in filename:
            return filename[len(self.code_root) + 1:]
        return None

    def _stacks(self) -> dict[int, list[tuple[str, int, str]]]:
        """Every thread's (file, line, function) frames, innermost first, read through ``faulthandler``: it
        writes them out in C and holds no frame object. (``sys._current_frames`` does: a frame that ends while
        this thread holds it is freed here, with its locals — a Qt object freed off its thread crashed the
        window at its next garbage collection.)"""
        self._dump.seek(0)
        self._dump.truncate()
        faulthandler.dump_traceback(self._dump, all_threads=True)
        self._dump.seek(0)
        stacks: dict[int, list[tuple[str, int, str]]] = {}
        frames: list[tuple[str, int, str]] = []
        for line in self._dump.read().decode("utf-8", "replace").splitlines():
            thread = THREAD_LINE.match(line)
            frame = FRAME_LINE.match(line)
            if thread:
                frames = stacks.setdefault(int(thread.group(1), 16), [])
            elif frame:
                frames.append((frame.group(1), int(frame.group(2)), frame.group(3)))
        return stacks

    def _describe(self, frames: list[tuple[str, int, str]]) -> tuple[str, bool]:
        """(the innermost studio frame, or the innermost frame; whether the thread is only in the event loop)."""
        if not frames:
            return "?", True
        innermost = f"{Path(frames[0][0]).name}:{frames[0][2]}"
        if Path(frames[0][0]).name in WAITING_IN:
            return innermost, True  # blocked on a lock, a queue or a timer: not running
        for filename, line, function in frames:
            own = self._own(filename)
            if own is not None:
                place = f"{own}:{function}:{line}"
                return place + (f" [{innermost}]" if not place.endswith(innermost) else ""), False
        return innermost, True

    def _place(self) -> str:
        stacks = self._stacks()
        gui = stacks.get(self.gui_id)
        if gui is None:
            return "?"
        place, idle = self._describe(gui)
        if not idle:
            return "GUI " + place
        busy = []
        for ident, frames in stacks.items():
            if ident in (self.gui_id, threading.get_ident()):
                continue
            where, worker_idle = self._describe(frames)
            if not worker_idle:
                busy.append(where)
        return "GUI waits (lock/CPU); workers at: " + ("; ".join(sorted(busy)[:2]) or "none of the studio's code")


class Heartbeat(QObject):
    def __init__(self, interval_ms: int = 10, watchdog: Watchdog | None = None) -> None:
        super().__init__()
        self.interval_ms = interval_ms
        self.watchdog = watchdog
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self._ticks: list[float] = []
        self._waits: list[float] = []
        self._schedstat = Path(f"/proc/self/task/{threading.get_native_id()}/schedstat")  # (made on the GUI thread)

    def _run_queue_ms(self) -> float:
        """How long the GUI thread has waited in the run queue so far (0 where the kernel does not say)."""
        try:
            return int(self._schedstat.read_text().split()[1]) / 1e6
        except (OSError, IndexError, ValueError):
            return 0.0

    def _tick(self) -> None:
        now = time.perf_counter()
        self._ticks.append(now)
        self._waits.append(self._run_queue_ms())
        if self.watchdog is not None:
            self.watchdog.beat = now

    def measure(self, name: str, start, done, timeout_s: float) -> PhaseResult:
        """Run ``start()``, then the event loop until ``done()`` holds; the heartbeat's stalls meanwhile."""
        self._ticks = [time.perf_counter()]
        self._waits = [self._run_queue_ms()]
        if self.watchdog is not None:
            self.watchdog.beat = self._ticks[0]
            self.watchdog.samples.clear()
        self.timer.start()
        begun = self._ticks[0]
        start()
        run_until(done, timeout_s)
        self.timer.stop()
        ended = time.perf_counter()
        self._ticks.append(ended)
        self._waits.append(self._run_queue_ms())
        stalls = []
        for i, (before, after) in enumerate(zip(self._ticks, self._ticks[1:], strict=False)):
            stall_ms = (after - before) * 1000.0 - self.interval_ms
            if stall_ms > 0:
                stalls.append(Stall(before, stall_ms, self._blame(before), self._waits[i + 1] - self._waits[i]))
        return PhaseResult(name, ended - begun, len(self._ticks) - 2, stalls)

    def _blame(self, beat: float) -> str:
        if self.watchdog is None:
            return ""
        samples = self.watchdog.samples.get(beat)
        return samples.most_common(1)[0][0] if samples else ""


def run_until(done, timeout_s: float) -> None:
    """The GUI thread's event loop (as in the application) until ``done()`` holds, checked every 20 ms."""
    if done():
        return
    loop = QEventLoop()
    deadline = time.monotonic() + timeout_s
    failed: list[str] = []

    def check() -> None:
        if done():
            loop.quit()
        elif time.monotonic() > deadline:
            failed.append("timeout")
            loop.quit()

    checker = QTimer()
    checker.setInterval(20)
    checker.timeout.connect(check)
    checker.start()
    loop.exec()
    checker.stop()
    if failed:
        raise TimeoutError(f"not done after {timeout_s:.0f} s")
