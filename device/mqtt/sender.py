"""The outbox sender: readings from the outbox to paho, at most `window` unacknowledged.

Theory of operation
-------------------
Messages go from the outbox to paho while the connection is up, at most `window` QoS>0
messages unacknowledged. Each PUBACK (`puback`, on the network thread) is noted, and
after each read the network loop `settle()`s the PUBACKs it brought: their outbox rows
are acknowledged in one call (one lock round for a read's PUBACKs, not one per PUBACK).
Whoever puts readings in the outbox calls `pump()` next (a poll thread once per tick),
which sends what is pending *on the caller's thread* (paho then writes the packets on
that thread too, `device.mqtt.netloop`) — one thread hand-off fewer. Only
one thread sends at a time (`_sending`), so the order on the wire is the outbox's. When
`pump()` cannot send — the connection is down, the window is full, or another thread
is sending — the `mqtt-sender` thread does: it drains the backlog after a connect, waits
for room, and takes over from a `pump()` that found the lock taken (`kick`). paho re-sends
its unacknowledged messages after a reconnect (same Client object), so nothing is
handed over twice within one run; rows in flight when the process died are pending
again in the next run (durable outbox).

Backfill: at each connect the client sets `boundary` to the outbox's newest id.
Each round the sender first takes readings put *after* that (live lane,
`take_after`), then the oldest backlog (ids <= boundary) with the room left (until a
round finds no backlog left: none appears again before the next connect).
Live-lane readings go to their entity topic; a backlog reading goes to the entity
topic only when it is the newest reading of its entity taken by this process (none
newer taken, none after it in the round), else to `…/backfill`. So the live topic is
current within one round while a backlog drains in order on `…/backfill`; every
topic stays in order (one connection, one sender).

Never call paho while holding `self._lock`: paho calls `on_publish` with its own message
mutex held, and a denied publish's `acked` takes the lock.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable

import paho.mqtt.client as mqtt

from device.mqtt.topics import Topics
from device.outbox import Outbox, Queued

log = logging.getLogger("pi2mqtt.mqtt")

EARLY_ACK_TTL = 5.0  # seconds an unclaimed PUBACK is remembered


class OutboxSender:
    """Moves the outbox into one paho Client and accounts each PUBACK."""

    def __init__(self, paho: mqtt.Client, outbox: Outbox, connected: threading.Event,
                 stop: threading.Event, window: int = 100) -> None:
        self._paho = paho
        self.outbox = outbox
        self.window = window
        self._connected = connected
        self._stop = stop
        self._lock = threading.Lock()
        self._inflight: dict[int, Queued] = {}
        self._early_acks: dict[int, float] = {}
        self._starved = False  # the sender thread waits for room: settle each PUBACK at once
        self.before_round: Callable[[], None] | None = None  # Daemon: puts its queued readings
        self._acks: list[int] = []  # PUBACKed mids not settled yet (appended by the network thread)
        self._direct: dict[int, str] = {}  # mid -> topic of recent direct QoS>0 publishes
        self.room = threading.Event()
        self._sending = threading.Lock()  # one sender at a time: the outbox's order on the wire
        self._kick = threading.Event()  # work for the sender thread
        self.boundary = 0  # outbox id high-water mark when the current connection came up
        self._backlog = True  # rows at or below `boundary` may still be pending
        self._connection = 0  # counts connects (a round that began before one decides nothing)
        self.latest_ts: dict[str, float] = {}
        self.published = 0
        self.backfilled = 0

    def inflight(self) -> int:
        with self._lock:
            return len(self._inflight)

    def note_direct(self, mid: int, topic: str) -> None:
        """A QoS>0 publish outside the outbox (status, reply): its PUBACK is not a row's."""
        with self._lock:
            self._direct[mid] = topic
            if len(self._direct) > 1024:
                for old in list(self._direct)[:512]:
                    del self._direct[old]

    def connected(self, last_id: int) -> None:
        """A connection came up while the outbox's newest id was `last_id`: the backfill boundary."""
        self.boundary = last_id
        self._connection += 1
        self._backlog = True
        self._kick.set()

    def kick(self) -> None:
        """Have the sender thread look at the outbox (after a connect, or a pump that could not send)."""
        self._kick.set()

    def pump(self) -> None:
        """Send what is pending now, on this thread; or leave it to the sender thread."""
        if not self._connected.is_set():
            return  # sent by the sender thread after the connect
        if not self._sending.acquire(blocking=False):
            self._kick.set()  # another thread is sending and may have taken its batch already
            return
        try:
            while True:
                with self._lock:
                    room = self.window - len(self._inflight)
                if room <= 0:
                    self._kick.set()  # the window is full: the sender thread waits for room
                    return
                if self._round(room) < room:
                    return  # all that was pending is sent
        finally:
            self._sending.release()

    def run(self) -> None:
        """The sender thread's loop, until `stop` is set."""
        while not self._stop.is_set():
            try:
                if not self._connected.wait(0.5):
                    continue
                with self._lock:
                    room = self.window - len(self._inflight)
                if room <= 0:
                    self._starved = True
                    self.room.wait(0.5)
                    self._starved = False
                    self.room.clear()
                    continue
                self._kick.clear()
                with self._sending:
                    if self.before_round is not None:
                        self.before_round()  # what producers hold back joins the outbox first
                    sent = self._round(room)
                if sent == 0:
                    self._kick.wait(2.0)  # a pump that could not send, a connect or stop() wakes it
            except Exception:
                log.exception("sender error (continuing)")
                time.sleep(0.1)

    def _round(self, room: int) -> int:
        """Send up to `room` pending messages (the `_sending` lock held); how many it sent."""
        # Live lane first (readings put since this connection came up), then the oldest
        # backlog with the room left: the live topics stay current while a backlog drains.
        boundary, connection = self.boundary, self._connection
        batch = self.outbox.take_after(boundary, room)
        if self._backlog and len(batch) < room:
            older = self.outbox.take(room - len(batch))
            if len(older) < room - len(batch) and connection == self._connection:
                self._backlog = False  # nothing pending at all: no backlog until the next connect
            batch += older
        if not batch:
            return 0
        if batch[-1].id > boundary and batch[0].id > boundary:  # all live: to their own topics
            self._send_live(batch)
            return len(batch)
        if len(batch) == 1:
            self.send(batch[0], boundary)
            return 1
        # A backlog reading followed by a newer one of its entity in this batch is
        # history too, even before the first new reading has been taken.
        last: dict[str, int] = {}
        for q in batch:
            if q.msg.entity is not None:
                last[q.msg.entity] = q.id
        for q in batch:
            newer = q.msg.entity is not None and last[q.msg.entity] != q.id
            self.send(q, boundary, newer)
        return len(batch)

    def _send_live(self, batch: list[Queued]) -> None:
        """`send()` for readings put since the connection came up: each to its own topic."""
        publish, sent = self._paho.publish, self._sent
        for q in batch:
            m = q.msg
            # Never call paho while holding self._lock (see the module docstring).
            sent(q, publish(m.topic, m.payload, m.qos, m.retain).mid)  # (positional: no keyword dict)

    def topic_for(self, q: Queued, boundary: int, newer_in_batch: bool = False) -> str:
        m = q.msg
        # A reading queued before this connection came up is history (…/backfill) unless
        # it is the newest reading of its entity taken since this process started: the
        # live topic is never set back to an old value. Readings left by a previous run
        # always go to …/backfill (this run takes a fresh one).
        if m.entity is not None and q.id <= boundary and (
                newer_in_batch or m.ts < self.latest_ts.get(m.entity, math.inf)):
            self.backfilled += 1
            return Topics.backfill_of(m.topic)
        return m.topic

    def send(self, q: Queued, boundary: int = 0, newer_in_batch: bool = False) -> None:
        topic = self.topic_for(q, boundary, newer_in_batch)
        retain = q.msg.retain and not Topics.is_backfill(topic)
        # Never call paho while holding self._lock (see the module docstring).
        self._sent(q, self._paho.publish(topic, q.msg.payload, qos=q.msg.qos, retain=retain).mid)

    def _sent(self, q: Queued, mid: int) -> None:
        """`q` is handed to paho as `mid`: acknowledged at once (QoS 0, or its PUBACK came
        first), else in flight until its PUBACK."""
        if q.msg.qos == 0:
            self.outbox.ack([q.id])
            self.published += 1
            return
        with self._lock:  # recorded before the next publish: its PUBACK rarely comes first
            acked_at = self._early_acks.pop(mid, None) if self._early_acks else None
            if acked_at is not None and time.monotonic() - acked_at < EARLY_ACK_TTL:
                self.outbox.ack([q.id])
                self.published += 1
            else:
                self._inflight[mid] = q

    def puback(self, mid: int) -> None:
        """A successful PUBACK for `mid` (the network thread): settled after the read (`settle`),
        or at once while the window is full (the sender thread waits for the room)."""
        self._acks.append(mid)
        if self._starved:
            self.settle()

    def settle(self) -> None:
        """Acknowledge the outbox rows of the PUBACKs noted so far, in one call (the network thread)."""
        acks = self._acks
        if not acks:
            return
        self._acks = []
        rows: list[int] = []
        with self._lock:
            inflight = self._inflight
            for mid in acks:
                q = inflight.pop(mid, None)
                if q is None:
                    self._unclaimed(mid)
                else:
                    rows.append(q.id)
            if rows:
                self.published += len(rows)
                self.outbox.ack(rows)
        if rows and not self.room.is_set():  # set() takes a lock and notifies
            self.room.set()

    def _unclaimed(self, mid: int) -> None:
        """A PUBACK for no row in flight (`_lock` held): it beat the sender's bookkeeping, or it
        answers a direct publish (status, reply). Remembered briefly: a mid is reused only
        after 65535 more."""
        self._direct.pop(mid, None)
        now = time.monotonic()
        self._early_acks[mid] = now
        if len(self._early_acks) > 1024:
            self._early_acks = {m: t for m, t in self._early_acks.items() if now - t < EARLY_ACK_TTL}

    def acked(self, mid: int) -> tuple[bool, str | None]:
        """PUBACK for `mid` settled at once: (whether it was a row's, the topic it was sent to).

        For a denied publish, whose topic is counted; the others go through `puback`.
        """
        self.settle()  # the PUBACKs before it first
        with self._lock:
            q = self._inflight.pop(mid, None)
            if q is None:
                direct = self._direct.get(mid)
                self._unclaimed(mid)
                return False, direct
            self.published += 1
            self.outbox.ack([q.id])
        if not self.room.is_set():
            self.room.set()
        return True, q.msg.topic
