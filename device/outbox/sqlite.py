"""The durable outbox: the queue in RAM, mirrored into SQLite (WAL) in the state directory.

`SqliteOutbox` implements `device.outbox.Outbox`; the theory of operation follows.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path

from device.outbox import OutMsg, Queued, _tail_ids

#
# Theory of operation. `SqliteOutbox` keeps the whole queue in RAM (ordered dicts, as
# `MemoryOutbox` does) and mirrors it into one SQLite table in WAL mode. RAM is the truth
# while the process lives; the table is what survives a crash or a restart.
#
# * `put()` only appends to the in-RAM queue and to an insert buffer (a few µs). A
#   background writer commits the buffer at most `batch_interval` s after the first
#   buffered row, or at once when `batch_rows` rows wait: one transaction, one fsync
#   (synchronous=FULL syncs the WAL on each commit). With durability="reading" the
#   producer commits its own row (group commit with other producers) before `put()`
#   returns, so a returned `put()` survives SIGKILL and power loss.
# * `take()` serves from RAM, never waits for a commit: a row can be published (and
#   acked) before it reaches the disk; the writer then skips it.
# * `ack()` deletes (batched by the writer). A crash between PUBACK and that delete
#   re-sends the row after restart: delivery is at least once, in order.
# * In-flight is RAM-only state; on open every stored row is pending, in id order.
# * Caps (rows, bytes of topic+payload, age since put) drop the oldest pending rows and
#   count why. Any sqlite3/OS error at open or while writing turns the outbox into a pure
#   RAM queue ("degraded"), with one warning on logger "pi2mqtt.outbox"; it never raises.

log = logging.getLogger("pi2mqtt.outbox")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    qos INTEGER NOT NULL,
    retain INTEGER NOT NULL,
    entity TEXT,
    ts REAL NOT NULL,
    queued_at REAL NOT NULL
)
"""

