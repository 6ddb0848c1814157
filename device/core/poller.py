"""Polling on drift-free schedules, one thread per interval, with hung reads isolated.

Theory of operation
-------------------
Polled entities that share an interval share a `PollGroup` thread: it sleeps
until the next deadline (`device.core.schedule.next_slot`: start + k·interval, so
the period stays exact over hours), reads every member in turn and hands each
value to the daemon (`on_value`: into the outbox). At the end of the tick — and every
`SEND_EVERY` (2 ms) within a long one — it calls `on_tick`, which sends what the tick
queued on this same thread (`MqttClient.pump`). Fifty entities at 10 Hz cost one
wake-up per 100 ms, not fifty, and their readings go out as one batch; in a tick of
hundreds of entities no reading waits more than ~2 ms for the rest.

A read that hangs must not hold up the others. The group marks when each
read starts; the daemon's supervisor calls `split_stuck(now)`, which moves
every other member to a *new* group thread on the same schedule and leaves
the stuck entity alone on the old thread. When (if) its read returns, that
thread simply carries on polling it by itself. Threads are daemon threads, so
shutdown never waits for a stuck read.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from device.components.base import PolledComponent
from device.core.schedule import next_slot
from device.core.values import Json
from device.errors import NoSample

log = logging.getLogger("pi2mqtt.poller")

OnValue = Callable[[PolledComponent, Json, float, "str | None"], None]
SEND_EVERY = 0.002  # seconds: a tick longer than this sends what it has read so far


class PollGroup:
    """Reads its members every `interval` seconds on one thread."""

    def __init__(self, members: list[PolledComponent], interval: float, timeouts: dict[str, float],
                 on_value: OnValue, stop: threading.Event, start: float | None = None,
                 index: int = 0, on_tick: Callable[[], None] | None = None) -> None:
        self.members = list(members)
        self.interval = interval
        self.timeouts = timeouts
        self.on_value = on_value
        self.on_tick = on_tick
        self._stop = stop
        self._lock = threading.Lock()
        self.start_t = time.monotonic() if start is None else start
        self._index = index
        # (member, monotonic start) of the read under way, or None; replaced whole, so
        # the supervisor reads a consistent pair without a lock.
        self._busy: tuple[PolledComponent, float] | None = None
        self.reads = 0
        self.skipped = 0
        names = ",".join(m.name for m in self.members[:3])
        self._thread = threading.Thread(target=self._run, name=f"poll-{interval:g}s-{names}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        monotonic, wall = time.monotonic, time.time
        index = self._index
        due = self.start_t + index * self.interval
        while True:
            delay = due - monotonic()
            if delay > 0:
                if self._stop.wait(delay):
                    return
            elif self._stop.is_set():
                return
            members = self.members
            sent_at = monotonic()
            for comp in members:
                if self.members is not members and comp not in self.members:
                    continue  # moved to another group while we were stuck
                now = monotonic()
                if now - sent_at >= SEND_EVERY:  # a long tick: send what it has read so far
                    self._send()
                    sent_at = now
                self._busy = (comp, now)
                ts = wall()
                sampled = True
                try:
                    value, error = comp.read(), None
                except NoSample:  # nothing measured yet: publish nothing, not a made-up value
                    value, error, sampled = None, None, False
                except Exception as e:  # a failing device degrades its own entity only
                    value, error = None, f"{type(e).__name__}: {e}"
                self._busy = None
                self.reads += 1
                if self._stop.is_set():
                    return
                if not sampled:
                    continue
                try:
                    self.on_value(comp, value, ts, error)
                except Exception:
                    log.exception("publishing %s failed", comp.name)
            self._send()
            slot = next_slot(self.start_t, self.interval, monotonic(), index)
            self.skipped += slot.skipped
            index, due = slot.index, slot.due

    def _send(self) -> None:
        if self.on_tick is not None:
            try:
                self.on_tick()
            except Exception:
                log.exception("sending the tick's readings failed")

    def stuck(self, now: float) -> tuple[PolledComponent, float] | None:
        """The member whose read has run past its timeout, with how long, or None."""
        busy = self._busy
        if busy is None:
            return None
        comp, since = busy
        elapsed = now - since
        return (comp, elapsed) if elapsed > self.timeouts.get(comp.name, 2.0) else None

    def split_stuck(self, now: float) -> PollGroup | None:
        """Leave the stuck member alone here; return a new, started group for the others."""
        with self._lock:
            busy = self._busy
            if busy is None or len(self.members) <= 1:
                return None
            comp = busy[0]
            others = [m for m in self.members if m is not comp]
            self.members = [comp]
        index = int((now - self.start_t) // self.interval) + 1
        group = PollGroup(others, self.interval, self.timeouts, self.on_value, self._stop,
                          start=self.start_t, index=index, on_tick=self.on_tick)
        group.start()
        return group


def build_groups(comps: list[tuple[PolledComponent, float, float]], on_value: OnValue,
                 stop: threading.Event, on_tick: Callable[[], None] | None = None) -> list[PollGroup]:
    """One group per distinct interval, from (component, interval, timeout) triples."""
    by_interval: dict[float, list[PolledComponent]] = {}
    timeouts: dict[str, float] = {}
    for comp, interval, timeout in comps:
        by_interval.setdefault(interval, []).append(comp)
        timeouts[comp.name] = timeout
    return [PollGroup(members, interval, timeouts, on_value, stop, on_tick=on_tick)
            for interval, members in by_interval.items()]
