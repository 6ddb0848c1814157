"""Spill, don't sync, and the seq marks, at the outbox's own interface (no broker)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

from device.outbox import OutMsg
from device.outbox.sqlite import SqliteOutbox


def reading(i: int, entity: str = "t") -> OutMsg:
    return OutMsg(f"p/d/{entity}", b'{"seq":%d}' % i, 1, True, entity, float(i), i)


def stored(path: Path) -> list[int]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [r[0] for r in conn.execute("SELECT seq FROM outbox ORDER BY id")]
    finally:
        conn.close()


def wait_until(cond: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll the database file (another connection: no event to wait on)."""
    tick = threading.Event()
    for _ in range(int(timeout / 0.01)):
        if cond():
            return
        tick.wait(0.01)
    raise AssertionError("timed out")


def test_spill_acked_within_the_window_is_never_written(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    ob = SqliteOutbox(path, spill_after=30.0)
    try:
        ob.set_online(True)
        for i in range(1, 101):
            ob.put(reading(i))
            ob.ack([q.id for q in ob.take(10)])
        assert ob.stats()["spilled"] == 0
        assert stored(path) == []
    finally:
        ob.close()


def test_spill_unacked_rows_are_written_after_the_window(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    ob = SqliteOutbox(path, spill_after=0.05)
    try:
        ob.set_online(True)
        for i in range(1, 6):
            ob.put(reading(i))
        taken = ob.take(10)  # in flight, never acked
        wait_until(lambda: len(stored(path)) == 5)
        ob.ack([q.id for q in taken])
        wait_until(lambda: stored(path) == [])
    finally:
        ob.close()


def test_spill_offline_rows_are_written_at_once(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    ob = SqliteOutbox(path, spill_after=3600.0)
    try:
        ob.set_online(True)
        ob.put(reading(1))
        ob.set_online(False)
        ob.put(reading(2))
        wait_until(lambda: stored(path) == [1, 2])
    finally:
        ob.close()


def test_marks_after_a_clean_close_are_exact(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    with SqliteOutbox(path) as ob:
        ob.set_online(True)
        for i in range(1, 8):
            ob.put(reading(i, "a"))
        ob.put(reading(3, "b"))
        ob.ack([q.id for q in ob.take(100)])
    with SqliteOutbox(path) as again:
        m = again.seq_marks()
        assert m is not None and m.exact and dict(m.marks) == {"a": 7, "b": 3}


def test_marks_after_a_crash_while_connected_are_not_exact(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    ob = SqliteOutbox(path)
    ob.set_online(True)
    ob.put(reading(1))
    ob.take(1)  # may reach the broker: exact = 0 is on disk before take() returns
    peek = SqliteOutbox(path)  # what a restart after a crash would see
    try:
        m = peek.seq_marks()
        assert m is not None and not m.exact
    finally:
        peek.close()
        ob.close()


def test_marks_after_a_crash_while_disconnected_are_exact(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    ob = SqliteOutbox(path)
    ob.set_online(True)
    for i in range(1, 4):
        ob.put(reading(i))
    ob.ack([q.id for q in ob.take(10)])
    ob.set_online(False)  # connection lost: marks + exact = 1 written
    ob.put(reading(4))
    wait_until(lambda: stored(path) == [4])
    peek = SqliteOutbox(path)
    try:
        m = peek.seq_marks()
        assert m is not None and m.exact and m.marks["t"] == 4
    finally:
        peek.close()
        ob.close()
