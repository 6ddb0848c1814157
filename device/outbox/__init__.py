"""The outbox: every message the daemon publishes passes through it, in order.

Producers `put()` messages (`put_many()`: a poll tick's readings in one lock round);
the MQTT sender `take()`s the oldest pending ones (they become *in flight*), publishes
them, and `ack()`s them on PUBACK.
`requeue()` puts every in-flight message back to pending, ahead of anything
newer (a restart does the same: in flight is RAM-only). Order is the order of
`put()` (ids ascend, never reused).
`take_after(last_id_at_connect, n)` lets the sender serve readings put since the
connection came up ahead of an older backlog (docs/reliability.md, "Backfill").

`MemoryOutbox` (here) keeps the queue in RAM with a row cap and drop-oldest;
`SqliteOutbox` (`device.outbox.sqlite`) implements the same interface durably;
`open_outbox()` picks one. The shared types live in `device.outbox.types`.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path

from device.outbox.types import Outbox, OutMsg, Queued, SeqMarks, ids_after

__all__ = ["MemoryOutbox", "OutMsg", "Outbox", "Queued", "SeqMarks", "open_outbox"]

log = logging.getLogger("pi2mqtt.outbox")


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
        self.put_many((msg,))

    def put_many(self, msgs: Sequence[OutMsg]) -> None:
        """Queue msgs in order, in one lock round."""
        with self._lock:
            mid = self._next_id
            for msg in msgs:
                self._pending[mid] = msg
                mid += 1
            self._next_id = mid
            while len(self._pending) + len(self._inflight) > self.max_rows and self._pending:
                self._pending.popitem(last=False)
                self.dropped += 1
            if msgs and not self._event.is_set():  # (set() takes a lock and notifies: not once per reading)
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
            out = []
            for mid in ids_after(self._pending, after, limit):
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

    def set_online(self, online: bool) -> None:
        """Nothing to do: RAM is all there is."""

    def seq_marks(self) -> SeqMarks | None:
        """None: a memory outbox remembers nothing across runs."""
        return None

    def close(self) -> None:
        self._event.set()


def open_outbox(
    state_dir: Path | None,
    *,
    max_rows: int = 100_000,
    max_bytes: int = 50_000_000,
    max_age_s: float = 7 * 86400,
    durability: str = "batch",
    spill_after: float = 1.0,
    disk_retry: float = 30.0,
) -> Outbox:
    """The durable outbox at state_dir/outbox.db, or a MemoryOutbox when state_dir is None."""
    if state_dir is None:
        return MemoryOutbox(max_rows=max_rows)
    from device.outbox.sqlite import SqliteOutbox

    state_dir = Path(state_dir)
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        log.warning("cannot create state directory %s: %s", state_dir, e)
    return SqliteOutbox(state_dir / "outbox.db", max_rows=max_rows, max_bytes=max_bytes,
                        max_age_s=max_age_s, durability=durability, spill_after=spill_after,
                        disk_retry=disk_retry)
