"""Driving the studio window in the window benchmarks: queue a render, print a measured phase."""

from __future__ import annotations

from _heartbeat import PhaseResult


def queue_render(window) -> str:
    """Press Render; the queued job's output path (the render starts by itself)."""
    ids = window.queue_render()
    if not ids:
        raise RuntimeError(f"the render was not queued: {window.message_bar.text()}")
    return window.queue_panel.queue.get(ids[0]).output


def say(result: PhaseResult) -> None:
    """One line for the phase, then the places its long stalls were spent in."""
    print(f"  {result.name}: {result.seconds:.1f} s, longest stall {result.longest_ms:.0f} ms, "
          f"{100 * result.long_share():.1f} % of the time in stalls > 50 ms", flush=True)
    for place, ms, count in result.culprits():
        print(f"      {ms:7.0f} ms in {count:3d} stall(s): {place}", flush=True)
