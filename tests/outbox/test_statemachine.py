"""Hypothesis drives SqliteOutbox with random put/take/ack/requeue/reopen against a model."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from device.outbox import OutMsg
from device.outbox.sqlite import SqliteOutbox


class OutboxMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.TemporaryDirectory()
        self.path = Path(self.dir.name) / "o.db"
        self.ob = SqliteOutbox(self.path, batch_interval=0.001)
        self.counter = 0
        self.pending: list[int] = []  # model: payload numbers in the order they must come out
        self.inflight: dict[int, int] = {}  # outbox id -> payload number

    @rule(n=st.integers(1, 5))
    def put(self, n: int) -> None:
        for _ in range(n):
            self.ob.put(OutMsg("t", b"%d" % self.counter))
            self.pending.append(self.counter)
            self.counter += 1

    @rule(limit=st.integers(1, 6))
    def take(self, limit: int) -> None:
        got = self.ob.take(limit)
        want, self.pending = self.pending[:limit], self.pending[limit:]
        assert [int(q.msg.payload) for q in got] == want
        self.inflight.update((q.id, int(q.msg.payload)) for q in got)

    @precondition(lambda self: self.inflight)
    @rule(data=st.data())
    def ack(self, data: st.DataObject) -> None:
        ids = data.draw(st.lists(st.sampled_from(sorted(self.inflight)), unique=True))
        self.ob.ack(ids)
        for i in ids:
            del self.inflight[i]

    @rule()
    def requeue(self) -> None:
        self.ob.requeue()
        self.pending = [self.inflight[i] for i in sorted(self.inflight)] + self.pending
        self.inflight.clear()

    @rule()
    def reopen(self) -> None:
        self.ob.close()
        self.ob = SqliteOutbox(self.path, batch_interval=0.001)
        self.pending = [self.inflight[i] for i in sorted(self.inflight)] + self.pending
        self.inflight.clear()

    @invariant()
    def counts_match(self) -> None:
        s = self.ob.stats()
        assert (s["pending"], s["inflight"]) == (len(self.pending), len(self.inflight))

    def teardown(self) -> None:
        self.ob.close()
        self.dir.cleanup()


OutboxMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=30, deadline=None)
test_outbox_state_machine = OutboxMachine.TestCase
