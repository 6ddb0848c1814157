"""Many producers and one sender: nothing lost, nothing duplicated, per-producer order kept."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from device.outbox import OutMsg
from device.outbox.sqlite import SqliteOutbox

PRODUCERS = 4
PER_PRODUCER = 2000


@pytest.mark.parametrize("durability", ["batch", "reading"])
def test_outbox_concurrent_producers_keep_per_producer_order(tmp_path: Path, durability: str) -> None:
    n = PER_PRODUCER if durability == "batch" else 200
    path = tmp_path / "o.db"
    received: list[tuple[int, int]] = []
    done = threading.Event()
    ob = SqliteOutbox(path, durability=durability)

    def produce(p: int) -> None:
        for i in range(n):
            ob.put(OutMsg(f"p/{p}", b"%d" % i))

    def send() -> None:
        requeued = False
        while len(received) < PRODUCERS * n:
            if not ob.wait(10):
                break
            batch = ob.take(50)
            if not requeued and len(received) > n:  # one simulated reconnect mid-stream
                requeued = True
                ob.requeue()
                continue
            received.extend((int(q.msg.topic[2:]), int(q.msg.payload)) for q in batch)
            ob.ack([q.id for q in batch])
        done.set()

    sender = threading.Thread(target=send)
    sender.start()
    producers = [threading.Thread(target=produce, args=(p,)) for p in range(PRODUCERS)]
    for t in producers:
        t.start()
    for t in producers:
        t.join(timeout=60)
    assert done.wait(60)
    sender.join(timeout=10)
    ob.close()
    for p in range(PRODUCERS):
        assert [i for q, i in received if q == p] == list(range(n))
    assert len(received) == PRODUCERS * n
    with SqliteOutbox(path) as again:
        assert again.pending() == 0
