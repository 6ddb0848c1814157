"""The embedded broker's server: asyncio connections, routing, retained store, wills.

Theory of operation
-------------------
One asyncio event loop owns everything, so no locks: `BrokerCore` holds the
connected sessions by client id and the retained messages; each TCP connection
is a `ClientConnection` (an `asyncio.Protocol`) that feeds received bytes to a
sans-IO `PacketReader` and acts on each packet in arrival order.

- The first byte must start a CONNECT (else the socket is closed at once), and
  CONNECT must arrive within `CONNECT_TIMEOUT`. Protocol levels 4 (3.1.1),
  3 (3.1) and 5 are served; any other gets "unacceptable protocol version".
  An empty client id gets a generated one (MQTT 5: returned in the CONNACK;
  3.1.1: only with clean session). A second connection with a live client id
  takes the id over: the old one is closed and, as for any end without a
  normal DISCONNECT, its will is published first.
- Sessions are not persisted: clean_session=0 / a session expiry is accepted
  but the session ends with the connection (session-present is always 0).
- PUBLISH is routed synchronously to every matching session, so messages from
  one publisher are delivered in the order they were received. Each receiver
  gets one copy at min(publish QoS, best matching subscription QoS).
  Subscriptions are granted at most QoS 1; an incoming QoS 2 PUBLISH is
  delivered at once and answered PUBREC, its PUBREL with PUBCOMP.
- MQTT 5: PUBLISH properties (response topic, correlation data, user
  properties, ...) are forwarded to MQTT 5 receivers and dropped for 3.1.1
  ones; No Local, Retain As Published and Retain Handling are honoured; topic
  aliases, subscription identifiers and shared subscriptions are not offered.
- Retained messages are replaced per topic; an empty retained payload clears.
  Retained messages go to a new subscription after its SUBACK, with RETAIN=1.
- Keepalive: a client silent for 1.5x its keepalive is dropped (will sent).
- A receiver whose socket buffer exceeds `MAX_BUFFERED` loses messages (counted
  in `dropped`) instead of growing memory without bound.
- Any protocol error or unexpected exception closes that one connection.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from dataclasses import dataclass, field

from device.broker import encode as enc
from device.broker import packets as p
from device.broker import props as pr
from device.broker.topics import matches, split

log = logging.getLogger("pi2mqtt.broker")

CONNECT_TIMEOUT = 10.0
KEEPALIVE_FACTOR = 1.5
MAX_BUFFERED = 8 * 1024 * 1024
MAX_GRANTED_QOS = 1
DISCONNECT_WITH_WILL = 0x04
# What MQTT 5 clients are told we do not do (the defaults say "available").
CONNACK_V5_PROPERTIES = (pr.byte_prop(pr.SUBSCRIPTION_IDS_AVAILABLE, 0)
                         + pr.byte_prop(pr.SHARED_SUBS_AVAILABLE, 0))


@dataclass
class BrokerStats:
    """Counters the broker keeps (read from another thread: plain ints)."""

    connections: int = 0
    received: int = 0
    delivered: int = 0
    dropped: int = 0
    malformed: int = 0
    wills: int = 0
    keepalive_timeouts: int = 0


@dataclass(frozen=True)
class Subscription:
    """One topic filter of one session, split once, with its options."""

    levels: tuple[str, ...]
    qos: int
    no_local: bool = False
    retain_as_published: bool = False


@dataclass(frozen=True)
class Retained:
    """A retained message as stored."""

    payload: bytes
    qos: int
    properties: bytes


@dataclass
class BrokerCore:
    """Sessions and retained messages; only ever touched from the loop thread."""

    sessions: dict[str, ClientConnection] = field(default_factory=dict)
    retained: dict[str, Retained] = field(default_factory=dict)
    stats: BrokerStats = field(default_factory=BrokerStats)
    stopping: bool = False
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def new_client_id(self) -> str:
        """A client id for a client that sent none."""
        return f"pi2mqtt-embedded-{next(self._ids)}"

    def route(self, topic: str, payload: bytes, qos: int, retain: bool,
              properties: bytes = b"", sender: ClientConnection | None = None) -> None:
        """Store (if retained) and deliver a message to every matching session."""
        self.stats.received += 1
        if retain:
            if payload:
                self.retained[topic] = Retained(payload, qos, properties)
            else:
                self.retained.pop(topic, None)
        levels = split(topic)
        for conn in list(self.sessions.values()):
            best, keep_retain = -1, False
            for sub in conn.subscriptions.values():
                if matches(sub.levels, levels) and not (sub.no_local and conn is sender):
                    best = max(best, sub.qos)
                    keep_retain = keep_retain or sub.retain_as_published
            if best >= 0:
                try:
                    conn.deliver(topic, payload, min(qos, best), retain and keep_retain, properties)
                except Exception:  # a receiver's trouble must not end the sender
                    log.exception("embedded broker: dropping receiver %s", conn.client_id)
                    conn.close()

    def close_all(self) -> None:
        """Close every connection without publishing wills (broker shutdown)."""
        self.stopping = True
        for conn in list(self.sessions.values()):
            conn.close()


class ClientConnection(asyncio.Protocol):
    """One client's TCP connection and its (non-persistent) session."""

    def __init__(self, core: BrokerCore) -> None:
        self.core = core
        self.reader = p.PacketReader()
        self.transport: asyncio.Transport | None = None
        self.client_id: str | None = None
        self.v5 = False
        self.subscriptions: dict[str, Subscription] = {}
        self.will: p.Will | None = None
        self.keepalive = 0
        self.last_rx = 0.0
        self.closed = False
        self._got_bytes = False
        self._pids = itertools.cycle(range(1, 65536))
        self._qos2_pending: set[int] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._loop = asyncio.get_running_loop()

    # ---- asyncio.Protocol -----------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.core.stats.connections += 1
        self.last_rx = self._loop.time()
        self._timer = self._loop.call_later(CONNECT_TIMEOUT, self._connect_deadline)

    def data_received(self, data: bytes) -> None:
        self.last_rx = self._loop.time()
        if not self._got_bytes and data:
            self._got_bytes = True
            if data[0] != 0x10:
                self.core.stats.malformed += 1
                self.close()  # not MQTT: a CONNECT starts with 0x10
                return
        try:
            for packet in self.reader.feed(data):
                if self.closed:
                    return
                self._handle(packet)
        except Exception:
            log.exception("embedded broker: closing %s after an internal error", self.client_id)
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._end(send_will=True)

    # ---- packet handling ------------------------------------------------------

    def _handle(self, packet: p.Packet | p.Malformed) -> None:
        if isinstance(packet, p.Malformed):
            self.core.stats.malformed += 1
            log.warning("embedded broker: malformed packet from %s: %s", self.client_id or "?", packet.reason)
            self.close()
        elif self.client_id is None:
            if isinstance(packet, p.Connect):
                self._on_connect(packet)
            else:
                self.close()  # first packet must be CONNECT
        elif isinstance(packet, p.Publish):
            self._on_publish(packet)
        elif isinstance(packet, p.PubRel):
            self._qos2_pending.discard(packet.packet_id)
            self._write(enc.pubcomp(packet.packet_id))
        elif isinstance(packet, p.Subscribe):
            self._on_subscribe(packet)
        elif isinstance(packet, p.Unsubscribe):
            codes = [0 if self.subscriptions.pop(f, None) else enc.UNSUBACK_NO_SUBSCRIPTION
                     for f in packet.topics]
            self._write(enc.unsuback(packet.packet_id, codes, self.v5))
        elif isinstance(packet, p.PingReq):
            self._write(enc.PINGRESP)
        elif isinstance(packet, p.Disconnect):
            if packet.reason != DISCONNECT_WITH_WILL:
                self.will = None
            self.close()
        elif isinstance(packet, p.Connect):
            self.close()  # a second CONNECT is a protocol violation
        # PUBACK / PUBREC / PUBCOMP from subscribers: nothing is retransmitted, nothing to do.

    def _on_connect(self, c: p.Connect) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if (c.protocol_name, c.protocol_level) not in p.SUPPORTED_PROTOCOLS:
            self._write(enc.connack(False, enc.REFUSED_PROTOCOL_VERSION))
            self.close()
            return
        self.v5 = c.protocol_level == p.MQTT_5
        extra = b""
        client_id = c.client_id
        if not client_id:
            if not c.clean_session and not self.v5:
                self._write(enc.connack(False, enc.REFUSED_IDENTIFIER))
                self.close()
                return
            client_id = self.core.new_client_id()
            extra = pr.string_prop(pr.ASSIGNED_CLIENT_ID, client_id)
        old = self.core.sessions.get(client_id)
        if old is not None:
            log.info("embedded broker: client id %s taken over", client_id)
            old.close()  # publishes its will before this client's CONNACK
        self.client_id = client_id
        will = c.will
        if will is not None and will.properties:
            # Published at once: a will delay is not supported, so do not forward it.
            will = p.Will(will.topic, will.payload, will.qos, will.retain,
                          pr.without(will.properties, pr.WILL_DELAY))
        self.will = will
        self.keepalive = c.keepalive
        self.core.sessions[client_id] = self
        self._write(enc.connack(False, enc.ACCEPTED, self.v5, CONNACK_V5_PROPERTIES + extra))
        if self.keepalive:
            self._timer = self._loop.call_later(self.keepalive * KEEPALIVE_FACTOR, self._keepalive_check)

    def _on_publish(self, m: p.Publish) -> None:
        if m.qos == 1 and m.packet_id is not None:
            self._write(enc.puback(m.packet_id))
        elif m.qos == 2 and m.packet_id is not None:
            self._write(enc.pubrec(m.packet_id))
            if m.packet_id in self._qos2_pending:
                return  # a resend before PUBREL: already delivered
            self._qos2_pending.add(m.packet_id)
        props = pr.without(m.properties, pr.SUBSCRIPTION_ID) if m.properties else b""
        self.core.route(m.topic, m.payload, m.qos, m.retain, props, self)

    def _on_subscribe(self, s: p.Subscribe) -> None:
        codes: list[int] = []
        fresh: list[Subscription] = []
        for filt, opts in s.topics:
            if not p.valid_topic_filter(filt):
                codes.append(enc.SUBACK_BAD_FILTER if self.v5 else enc.SUBACK_FAILURE)
                continue
            sub = Subscription(split(filt), min(opts & 0x03, MAX_GRANTED_QOS),
                               bool(opts & 0x04), bool(opts & 0x08))
            existed = filt in self.subscriptions
            self.subscriptions[filt] = sub
            codes.append(sub.qos)
            handling = (opts >> 4) & 0x03
            if handling == 0 or (handling == 1 and not existed):
                fresh.append(sub)
        self._write(enc.suback(s.packet_id, codes, self.v5))
        if not fresh:
            return
        for topic, r in list(self.core.retained.items()):
            levels = split(topic)
            best = max((sub.qos for sub in fresh if matches(sub.levels, levels)), default=-1)
            if best >= 0:
                self.deliver(topic, r.payload, min(r.qos, best), True, r.properties)

    # ---- output ---------------------------------------------------------------

    def deliver(self, topic: str, payload: bytes, qos: int, retain: bool, properties: bytes = b"") -> None:
        """Send one PUBLISH to this client (dropped if its buffer is over the cap)."""
        if self.closed or self.transport is None:
            return
        if self.transport.get_write_buffer_size() > MAX_BUFFERED:
            self.core.stats.dropped += 1
            return
        pid = next(self._pids) if qos else None
        self.transport.write(enc.publish(topic, payload, qos, retain, pid,
                                         properties=properties if self.v5 else None))
        self.core.stats.delivered += 1

    def _write(self, data: bytes) -> None:
        if not self.closed and self.transport is not None:
            self.transport.write(data)

    # ---- ending ---------------------------------------------------------------

    def close(self) -> None:
        """Close the socket and end the session; the will, if still set, is published."""
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()
        self._end(send_will=True)

    def _end(self, send_will: bool) -> None:
        if self.closed:
            return
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.client_id is not None and self.core.sessions.get(self.client_id) is self:
            del self.core.sessions[self.client_id]
        will, self.will = self.will, None
        if send_will and will is not None and not self.core.stopping:
            self.core.stats.wills += 1
            self.core.route(will.topic, will.payload, will.qos, will.retain, will.properties)

    def _connect_deadline(self) -> None:
        self._timer = None
        if self.client_id is None:
            self.close()

    def _keepalive_check(self) -> None:
        self._timer = None
        if self.closed:
            return
        limit = self.keepalive * KEEPALIVE_FACTOR
        idle = self._loop.time() - self.last_rx
        if idle >= limit:
            self.core.stats.keepalive_timeouts += 1
            log.info("embedded broker: %s silent for %.1f s, dropping it", self.client_id, idle)
            self.close()
        else:
            self._timer = self._loop.call_later(limit - idle, self._keepalive_check)
