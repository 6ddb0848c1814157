"""One thread per polled entity, on a drift-free schedule, supervised for hung reads.

Each `Poller` sleeps until its next deadline (`device.schedule.next_slot`),
reads, and hands the value to the daemon. The thread marks when a read starts,
so the daemon's supervisor can tell a read that hangs: that entity is marked
unavailable, the others go on, and shutdown never waits for it (daemon threads).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from device.components.base import PolledComponent
from device.schedule import next_slot

log = logging.getLogger("pi2mqtt.poller")

OnValue = Callable[[PolledComponent, Any, float, "str | None"], None]


class Poller:
    """Runs `comp.read()` every `interval` seconds on its own thread."""

    def __init__(self, comp: PolledComponent, interval: float, timeout: float, on_value: OnValue,
                 stop: threading.Event) -> None:
        self.comp = comp
        self.interval = interval
        self.timeout = timeout
        self.on_value = on_value
        self._stop = stop
        self.busy_since: float | None = None
        self.timed_out = False
        self.reads = 0
        self.skipped = 0
        self._thread = threading.Thread(target=self._run, name=f"poll-{comp.name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        monotonic, wall = time.monotonic, time.time
        start = monotonic()
        index = 0
        due = start
        while True:
            delay = due - monotonic()
            if delay > 0:
                if self._stop.wait(delay):
                    return
            elif self._stop.is_set():
                return
            ts = wall()
            self.busy_since = monotonic()
            try:
                value = self.comp.read()
                error = None
            except Exception as e:  # a failing device degrades its own entity only
                value, error = None, f"{type(e).__name__}: {e}"
            self.busy_since = None
            self.reads += 1
            if self._stop.is_set():
                return
            try:
                self.on_value(self.comp, value, ts, error)
            except Exception:
                log.exception("publishing %s failed", self.comp.name)
            slot = next_slot(start, self.interval, monotonic(), index)
            self.skipped += slot.skipped
            index, due = slot.index, slot.due

    def stuck_for(self, now: float) -> float:
        """Seconds the current read has been running (0 when idle)."""
        since = self.busy_since
        return 0.0 if since is None else now - since
