"""What the world's models are given: a clock with deferred calls, and a line to drive.

Every model in `hwsim.world` reads time from an injected `EventClock` (``now()``
and ``call_at(when, fn)``) and acts on the outside only through a `Line`
(``set_external(level, ts)``). `hwsim.sim.Scheduler` is the threaded clock of a
running simulation; `ManualClock` is the one tests advance by hand.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Callable
from typing import Protocol


class Cancellable(Protocol):
    def cancel(self) -> None: ...


class EventClock(Protocol):
    """Time and deferred calls; `hwsim.sim.Scheduler` and `ManualClock` implement it."""

    def now(self) -> float: ...

    def call_at(self, when: float, fn: Callable[[], None]) -> Cancellable: ...


class Line(Protocol):
    """What a model drives: a level, or None for 'let go' (the pull decides)."""

    def set_external(self, level: bool | None, ts: float | None = None) -> None: ...


class ScheduledCall:
    """A call a clock will make at `when`, unless cancelled."""

    __slots__ = ("cancelled", "fn", "when")

    def __init__(self, when: float, fn: Callable[[], None]) -> None:
        self.when = when
        self.fn = fn
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualClock:
    """A clock for tests: time moves only when `advance()` is called."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._heap: list[tuple[float, int, ScheduledCall]] = []
        self._seq = 0
        self._lock = threading.Lock()

    def now(self) -> float:
        return self._now

    def call_at(self, when: float, fn: Callable[[], None]) -> ScheduledCall:
        call = ScheduledCall(when, fn)
        with self._lock:
            self._seq += 1
            heapq.heappush(self._heap, (when, self._seq, call))
        return call

    def advance(self, seconds: float) -> None:
        """Move time forward, running every call that falls due, in order."""
        end = self._now + seconds
        while True:
            with self._lock:
                if not self._heap or self._heap[0][0] > end:
                    break
                when, _, call = heapq.heappop(self._heap)
            self._now = max(self._now, when)
            if not call.cancelled:
                call.fn()
        self._now = end
