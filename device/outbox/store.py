"""The SQLite side of the durable outbox: schema, opening, reading back, one commit.

Plain functions on a `sqlite3.Connection`, so that `device.outbox.sqlite` keeps the
queue logic and this module keeps every SQL statement. Nothing here holds a lock or
keeps state; callers serialise access to the connection.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from device.outbox.types import OutMsg

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        topic TEXT NOT NULL,
        payload BLOB NOT NULL,
        qos INTEGER NOT NULL,
        retain INTEGER NOT NULL,
        entity TEXT,
        ts REAL NOT NULL,
        queued_at REAL NOT NULL,
        seq INTEGER
    )""",
    # The highest seq each entity has put, written with the rows (docs/topics.md, "seq").
    "CREATE TABLE IF NOT EXISTS seqmark (entity TEXT PRIMARY KEY, seq INTEGER NOT NULL)",
    # exact = 1: no seq above seqmark can have reached the broker.
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)",
)

_INSERT = (
    "INSERT INTO outbox (id, topic, payload, qos, retain, entity, ts, queued_at, seq)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

StoredRow = tuple[int, OutMsg, float]  # id, message, queued_at


@dataclass
class Loaded:
    """What an opened database holds."""

    rows: list[StoredRow] = field(default_factory=list)
    last_id: int = 0
    marks: dict[str, int] = field(default_factory=dict)
    exact: bool = True


@dataclass
class Batch:
    """One transaction's worth of changes."""

    inserts: list[StoredRow] = field(default_factory=list)
    deletes: list[int] = field(default_factory=list)
    marks: dict[str, int] = field(default_factory=dict)
    exact: bool | None = None  # write the flag when not None
    high_id: int = 0  # keep AUTOINCREMENT's high-water mark at least this
    replace_all: bool = False  # delete every stored row first (recovery)

    def empty(self) -> bool:
        return not (self.inserts or self.deletes or self.marks or self.replace_all) and self.exact is None


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating) the database in WAL mode with synchronous=FULL and the schema."""
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a directory")
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    try:
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise sqlite3.OperationalError(f"journal_mode is {mode}, WAL unavailable")
        conn.execute("PRAGMA synchronous=FULL")
        for stmt in _SCHEMA:
            conn.execute(stmt)
        cols = {r[1] for r in conn.execute("PRAGMA table_info(outbox)")}
        if "seq" not in cols:  # a database from before seq was stored
            conn.execute("ALTER TABLE outbox ADD COLUMN seq INTEGER")
    except BaseException:
        conn.close()
        raise
    return conn


def _seq_of(payload: bytes) -> int | None:
    try:
        seq = json.loads(payload).get("seq")
    except (ValueError, AttributeError):
        return None
    return seq if isinstance(seq, int) else None


def load(conn: sqlite3.Connection) -> Loaded:
    """Every stored row in id order, the id high-water mark, the seq marks and the flag."""
    out = Loaded()
    cur = conn.execute(
        "SELECT id, topic, payload, qos, retain, entity, ts, queued_at, seq FROM outbox ORDER BY id")
    for rid, topic, payload, qos, retain, entity, ts, queued_at, seq in cur:
        ent = sys.intern(entity) if entity is not None else None
        body = bytes(payload)
        if seq is None and ent is not None:
            seq = _seq_of(body)
        out.rows.append((rid, OutMsg(sys.intern(topic), body, qos, bool(retain), ent, ts, seq), queued_at))
        if ent is not None and seq is not None and seq > out.marks.get(ent, 0):
            out.marks[ent] = seq
    hw = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").fetchone()
    out.last_id = max(hw[0] if hw else 0, out.rows[-1][0] if out.rows else 0)
    for ent, seq in conn.execute("SELECT entity, seq FROM seqmark"):
        if seq > out.marks.get(ent, 0):
            out.marks[sys.intern(ent)] = seq
    flag = conn.execute("SELECT value FROM meta WHERE key = 'exact'").fetchone()
    out.exact = True if flag is None else bool(flag[0])
    return out


def commit(conn: sqlite3.Connection, b: Batch) -> None:
    """Apply one batch in one transaction (one fsync of the WAL)."""
    conn.execute("BEGIN")
    try:
        if b.replace_all:
            conn.execute("DELETE FROM outbox")
        if b.inserts:
            conn.executemany(_INSERT, _insert_rows(b.inserts))
        if b.deletes:
            conn.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in b.deletes])
        if b.marks:
            conn.executemany(
                "INSERT INTO seqmark (entity, seq) VALUES (?, ?)"
                " ON CONFLICT(entity) DO UPDATE SET seq = max(seq, excluded.seq)",
                list(b.marks.items()))
        if b.exact is not None:
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('exact', ?)", (int(b.exact),))
        if b.high_id:
            _keep_high_id(conn, b.high_id)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _insert_rows(rows: Iterable[StoredRow]) -> list[tuple[object, ...]]:
    return [(rid, m.topic, m.payload, m.qos, int(m.retain), m.entity, m.ts, queued_at, m.seq)
            for rid, m, queued_at in rows]


def _keep_high_id(conn: sqlite3.Connection, high: int) -> None:
    # Rows acked before they were written never reach the table: keep AUTOINCREMENT's
    # high-water mark so ids are never reused.
    cur = conn.execute("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'outbox'", (high,))
    if cur.rowcount == 0:
        conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('outbox', ?)", (high,))


def file_bytes(path: Path) -> int:
    """The database and its WAL, in bytes."""
    total = 0
    for p in (path, Path(str(path) + "-wal")):
        try:
            total += p.stat().st_size
        except OSError:
            pass
    return total


def changed(marks: Mapping[str, int], written: Mapping[str, int]) -> dict[str, int]:
    """The marks that moved since they were last written."""
    return {e: s for e, s in marks.items() if written.get(e) != s}
