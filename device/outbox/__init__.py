"""The outbox: every message the daemon publishes passes through it, in order.

Producers `put()` messages; the MQTT sender `take()`s the oldest pending ones
(they become *in flight*), publishes them, and `ack()`s each on PUBACK.
`requeue()` puts every in-flight message back to pending, ahead of anything
newer (a restart does the same: in flight is RAM-only). Order is the order of
`put()` (ids ascend, never reused).
`take_after(last_id_at_connect, n)` lets the sender serve readings put since the
connection came up ahead of an older backlog (docs/reliability.md, "Backfill").

`MemoryOutbox` keeps the queue in RAM with a row cap and drop-oldest;
`SqliteOutbox` (device/outbox/sqlite.py, importable from here too) implements
the same interface durably; `open_outbox()` picks one.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger("pi2mqtt.outbox")


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
    def take_after(self, after: int, limit: int) -> list[Queued]: ...
    def last_id(self) -> int: ...
    def ack(self, ids: Iterable[int]) -> None: ...
    def requeue(self) -> None: ...
    def wait(self, timeout: float) -> bool: ...
    def pending(self) -> int: ...
    def stats(self) -> dict[str, int]: ...
    def close(self) -> None: ...


def _tail_ids(pending: OrderedDict[int, Any], after: int, limit: int) -> list[int]:
    """The oldest ids above `after` in pending (ascending ids), scanning from the tail."""
    tail: list[int] = []
    for mid in reversed(pending):
        if mid <= after:
            break
        tail.append(mid)
    tail.reverse()
    return tail[:limit]


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

    def take_after(self, after: int, limit: int) -> list[Queued]:
        """The oldest pending messages with an id above `after` (at most limit), now in flight."""
        with self._lock:
            ids = _tail_ids(self._pending, after, limit)
            out = []
            for mid in ids:
                msg = self._pending.pop(mid)
                self._inflight[mid] = msg
                out.append(Queued(mid, msg))
            if not self._pending:
                self._event.clear()
        return out

    def last_id(self) -> int:
        """The newest id handed out so far (0 before the first put)."""
        with self._lock:
            return self._next_id - 1

    def ack(self, ids: Iterable[int]) -> None:
        with self._lock:
            for i in ids:
                if self._inflight.pop(i, None) is not None:
                    self.sent += 1

    def requeue(self) -> None:
        with self._lock:
            if not self._inflight:
                return
            merged = {**self._inflight, **self._pending}
            self._pending = OrderedDict(sorted(merged.items()))
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


def open_outbox(state_dir: Path | None, **caps: Any) -> Outbox:
    """The durable outbox at state_dir/outbox.db, or a MemoryOutbox when state_dir is None."""
    if state_dir is None:
        return MemoryOutbox(max_rows=int(caps.get("max_rows", 100_000)))
    from device.outbox.sqlite import SqliteOutbox

    state_dir = Path(state_dir)
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        log.warning("cannot create state directory %s: %s", state_dir, e)
    return SqliteOutbox(state_dir / "outbox.db", **caps)


def __getattr__(name: str) -> Any:
    # `from device.outbox import SqliteOutbox` keeps working; loaded on first use so that
    # the two modules can import each other's names.
    if name in ("SqliteOutbox", "DURABILITIES"):
        from device.outbox import sqlite as outbox_sqlite

        return getattr(outbox_sqlite, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
