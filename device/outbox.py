"""The outbox: every message the daemon publishes passes through it, in order.

Producers `put()` messages; the MQTT sender `take()`s the oldest pending ones
(they become *in flight*), publishes them, and `ack()`s each on PUBACK. After a
disconnect the sender calls `requeue()` so every in-flight message goes back to
pending, ahead of anything newer. Order is the order of `put()`.

`MemoryOutbox` keeps the queue in RAM with a row cap and drop-oldest; the
durable SQLite outbox implements the same interface.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class OutMsg:
    """One message to publish. `entity` is set for readings (backfill routing)."""

    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = False
    entity: str | None = None
    ts: float = 0.0


@dataclass(frozen=True, slots=True)
class Queued:
    """A message taken from the outbox, with the id to ack it by."""

    id: int
    msg: OutMsg


class Outbox(Protocol):
    """What the MQTT sender needs from an outbox."""

    def put(self, msg: OutMsg) -> None: ...
    def take(self, limit: int) -> list[Queued]: ...
    def ack(self, ids: Iterable[int]) -> None: ...
    def requeue(self) -> None: ...
    def wait(self, timeout: float) -> bool: ...
    def pending(self) -> int: ...
    def stats(self) -> dict[str, int]: ...
    def close(self) -> None: ...


class MemoryOutbox:
    """An in-RAM outbox: ordered, capped by rows, drop-oldest (counted)."""

    def __init__(self, max_rows: int = 100_000) -> None:
        self.max_rows = max_rows
        self._pending: OrderedDict[int, OutMsg] = OrderedDict()
        self._inflight: OrderedDict[int, OutMsg] = OrderedDict()
        self._next_id = 1
        self._lock = threading.Lock()
        self._event = threading.Event()
        self.dropped = 0
        self.sent = 0

    def put(self, msg: OutMsg) -> None:
        with self._lock:
            self._pending[self._next_id] = msg
            self._next_id += 1
            while len(self._pending) + len(self._inflight) > self.max_rows and self._pending:
                self._pending.popitem(last=False)
                self.dropped += 1
        self._event.set()

    def take(self, limit: int) -> list[Queued]:
        out: list[Queued] = []
        with self._lock:
            while self._pending and len(out) < limit:
                mid, msg = self._pending.popitem(last=False)
                self._inflight[mid] = msg
                out.append(Queued(mid, msg))
            if not self._pending:
                self._event.clear()
        return out

    def ack(self, ids: Iterable[int]) -> None:
        with self._lock:
            for i in ids:
                if self._inflight.pop(i, None) is not None:
                    self.sent += 1

    def requeue(self) -> None:
        with self._lock:
            if not self._inflight:
                return
            merged = OrderedDict(self._inflight)
            merged.update(self._pending)
            self._pending = merged
            self._inflight = OrderedDict()
        self._event.set()

    def wait(self, timeout: float) -> bool:
        return self._event.wait(timeout)

    def pending(self) -> int:
        with self._lock:
            return len(self._pending) + len(self._inflight)

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {
                "pending": len(self._pending),
                "inflight": len(self._inflight),
                "dropped": self.dropped,
                "sent": self.sent,
            }

    def close(self) -> None:
        self._event.set()
