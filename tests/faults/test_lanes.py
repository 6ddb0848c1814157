"""The outbox's two lanes (the sender's backfill rule): `take_after` serves ids above the
connect-time boundary, `requeue` restores id order, `last_id` never goes back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from device.outbox import MemoryOutbox, OutMsg
from device.outbox.sqlite import SqliteOutbox


def msg(i: int) -> OutMsg:
    return OutMsg("t", str(i).encode(), 1, False, "e", float(i))


@pytest.fixture(params=["memory", "sqlite"])
def outbox(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    ob = MemoryOutbox() if request.param == "memory" else SqliteOutbox(tmp_path / "o.db")
    yield ob
    ob.close()


def test_lanes_take_after_serves_only_newer_ids_in_order(outbox: Any) -> None:
    for i in range(1, 11):
        outbox.put(msg(i))
    boundary = outbox.last_id()
    assert boundary == 10
    for i in range(11, 15):
        outbox.put(msg(i))
    live = outbox.take_after(boundary, 3)
    assert [q.msg.payload for q in live] == [b"11", b"12", b"13"]
    assert [q.msg.payload for q in outbox.take(5)] == [b"1", b"2", b"3", b"4", b"5"]
    assert [q.msg.payload for q in outbox.take_after(boundary, 10)] == [b"14"]
    assert outbox.take_after(boundary, 10) == []


def test_lanes_requeue_after_both_lanes_restores_id_order(outbox: Any) -> None:
    for i in range(1, 9):
        outbox.put(msg(i))
    outbox.take_after(6, 10)  # 7, 8 in flight
    outbox.take(2)  # 1, 2 in flight
    outbox.requeue()
    assert [q.msg.payload for q in outbox.take(100)] == [str(i).encode() for i in range(1, 9)]


def test_lanes_last_id_survives_reopen(tmp_path: Path) -> None:
    with SqliteOutbox(tmp_path / "o.db") as ob:
        for i in range(5):
            ob.put(msg(i))
        ob.ack([q.id for q in ob.take(5)])
    with SqliteOutbox(tmp_path / "o.db") as ob:
        assert ob.last_id() == 5
        ob.put(msg(9))
        assert ob.take_after(5, 1)[0].id == 6
