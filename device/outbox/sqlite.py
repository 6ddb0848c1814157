"""The durable outbox: the queue in RAM, spilled into SQLite (WAL) in the state directory.

`SqliteOutbox` implements `device.outbox.types.Outbox`; the theory of operation follows.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from itertools import islice
from pathlib import Path
from typing import NamedTuple

from device.outbox import store
from device.outbox.types import OutMsg, Queued, SeqMarks, ids_after

# Theory of operation (docs/reliability.md has the whole story). RAM holds the whole queue
# and is the truth while the process lives; one SQLite table (WAL, synchronous=FULL) is
# what survives a crash.
# * Spill, don't sync: while the connection is up (`set_online(True)`) a row is written
#   only if still unacknowledged `spill_after` s after `put()`; while it is down, at most
#   `batch_interval` s after `put()` (one transaction, one fsync per batch) or at once
#   when `batch_rows` rows wait. durability="reading": `put()` returns once committed.
# * `take()` serves from RAM; `ack()` of a written row becomes a DELETE in the next
#   transaction (a crash before it re-sends the row: at least once). In flight is RAM only.
# * Seq marks: every transaction records each entity's highest seq put (`seqmark`);
#   `exact` = 1 is written when the connection goes down and at close, and the first
#   `take()` after that writes exact = 0 before handing out a row. `seq_marks()` tells
#   the next run whether the marks cover all the broker may have (docs/topics.md, "seq").
# * Caps (rows, bytes, age) drop the oldest pending rows, counted by cause.
# * Every sqlite3/OS error makes it a RAM queue ("degraded", one warning). The writer then
#   retries every `disk_retry` s (doubling up to 8x) and at once when the connection goes
#   down; a retry that works writes the RAM queue back and logs "durable again". A
#   database file that could not be opened is never retried (it may hold older rows).

log = logging.getLogger("pi2mqtt.outbox")

DURABILITIES = ("batch", "reading")
RETRY_GROWTH_MAX = 8


class _Row(NamedTuple):
    """One queued message in RAM: the message, when it was put (wall, monotonic), its size."""

    msg: OutMsg
    queued_at: float
    t: float
    size: int


class SqliteOutbox:
    """A durable outbox: SQLite (WAL) under a RAM queue; see the theory of operation above."""

    def __init__(
        self,
        path: Path | str,
        *,
        max_rows: int = 100_000,
        max_bytes: int = 50_000_000,
        max_age_s: float = 7 * 86400,
        durability: str = "batch",
        batch_interval: float = 0.05,
        batch_rows: int = 1000,
        spill_after: float = 1.0,
        disk_retry: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if durability not in DURABILITIES:
            raise ValueError(f"durability must be one of {DURABILITIES}, not {durability!r}")
        self.path = Path(path)
        self.max_rows, self.max_bytes, self.max_age_s = max_rows, max_bytes, max_age_s
        self.durability = durability
        self.batch_interval, self.batch_rows = batch_interval, batch_rows
        self.spill_after, self.disk_retry = max(spill_after, batch_interval), disk_retry
        self._clock = clock
        self._lock = threading.Lock()  # RAM state
        self._db_lock = threading.Lock()  # the connection; taken before _lock, never inside
        self._event = threading.Event()  # something is pending
        self._wake = threading.Event()  # the writer should look again
        self._pending: OrderedDict[int, _Row] = OrderedDict()
        self._inflight: dict[int, _Row] = {}
        self._unwritten: OrderedDict[int, _Row] = OrderedDict()  # unacked, not on disk
        self._stored: set[int] = set()  # on disk
        self._dels: list[int] = []
        self._work_since: float | None = None  # deletes / marks waiting since (monotonic)
        self._sleep_until = 0.0  # when the writer wakes by itself (monotonic; inf: never)
        self._bytes, self._next_id, self._high_written = 0, 1, 0
        self._marks: dict[str, int] = {}
        self._written_marks: dict[str, int] = {}
        self._exact_flag = False  # exact = 1 is (or is being) on disk
        self._want_exact = self._online = self._closed = self._opened = False
        self._loaded = SeqMarks({}, True)
        self.dropped_rows = self.dropped_bytes = self.dropped_age = 0
        self.sent = self.spilled = self.commits = self.degraded = self.recoveries = 0
        self._degraded_at: float | None = None
        self._last_degraded_s = 0.0
        self._retry_delay = disk_retry
        self._retry_at = 0.0
        self._conn: sqlite3.Connection | None = None
        try:
            self._open()
        except (sqlite3.Error, OSError) as e:
            self._degrade(f"cannot open {self.path}: {e}")
        self._writer = threading.Thread(target=self._write_loop, name="pi2mqtt-outbox", daemon=True)
        self._writer.start()

    # ---------------------------------------------------------------- opening
    def _open(self) -> None:
        try:
            conn = store.connect(self.path)
            loaded = store.load(conn)
        except sqlite3.DatabaseError as e:
            if isinstance(e, sqlite3.OperationalError) or not self.path.is_file():
                raise
            aside = self.path.with_name(f"{self.path.name}.corrupt-{int(self._clock())}")
            log.warning("outbox %s is not a usable database (%s); moved to %s", self.path, e, aside)
            self.path.rename(aside)
            for suffix in ("-wal", "-shm"):
                Path(str(self.path) + suffix).unlink(missing_ok=True)
            conn = store.connect(self.path)
            loaded = store.load(conn)
        self._conn = conn
        self._opened = True
        for rid, msg, queued_at in loaded.rows:
            row = _Row(msg, queued_at, time.monotonic(), len(msg.topic) + len(msg.payload))
            self._pending[rid] = row
            self._stored.add(rid)
            self._bytes += row.size
        self._next_id = loaded.last_id + 1
        self._high_written = loaded.last_id
        self._marks = dict(loaded.marks)
        self._written_marks = dict(loaded.marks)
        self._exact_flag = True  # until the first take() writes exact = 0
        self._loaded = SeqMarks(dict(loaded.marks), loaded.exact)
        self._enforce_caps_locked()
        self._expire_locked(self._clock())
        if self._pending:
            self._event.set()
            log.info("outbox %s: %d messages from a previous run", self.path, len(self._pending))

    # ---------------------------------------------------------------- the queue
    def put(self, msg: OutMsg) -> None:
        """Queue msg (cheap); with durability="reading" return only once it is committed."""
        self.put_many((msg,))

    def put_many(self, msgs: Sequence[OutMsg]) -> None:
        """put() for several messages in order, in one lock round (a poll tick's readings)."""
        if not msgs:
            return
        queued_at, t = self._clock(), time.monotonic()
        with self._lock:
            rid, pending, marks, size = self._next_id, self._pending, self._marks, 0
            unwritten = self._unwritten if self._conn is not None else None
            first = not unwritten  # the writer may sleep past this one's deadline
            for msg in msgs:
                pending[rid] = row = _Row(msg, queued_at, t, len(msg.topic) + len(msg.payload))
                if unwritten is not None:
                    unwritten[rid] = row
                size += row.size
                if msg.seq is not None and msg.entity is not None and msg.seq > marks.get(msg.entity, 0):
                    marks[msg.entity] = msg.seq
                rid += 1
            self._next_id, self._bytes = rid, self._bytes + size
            if unwritten is not None:
                due = t + (self.spill_after if self._online else self.batch_interval)
                if (first and due < self._sleep_until) or len(unwritten) >= self.batch_rows:
                    self._wake.set()  # (not once per reading: the writer wakes by itself)
            if len(pending) + len(self._inflight) > self.max_rows or self._bytes > self.max_bytes:
                self._enforce_caps_locked()
            if not self._event.is_set():  # (set() takes a lock and notifies: not once per reading)
                self._event.set()
        if self.durability == "reading" and self._conn is not None:
            self._write(everything=True)

    def take(self, limit: int) -> list[Queued]:
        """Oldest pending messages (at most limit), now in flight."""
        return self.take_after(None, limit)

    def take_after(self, after: int | None, limit: int) -> list[Queued]:
        """The oldest pending messages with an id above `after` (at most limit), now in flight."""
        while True:
            if self._exact_flag:
                self._clear_exact()
            with self._lock:
                if self._exact_flag:  # the writer set it meanwhile: clear it first
                    continue
                if self._closed:
                    return []
                if after is None and self._pending:
                    self._expire_locked(self._clock())
                rids = list(islice(self._pending, limit)) if after is None else ids_after(self._pending, after, limit)
                out: list[Queued] = []
                for rid in rids:
                    row = self._inflight[rid] = self._pending.pop(rid)
                    out.append(Queued(rid, row.msg))
                if not self._pending:
                    self._event.clear()
                return out

    def last_id(self) -> int:
        """The newest id handed out so far (ids never go back, even across restarts)."""
        with self._lock:
            return self._next_id - 1

    def ack(self, ids: Iterable[int]) -> None:
        """The broker has these: forget them (and delete their rows if they were written)."""
        with self._lock:
            for rid in ids:
                row = self._inflight.pop(rid, None)
                if row is None:
                    continue
                self.sent += 1
                self._bytes -= row.size
                if self._unwritten.pop(rid, None) is None and rid in self._stored:
                    self._stored.discard(rid)
                    self._queue_delete_locked(rid)

    def requeue(self) -> None:
        """Every in-flight message goes back to pending, ahead of newer ones, in order."""
        with self._lock:
            if not self._inflight:
                return
            if self._pending and next(iter(self._pending)) < max(self._inflight):
                # take_after() can leave older ids pending: merge back in id order.
                merged = {**self._inflight, **self._pending}
                self._pending = OrderedDict(sorted(merged.items()))
            else:
                for rid in sorted(self._inflight, reverse=True):
                    self._pending[rid] = self._inflight[rid]
                    self._pending.move_to_end(rid, last=False)
            self._inflight.clear()
        self._event.set()

    def wait(self, timeout: float) -> bool:
        """Block until something is pending (True) or timeout passes (False)."""
        return self._event.wait(timeout)

    def pending(self) -> int:
        with self._lock:
            return len(self._pending) + len(self._inflight)

    def set_online(self, online: bool) -> None:
        """The broker connection is up (spill after `spill_after`) or down (write at once)."""
        with self._lock:
            if online == self._online:
                return
            self._online = online
            self._want_exact = not online
            if not online:
                self._work_since = self._work_since or time.monotonic()
                if self._conn is None and self._degraded_at is not None:
                    self._retry_at = 0.0  # the disk matters now: try it at once
        self._wake.set()

    def seq_marks(self) -> SeqMarks | None:
        """The seq marks found at open, or None when the database could not be opened."""
        return self._loaded if self._opened else None

    def stats(self) -> dict[str, int]:
        with self._lock:
            since = self._degraded_at
            s = {
                "pending": len(self._pending), "inflight": len(self._inflight),
                "dropped": self.dropped_rows + self.dropped_bytes + self.dropped_age,
                "dropped_rows": self.dropped_rows, "dropped_bytes": self.dropped_bytes,
                "dropped_age": self.dropped_age, "sent": self.sent,
                "spilled": self.spilled, "commits": self.commits, "degraded": self.degraded,
                "degraded_s": round(time.monotonic() - since) if since is not None else 0,
                "last_degraded_s": round(self._last_degraded_s), "recoveries": self.recoveries,
            }
        s["db_bytes"] = store.file_bytes(self.path)
        return s

    def close(self) -> None:
        """Write every unacknowledged message and the marks, close the database (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._want_exact = True
        self._wake.set()
        self._writer.join(timeout=30)
        self._write(everything=True)
        with self._db_lock:
            if self._conn is not None:
                try:  # fold the WAL into the database: one file at rest
                    self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    self._conn.close()
                except sqlite3.Error as e:
                    log.warning("closing outbox %s: %s", self.path, e)
                self._conn = None
        self._event.set()

    def __enter__(self) -> SqliteOutbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------- caps
    def _queue_delete_locked(self, rid: int) -> None:
        self._dels.append(rid)
        if self._work_since is None:
            self._work_since = time.monotonic()
            self._wake.set()

    def _drop_oldest_locked(self) -> None:
        rid, row = self._pending.popitem(last=False)
        self._bytes -= row.size
        if self._unwritten.pop(rid, None) is None and rid in self._stored:
            self._stored.discard(rid)
            self._queue_delete_locked(rid)

    def _enforce_caps_locked(self) -> None:
        while self._pending and len(self._pending) + len(self._inflight) > self.max_rows:
            self._drop_oldest_locked()
            self.dropped_rows += 1
        while self._pending and self._bytes > self.max_bytes:
            self._drop_oldest_locked()
            self.dropped_bytes += 1

    def _expire_locked(self, now: float) -> None:
        cutoff = now - self.max_age_s
        while self._pending and next(iter(self._pending.values())).queued_at < cutoff:
            self._drop_oldest_locked()
            self.dropped_age += 1

    # ---------------------------------------------------------------- the disk
    def _due_in_locked(self, now: float) -> float | None:
        """Seconds until the writer has something to do (0: now), None: nothing."""
        if self._conn is None:
            if self._degraded_at is None or self._closed:
                return None
            return max(0.0, self._retry_at - now)
        due = float("inf")
        if self._unwritten:
            if len(self._unwritten) >= self.batch_rows:
                return 0.0
            first = next(iter(self._unwritten.values()))
            due = first.t + (self.spill_after if self._online else self.batch_interval)
        if self._work_since is not None:
            due = min(due, self._work_since + self.batch_interval)
        return None if due == float("inf") else max(0.0, due - now)

    def _write_loop(self) -> None:
        while True:
            self._wake.clear()
            with self._lock:
                if self._closed:  # close() writes the rest itself
                    return
                now = time.monotonic()
                delay = self._due_in_locked(now)
                self._sleep_until = float("inf") if delay is None else now + delay
            if delay is None or delay > 0:
                self._wake.wait(delay)
                continue
            try:
                if self._conn is None:
                    self._recover()
                else:
                    self._write(everything=False)
            except Exception as e:  # a bug here must not silently stop all commits
                log.exception("outbox writer failed")
                with self._db_lock:
                    conn, self._conn = self._conn, None
                if conn is not None:
                    with contextlib.suppress(sqlite3.Error):
                        conn.close()
                self._degrade(f"writer failed: {e!r}")
                return

    def _batch_locked(self, everything: bool) -> store.Batch:
        """What is due now: spilled rows, deletes, changed marks, the exact flag."""
        b = store.Batch()
        if self._pending:
            self._expire_locked(self._clock())
        cutoff = time.monotonic() - self.spill_after
        take_all = everything or not self._online or len(self._unwritten) >= self.batch_rows
        while self._unwritten:
            rid, row = next(iter(self._unwritten.items()))
            if not take_all and row.t > cutoff:
                break
            del self._unwritten[rid]
            self._stored.add(rid)
            b.inserts.append((rid, row.msg, row.queued_at))
        b.deletes, self._dels = self._dels, []
        self._work_since = None
        if b.inserts or b.deletes or self._want_exact:
            b.marks = store.changed(self._marks, self._written_marks)
        if self._want_exact:
            b.exact = True
            self._want_exact = False
            self._exact_flag = True
        if self._next_id - 1 > self._high_written and (b.inserts or b.deletes or b.exact):
            b.high_id = self._next_id - 1
        return b

    def _write(self, *, everything: bool) -> None:
        with self._db_lock:
            with self._lock:
                if self._conn is None:
                    return
                b = self._batch_locked(everything)
            if b.empty():
                return
            self._commit_locked_db(b, f"cannot write {self.path}")

    def _commit_locked_db(self, b: store.Batch, what: str) -> bool:
        conn = self._conn
        assert conn is not None
        try:
            store.commit(conn, b)
        except (sqlite3.Error, OSError) as e:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
            self._conn = None
            with self._lock:
                self._unwritten.clear()
                self._stored.clear()
                self._dels.clear()
                self._work_since = None
                self._exact_flag = False
            self._degrade(f"{what}: {e}")
            return False
        with self._lock:
            self.commits += 1
            self.spilled += len(b.inserts)
            self._written_marks.update(b.marks)
            self._high_written = max(self._high_written, b.high_id)
        return True

    def _clear_exact(self) -> None:
        """Write exact = 0 before a row that may reach the broker is handed out."""
        with self._db_lock:
            with self._lock:
                if not self._exact_flag:
                    return
                self._exact_flag = False
                self._want_exact = False
                if self._conn is None or self._closed:
                    return
            self._commit_locked_db(store.Batch(exact=False), f"cannot write {self.path}")

    def _degrade(self, why: str) -> None:
        with self._lock:
            again = self._degraded_at is not None
            self.degraded = 1
            if not again:
                self._degraded_at = time.monotonic()
                self._retry_delay = self.disk_retry
            else:
                self._retry_delay = min(self._retry_delay * 2, self.disk_retry * RETRY_GROWTH_MAX)
            self._retry_at = time.monotonic() + self._retry_delay
        if again:
            log.log(logging.INFO if self._retry_delay == 2 * self.disk_retry else logging.DEBUG,
                    "outbox disk still unusable (%s); next try in %.0fs", why, self._retry_delay)
        else:
            log.warning("outbox degraded to memory, messages are no longer crash-safe: %s", why)
        self._wake.set()

    def _recover(self) -> None:
        """Try the disk again; on success write the whole RAM queue back and leave degraded mode."""
        if not self._opened and self.path.exists():
            with self._lock:
                self._degraded_at = None  # a file we could not open: leave it alone
            return
        try:
            conn = store.connect(self.path)
        except (sqlite3.Error, OSError) as e:
            self._degrade(str(e))
            return
        with self._db_lock:
            self._conn = conn
            with self._lock:
                rows = sorted([*self._pending.items(), *self._inflight.items()])
                b = store.Batch(replace_all=True, marks=dict(self._marks), exact=False,
                                high_id=self._next_id - 1,
                                inserts=[(rid, r.msg, r.queued_at) for rid, r in rows])
                self._dels.clear()
                self._stored = {rid for rid, _ in rows}
                for rid, _ in rows:
                    self._unwritten.pop(rid, None)
            if not self._commit_locked_db(b, f"still cannot write {self.path}"):
                return
            with self._lock:
                self._want_exact = not self._online
                lasted = time.monotonic() - (self._degraded_at or time.monotonic())
                self._last_degraded_s = lasted
                self._degraded_at = None
                self.degraded = 0
                self.recoveries += 1
                self._opened = True
        log.warning("outbox durable again after %.1fs degraded: %d queued messages written to %s",
                    lasted, len(rows), self.path)
