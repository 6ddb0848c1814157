"""Drift-free schedules and change-only publishing, as pure functions of time.

A polled entity with interval T started at t0 is due at t0 + k·T for k = 0, 1, …
— deadlines are computed from t0, never from "now + T", so the period stays
exact over hours. When a read overruns one or more slots, the missed slots are
skipped (and counted), never bunched up.

`ChangeFilter` decides whether a new value is published: always without a
deadband; with one, only when the value moved by at least the deadband since
the last published value, or the heartbeat (maximum interval) has elapsed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Slot:
    """The next deadline of a schedule and how many slots were skipped to reach it."""

    due: float
    index: int
    skipped: int


def next_slot(start: float, interval: float, now: float, last_index: int) -> Slot:
    """The first slot after `last_index` whose deadline is not already past `now`."""
    index = last_index + 1
    due = start + index * interval
    skipped = 0
    if due < now:
        behind = math.floor((now - start) / interval) + 1
        skipped = behind - index
        index = behind
        due = start + index * interval
    return Slot(due, index, skipped)


class ChangeFilter:
    """Deadband (change-only) publishing with a heartbeat."""

    __slots__ = ("_last_t", "_last_value", "deadband", "heartbeat")

    def __init__(self, deadband: float | None, heartbeat: float | None) -> None:
        self.deadband = deadband
        self.heartbeat = heartbeat
        self._last_value: object = None
        self._last_t: float | None = None

    def should_publish(self, value: object, now: float) -> bool:
        """True when `value` at time `now` must be published (and remembers it)."""
        publish = (
            self.deadband is None
            or self._last_t is None
            or value is None
            or self._last_value is None
            or not isinstance(value, int | float)
            or not isinstance(self._last_value, int | float)
            or abs(value - self._last_value) >= self.deadband
            or (self.heartbeat is not None and now - self._last_t >= self.heartbeat)
        )
        if publish:
            self._last_value = value
            self._last_t = now
        return publish
