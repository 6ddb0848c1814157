"""SqliteOutbox keeps put order through take, ack and requeue, and across close/reopen."""

from __future__ import annotations

from pathlib import Path

import pytest

from device.outbox import MemoryOutbox, OutMsg, open_outbox
from device.outbox.sqlite import SqliteOutbox


def msg(i: int, entity: str | None = "temp") -> OutMsg:
    return OutMsg(f"pi2mqtt/dev/{entity}", f'{{"value": {i}}}'.encode(), 1, False, entity, 1000.0 + i)


def values(queued: list) -> list[bytes]:
    return [q.msg.payload for q in queued]


def test_outbox_take_returns_put_order(tmp_path: Path) -> None:
    with SqliteOutbox(tmp_path / "o.db") as ob:
        for i in range(10):
            ob.put(msg(i))
        assert values(ob.take(4)) == [msg(i).payload for i in range(4)]
        assert values(ob.take(100)) == [msg(i).payload for i in range(4, 10)]
        assert ob.take(5) == []


def test_outbox_take_marks_inflight_and_ack_forgets(tmp_path: Path) -> None:
    with SqliteOutbox(tmp_path / "o.db") as ob:
        for i in range(5):
            ob.put(msg(i))
        got = ob.take(3)
        assert ob.stats()["inflight"] == 3 and ob.stats()["pending"] == 2
        assert ob.pending() == 5
        ob.ack([q.id for q in got])
        assert ob.pending() == 2
        assert ob.stats()["sent"] == 3


def test_outbox_requeue_puts_inflight_ahead_of_newer(tmp_path: Path) -> None:
    with SqliteOutbox(tmp_path / "o.db") as ob:
        for i in range(6):
            ob.put(msg(i))
        first = ob.take(2)
        second = ob.take(2)
        ob.ack([first[0].id])
        ob.put(msg(6))
        ob.requeue()
        assert values(ob.take(100)) == [msg(i).payload for i in (1, 2, 3, 4, 5, 6)]
        assert second  # taken, never acked: came back


def test_outbox_message_fields_survive_reopen(tmp_path: Path) -> None:
    m = OutMsg("a/b", b"\x00\xffbin", qos=0, retain=True, entity=None, ts=12.5)
    with SqliteOutbox(tmp_path / "o.db") as ob:
        ob.put(m)
    with SqliteOutbox(tmp_path / "o.db") as ob:
        assert [q.msg for q in ob.take(10)] == [m]


def test_outbox_reopen_makes_inflight_pending_in_order(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    with SqliteOutbox(path) as ob:
        for i in range(10):
            ob.put(msg(i))
        taken = ob.take(4)
        ob.ack([taken[1].id])  # 0, 2, 3 stay in flight, never acked
    with SqliteOutbox(path) as ob:
        assert values(ob.take(100)) == [msg(i).payload for i in (0, 2, 3, 4, 5, 6, 7, 8, 9)]


def test_outbox_ids_are_not_reused_after_reopen(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    with SqliteOutbox(path) as ob:
        ob.put(msg(0))
        q = ob.take(1)
        ob.ack([q[0].id])
    with SqliteOutbox(path) as ob:
        ob.put(msg(1))
        assert ob.take(1)[0].id > q[0].id


def test_outbox_wait_wakes_on_put_and_times_out_when_empty(tmp_path: Path) -> None:
    with SqliteOutbox(tmp_path / "o.db") as ob:
        assert ob.wait(0.01) is False
        ob.put(msg(1))
        assert ob.wait(5) is True
        ob.take(10)
        assert ob.wait(0.01) is False
        ob.requeue()
        assert ob.wait(5) is True


def test_outbox_acks_are_deleted_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    with SqliteOutbox(path) as ob:
        for i in range(3):
            ob.put(msg(i))
        ob.ack([q.id for q in ob.take(3)])
    with SqliteOutbox(path) as ob:
        assert ob.pending() == 0


@pytest.mark.parametrize("durability", ["batch", "reading"])
def test_outbox_durability_modes_store_everything_on_close(tmp_path: Path, durability: str) -> None:
    path = tmp_path / "o.db"
    with SqliteOutbox(path, durability=durability) as ob:
        for i in range(50):
            ob.put(msg(i))
    with SqliteOutbox(path) as ob:
        assert values(ob.take(100)) == [msg(i).payload for i in range(50)]


def test_outbox_rejects_unknown_durability(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="durability"):
        SqliteOutbox(tmp_path / "o.db", durability="sometimes")


def test_open_outbox_picks_backend(tmp_path: Path) -> None:
    mem = open_outbox(None, max_rows=5)
    assert isinstance(mem, MemoryOutbox) and mem.max_rows == 5
    ob = open_outbox(tmp_path / "state" / "sub", max_rows=7)
    try:
        assert isinstance(ob, SqliteOutbox)
        assert ob.path == tmp_path / "state" / "sub" / "outbox.db"
        assert ob.max_rows == 7
        assert ob.path.exists()
    finally:
        ob.close()


def test_outbox_close_is_idempotent(tmp_path: Path) -> None:
    ob = SqliteOutbox(tmp_path / "o.db")
    ob.put(msg(1))
    ob.close()
    ob.close()
