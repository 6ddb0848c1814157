"""Caps by rows, bytes and age drop the oldest pending messages and count why."""

from __future__ import annotations

from pathlib import Path

from device.outbox import OutMsg
from device.outbox.sqlite import SqliteOutbox


class Clock:
    def __init__(self, t: float = 1_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def m(i: int, size: int = 10) -> OutMsg:
    return OutMsg("t", str(i).encode().ljust(size, b"."))


def payload_ids(ob: SqliteOutbox) -> list[int]:
    return [int(q.msg.payload.rstrip(b".")) for q in ob.take(10_000)]


def test_outbox_row_cap_drops_oldest_and_counts(tmp_path: Path) -> None:
    with SqliteOutbox(tmp_path / "o.db", max_rows=5) as ob:
        for i in range(8):
            ob.put(m(i))
        s = ob.stats()
        assert s["dropped_rows"] == 3 and s["dropped"] == 3 and s["pending"] == 5
        assert payload_ids(ob) == [3, 4, 5, 6, 7]


def test_outbox_row_cap_never_drops_inflight(tmp_path: Path) -> None:
    with SqliteOutbox(tmp_path / "o.db", max_rows=3) as ob:
        for i in range(3):
            ob.put(m(i))
        taken = ob.take(2)
        ob.put(m(3))
        ob.put(m(4))
        ob.requeue()
        assert [q.id for q in ob.take(10)][:2] == [q.id for q in taken]


def test_outbox_byte_cap_drops_oldest_and_counts(tmp_path: Path) -> None:
    # each message is 1 byte of topic + 10 of payload = 11 bytes
    with SqliteOutbox(tmp_path / "o.db", max_bytes=35) as ob:
        for i in range(6):
            ob.put(m(i))
        s = ob.stats()
        assert s["dropped_bytes"] == 3 and s["pending"] == 3
        assert payload_ids(ob) == [3, 4, 5]


def test_outbox_age_cap_drops_old_messages_at_take(tmp_path: Path) -> None:
    clock = Clock()
    with SqliteOutbox(tmp_path / "o.db", max_age_s=60, clock=clock) as ob:
        ob.put(m(0))
        ob.put(m(1))
        clock.t += 30
        ob.put(m(2))
        clock.t += 31
        assert payload_ids(ob) == [2]
        assert ob.stats()["dropped_age"] == 2


def test_outbox_caps_apply_to_rows_from_previous_run(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    with SqliteOutbox(path) as ob:
        for i in range(10):
            ob.put(m(i))
    with SqliteOutbox(path, max_rows=4) as ob:
        assert ob.stats()["dropped_rows"] == 6
    with SqliteOutbox(path) as ob:  # the drops were deleted from disk too
        assert payload_ids(ob) == [6, 7, 8, 9]


def test_outbox_age_cap_applies_on_reopen(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    clock = Clock()
    with SqliteOutbox(path, clock=clock) as ob:
        ob.put(m(0))
    clock.t += 8 * 86400
    with SqliteOutbox(path, clock=clock) as ob:
        assert ob.pending() == 0
        assert ob.stats()["dropped_age"] == 1


def test_outbox_stats_reports_db_size(tmp_path: Path) -> None:
    with SqliteOutbox(tmp_path / "o.db") as ob:
        ob.put(m(1))
        assert ob.stats()["db_bytes"] > 0
        assert ob.stats()["degraded"] == 0