_INSERT = (
    "INSERT INTO outbox (id, topic, payload, qos, retain, entity, ts, queued_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)

DURABILITIES = ("batch", "reading")


class _Row:
    """One queued message in RAM: the message, its size and when it was put."""

    __slots__ = ("msg", "queued_at", "size")

    def __init__(self, msg: OutMsg, queued_at: float) -> None:
        self.msg = msg
        self.queued_at = queued_at
        self.size = len(msg.topic) + len(msg.payload)


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
        clock: Callable[[], float] = time.time,
    ) -> None:
        if durability not in DURABILITIES:
            raise ValueError(f"durability must be one of {DURABILITIES}, not {durability!r}")
        self.path = Path(path)
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        self.max_age_s = max_age_s
        self.durability = durability
        self.batch_interval = batch_interval
        self.batch_rows = batch_rows
        self._clock = clock
        self._lock = threading.Lock()  # RAM state
        self._db_lock = threading.Lock()  # the connection; taken before _lock, never inside
        self._event = threading.Event()  # something is pending
        self._dirty = threading.Event()  # the writer has work
        self._full = threading.Event()  # ... and should not wait for the interval
        self._pending: OrderedDict[int, _Row] = OrderedDict()
        self._inflight: dict[int, _Row] = {}
        self._ins: list[tuple[int, _Row]] = []
        self._dels: list[int] = []
        self._bytes = 0
        self._next_id = 1
        self._seq = 0  # the id high-water mark stored in sqlite_sequence
        self._closed = False
        self.dropped_rows = 0
        self.dropped_bytes = 0
        self.dropped_age = 0
        self.sent = 0
        self.degraded = 0
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
            self._open_db()
        except sqlite3.DatabaseError as e:
            if isinstance(e, sqlite3.OperationalError) or not self.path.is_file():
                raise
            aside = self.path.with_name(f"{self.path.name}.corrupt-{int(self._clock())}")
            log.warning("outbox %s is not a usable database (%s); moved to %s", self.path, e, aside)
            self.path.rename(aside)
            for suffix in ("-wal", "-shm"):
                Path(str(self.path) + suffix).unlink(missing_ok=True)
            self._open_db()

    def _open_db(self) -> None:
        if self.path.is_dir():
            raise IsADirectoryError(f"{self.path} is a directory")
        conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        try:
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise sqlite3.OperationalError(f"journal_mode is {mode}, WAL unavailable")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute(_SCHEMA)
            rows = conn.execute(
                "SELECT id, topic, payload, qos, retain, entity, ts, queued_at"
                " FROM outbox ORDER BY id"
            ).fetchall()
            seq = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").fetchone()
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        last = seq[0] if seq else 0
        for rid, topic, payload, qos, retain, entity, ts, queued_at in rows:
            ent = sys.intern(entity) if entity is not None else None
            msg = OutMsg(sys.intern(topic), bytes(payload), qos, bool(retain), ent, ts)
            row = _Row(msg, queued_at)
            self._pending[rid] = row
            self._bytes += row.size
            last = max(last, rid)
        self._next_id = last + 1
        self._seq = last
        self._enforce_caps_locked()
        self._expire_locked(self._clock())
        if self._dels:
            self._dirty.set()
        if self._pending:
            self._event.set()
            log.info("outbox %s: %d messages from a previous run", self.path, len(self._pending))

    # ---------------------------------------------------------------- the queue
    def put(self, msg: OutMsg) -> None:
        """Queue msg (cheap); with durability="reading" return only once it is committed."""
        row = _Row(msg, self._clock())
        with self._lock:
            rid = self._next_id
            self._next_id = rid + 1
            self._pending[rid] = row
            self._bytes += row.size
            if self._conn is not None:
                self._ins.append((rid, row))
                n = len(self._ins)
                if n == 1:
                    self._dirty.set()
                elif n >= self.batch_rows:
                    self._full.set()
            if len(self._pending) + len(self._inflight) > self.max_rows or self._bytes > self.max_bytes:
                self._enforce_caps_locked()
        self._event.set()
        if self.durability == "reading" and self._conn is not None:
            self._flush()

    def take(self, limit: int) -> list[Queued]:
        """Oldest pending messages (at most limit), now in flight."""
        out: list[Queued] = []
        with self._lock:
            if self._pending:
                self._expire_locked(self._clock())
            while self._pending and len(out) < limit:
                rid, row = self._pending.popitem(last=False)
                self._inflight[rid] = row
                out.append(Queued(rid, row.msg))
            if not self._pending:
                self._event.clear()
        return out

    def take_after(self, after: int, limit: int) -> list[Queued]:
        """The oldest pending messages with an id above `after` (at most limit), now in flight.

        The sender uses it to publish readings taken since the current connection came
        up ahead of an older backlog; the scan starts at the tail, so it costs only the
        number of such messages.
        """
        out: list[Queued] = []
        with self._lock:
            for rid in _tail_ids(self._pending, after, limit):
                row = self._pending.pop(rid)
                self._inflight[rid] = row
                out.append(Queued(rid, row.msg))
            if not self._pending:
                self._event.clear()
        return out

    def last_id(self) -> int:
        """The newest id handed out so far (ids never go back, even across restarts)."""
        with self._lock:
            return self._next_id - 1

    def ack(self, ids: Iterable[int]) -> None:
        """The broker has these: forget them (and delete their rows)."""
        with self._lock:
            for rid in ids:
                row = self._inflight.pop(rid, None)
                if row is None:
                    continue
                self.sent += 1
                self._bytes -= row.size
                if self._conn is not None:
                    self._dels.append(rid)
            if self._dels:
                self._dirty.set()

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

    def stats(self) -> dict[str, int]:
        with self._lock:
            s = {
                "pending": len(self._pending),
                "inflight": len(self._inflight),
                "dropped": self.dropped_rows + self.dropped_bytes + self.dropped_age,
                "dropped_rows": self.dropped_rows,
                "dropped_bytes": self.dropped_bytes,
                "dropped_age": self.dropped_age,
                "sent": self.sent,
                "degraded": self.degraded,
            }
        s["db_bytes"] = self._db_bytes()
        return s

    def close(self) -> None:
        """Commit what is buffered and close the database (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._dirty.set()
        self._full.set()
        self._writer.join(timeout=30)
        self._flush()
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
    def _drop_oldest_locked(self) -> int:
        rid, row = self._pending.popitem(last=False)
        self._bytes -= row.size
        if self._conn is not None:
            self._dels.append(rid)
        return rid

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
    def _write_loop(self) -> None:
        while True:
            self._dirty.wait()
            if not self._closed:
                self._full.wait(self.batch_interval)
            self._dirty.clear()
            self._full.clear()
            if self._closed:  # close() flushes the rest itself
                return
            try:
                self._flush()
            except Exception as e:  # a bug here must not silently stop all commits
                log.exception("outbox writer failed")
                with self._db_lock:
                    conn, self._conn = self._conn, None
                if conn is not None:
                    with contextlib.suppress(sqlite3.Error):
                        conn.close()
                self._degrade(f"writer failed: {e!r}")
                return

    def _flush(self) -> None:
        with self._db_lock:
            with self._lock:
                ins, self._ins = self._ins, []
                dels, self._dels = self._dels, []
                if self._pending:
                    self._expire_locked(self._clock())
                    dels.extend(self._dels)
                    self._dels = []
            conn = self._conn
            if conn is None or not (ins or dels):
                return
            gone = set(dels)
            try:
                conn.execute("BEGIN")
                conn.executemany(
                    _INSERT,
                    [
                        (rid, r.msg.topic, r.msg.payload, r.msg.qos, int(r.msg.retain),
                         r.msg.entity, r.msg.ts, r.queued_at)
                        for rid, r in ins
                        if rid not in gone
                    ],
                )
                if dels:
                    conn.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in dels])
                if ins and ins[-1][0] > self._seq:
                    # Rows acked before they were written never reach the table: keep
                    # AUTOINCREMENT's high-water mark so ids are never reused.
                    self._seq = ins[-1][0]
                    cur = conn.execute(
                        "UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'outbox'",
                        (self._seq,),
                    )
                    if cur.rowcount == 0:
                        conn.execute(
                            "INSERT INTO sqlite_sequence (name, seq) VALUES ('outbox', ?)",
                            (self._seq,),
                        )
                conn.execute("COMMIT")
            except (sqlite3.Error, OSError) as e:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
                self._conn = None
                with self._lock:
                    self._ins.clear()
                    self._dels.clear()
                self._degrade(f"cannot write {self.path}: {e}")

    def _degrade(self, why: str) -> None:
        self.degraded = 1
        log.warning("outbox degraded to memory, messages are no longer crash-safe: %s", why)

    def _db_bytes(self) -> int:
        total = 0
        for p in (self.path, Path(str(self.path) + "-wal")):
            try:
                total += p.stat().st_size
            except OSError:
                pass
        return total
