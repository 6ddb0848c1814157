"""What every outbox shares: the message types, the `Outbox` protocol, one helper.

Kept apart from both implementations so that `device.outbox` (the memory outbox) and
`device.outbox.sqlite` (the durable one) import it and never each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Reversible, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol


class OutMsg(NamedTuple):
    """One message to publish. `entity` is set for readings (backfill routing), `seq` with it.

    A named tuple, not a frozen dataclass: one is made per reading, and a frozen
    dataclass sets each of its seven fields through `object.__setattr__` (3× the cost).
    """

    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = False
    entity: str | None = None
    ts: float = 0.0
    seq: int | None = None


class Queued(NamedTuple):
    """A message taken from the outbox, with the id to ack it by (a named tuple, as OutMsg)."""

    id: int
    msg: OutMsg


@dataclass(frozen=True, slots=True)
class SeqMarks:
    """What a durable outbox knows about sequence numbers when it opens.

    `marks`: per entity, the highest seq the previous runs put in the outbox (stored rows
    and the marks written with them). `exact`: no seq above those marks can have reached
    the broker (the last run stopped cleanly, or was disconnected when it died); when
    False the broker's retained readings must be asked (docs/topics.md, "seq").
    """

    marks: Mapping[str, int]
    exact: bool


class Outbox(Protocol):
    """What the MQTT sender and the daemon need from an outbox."""

    def put(self, msg: OutMsg) -> None: ...
    def put_many(self, msgs: Sequence[OutMsg]) -> None: ...
    def take(self, limit: int) -> list[Queued]: ...
    def take_after(self, after: int, limit: int) -> list[Queued]: ...
    def last_id(self) -> int: ...
    def ack(self, ids: Iterable[int]) -> None: ...
    def requeue(self) -> None: ...
    def wait(self, timeout: float) -> bool: ...
    def pending(self) -> int: ...
    def stats(self) -> dict[str, int]: ...
    def set_online(self, online: bool) -> None: ...
    def seq_marks(self) -> SeqMarks | None: ...
    def close(self) -> None: ...


def ids_after(ids: Reversible[int], after: int, limit: int) -> list[int]:
    """The oldest ids above `after` (at most limit) of ascending `ids`, read from the tail.

    The scan starts at the tail, so it costs only the number of ids above `after`.
    """
    tail: list[int] = []
    for mid in reversed(ids):
        if mid <= after:
            break
        tail.append(mid)
    tail.reverse()
    return tail[:limit]
