"""MQTT 3.1.1 / 5 control packets as a client sends them: a sans-IO decoder.

Theory of operation
-------------------
`PacketReader.feed(data)` buffers bytes and returns every complete packet they
finish, as frozen dataclasses that compare by value. It never raises on the
peer's bytes: a packet that breaks the rules (bad fixed-header flags, a
remaining length over four bytes or over the size cap, a string that is not
UTF-8, a topic with wildcards, a malformed property block, a truncated body)
comes back as `Malformed` with a reason, and the reader stays broken
afterwards: MQTT has no resynchronisation, so the only answer to garbage is to
close that one connection.

The reader learns the protocol level from the CONNECT it decodes: from then on
it reads MQTT 5 bodies (property blocks, subscription options, reason codes)
for level 5 and 3.1.1 bodies otherwise. MQTT 5 properties stay raw bytes
(`device.broker.props` walks them) so they can be forwarded untouched.

Encoders for what the broker sends live in `device.broker.encode`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from device.broker import props as pr

# Packet types (high nibble of the first byte).
CONNECT = 1
CONNACK = 2
PUBLISH = 3
PUBACK = 4
PUBREC = 5
PUBREL = 6
PUBCOMP = 7
SUBSCRIBE = 8
SUBACK = 9
UNSUBSCRIBE = 10
UNSUBACK = 11
PINGREQ = 12
PINGRESP = 13
DISCONNECT = 14

MQTT_311 = 4
MQTT_5 = 5
SUPPORTED_PROTOCOLS = (("MQTT", 4), ("MQIsdp", 3), ("MQTT", 5))  # 3.1.1, 3.1, 5
MAX_PACKET_SIZE = 16 * 1024 * 1024  # our cap; the protocol itself allows 256 MB

# Fixed-header flags each type must carry (PUBLISH carries its own flags).
_REQUIRED_FLAGS = {
    CONNECT: 0, PUBACK: 0, PUBREC: 0, PUBREL: 2, PUBCOMP: 0, SUBSCRIBE: 2,
    UNSUBSCRIBE: 2, PINGREQ: 0, DISCONNECT: 0,
}


@dataclass(frozen=True)
class Will:
    """The message a client leaves behind when its connection ends abnormally."""

    topic: str
    payload: bytes
    qos: int
    retain: bool
    properties: bytes = b""  # MQTT 5 will properties, raw


@dataclass(frozen=True)
class Connect:
    """CONNECT: who the client is and how it wants its session."""

    protocol_name: str
    protocol_level: int
    client_id: str
    clean_session: bool  # "clean start" in MQTT 5
    keepalive: int
    will: Will | None = None
    username: str | None = None
    password: bytes | None = None
    properties: bytes = b""


@dataclass(frozen=True)
class Publish:
    """PUBLISH: an application message (packet_id only for QoS 1 and 2)."""

    topic: str
    payload: bytes
    qos: int = 0
    retain: bool = False
    dup: bool = False
    packet_id: int | None = None
    properties: bytes = b""  # MQTT 5, raw


@dataclass(frozen=True)
class PubAck:
    """PUBACK: a QoS 1 message was received."""

    packet_id: int


@dataclass(frozen=True)
class PubRec:
    """PUBREC: first answer to a QoS 2 PUBLISH."""

    packet_id: int


@dataclass(frozen=True)
class PubRel:
    """PUBREL: the publisher releases a QoS 2 packet id."""

    packet_id: int


@dataclass(frozen=True)
class PubComp:
    """PUBCOMP: last step of the QoS 2 exchange."""

    packet_id: int


@dataclass(frozen=True)
class Subscribe:
    """SUBSCRIBE: (topic filter, options) pairs; options' low two bits are the QoS.

    MQTT 5 options: bit 2 No Local, bit 3 Retain As Published, bits 4-5 Retain Handling.
    """

    packet_id: int
    topics: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Unsubscribe:
    """UNSUBSCRIBE: topic filters to drop."""

    packet_id: int
    topics: tuple[str, ...]


@dataclass(frozen=True)
class PingReq:
    """PINGREQ: the client is alive."""


@dataclass(frozen=True)
class Disconnect:
    """DISCONNECT: a goodbye; reason 0x04 (MQTT 5) asks for the will anyway."""

    reason: int = 0


@dataclass(frozen=True)
class Malformed:
    """The peer broke the protocol; the connection must be closed."""

    reason: str


Packet = Connect | Publish | PubAck | PubRec | PubRel | PubComp | Subscribe | Unsubscribe | PingReq | Disconnect


class _Bad(Exception):
    """Internal: raised while parsing one body, turned into Malformed."""


def _string(body: bytes, pos: int) -> tuple[str, int]:
    raw, pos = _binary(body, pos)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _Bad("string is not valid UTF-8") from None
    if "\x00" in text:
        raise _Bad("string contains U+0000")
    return text, pos


def _binary(body: bytes, pos: int) -> tuple[bytes, int]:
    if pos + 2 > len(body):
        raise _Bad("truncated length prefix")
    (n,) = struct.unpack_from("!H", body, pos)
    pos += 2
    if pos + n > len(body):
        raise _Bad("truncated string")
    return bytes(body[pos:pos + n]), pos + n


def _packet_id(body: bytes, pos: int) -> int:
    if pos + 2 > len(body):
        raise _Bad("truncated packet identifier")
    (pid,) = struct.unpack_from("!H", body, pos)
    if pid == 0:
        raise _Bad("packet identifier 0")
    return int(pid)


def _props(body: bytes, pos: int) -> tuple[bytes, int]:
    try:
        return pr.read_block(body, pos)
    except pr.PropertyError as exc:
        raise _Bad(str(exc)) from None


def valid_topic_name(topic: str) -> bool:
    """A PUBLISH topic: not empty, no wildcards."""
    return bool(topic) and "+" not in topic and "#" not in topic


def valid_topic_filter(filt: str) -> bool:
    """A SUBSCRIBE filter: `+` fills a whole level, `#` only as the whole last level."""
    if not filt:
        return False
    levels = filt.split("/")
    for i, level in enumerate(levels):
        if "#" in level and (level != "#" or i != len(levels) - 1):
            return False
        if "+" in level and level != "+":
            return False
    return True


def _parse_connect(body: bytes) -> Connect:
    name, pos = _string(body, 0)
    if pos + 4 > len(body):
        raise _Bad("truncated CONNECT header")
    level, flags, keepalive = struct.unpack_from("!BBH", body, pos)
    pos += 4
    if (name, level) not in SUPPORTED_PROTOCOLS:
        # Read no further (the layout may differ) so the server can still answer
        # "unacceptable protocol version".
        return Connect(name, level, "", bool(flags & 0x02), keepalive)
    if flags & 0x01:
        raise _Bad("CONNECT reserved flag set")
    v5 = level == MQTT_5
    properties = b""
    if v5:
        properties, pos = _props(body, pos)
    client_id, pos = _string(body, pos)
    will = None
    if flags & 0x04:
        wprops = b""
        if v5:
            wprops, pos = _props(body, pos)
        wtopic, pos = _string(body, pos)
        wpayload, pos = _binary(body, pos)
        wqos = (flags >> 3) & 0x03
        if wqos == 3 or not valid_topic_name(wtopic):
            raise _Bad("invalid will")
        will = Will(wtopic, wpayload, wqos, bool(flags & 0x20), wprops)
    elif flags & 0x38:
        raise _Bad("will flags without a will")
    username = password = None
    if flags & 0x80:
        username, pos = _string(body, pos)
    if flags & 0x40:
        password, pos = _binary(body, pos)
    return Connect(name, level, client_id, bool(flags & 0x02), keepalive, will, username,
                   password, properties)


def _parse_publish(flags: int, body: bytes, v5: bool) -> Publish:
    qos = (flags >> 1) & 0x03
    if qos == 3:
        raise _Bad("PUBLISH with QoS 3")
    topic, pos = _string(body, 0)
    if not valid_topic_name(topic):
        raise _Bad(f"invalid topic name {topic!r}")
    pid = None
    if qos:
        pid = _packet_id(body, pos)
        pos += 2
    properties = b""
    if v5:
        properties, pos = _props(body, pos)
        if pr.has(properties, pr.TOPIC_ALIAS):
            raise _Bad("topic alias used but none was granted")
    return Publish(topic, bytes(body[pos:]), qos, bool(flags & 0x01), bool(flags & 0x08), pid,
                   properties)


def _parse_subscribe(body: bytes, v5: bool) -> Subscribe:
    pid = _packet_id(body, 0)
    pos = 2
    if v5:
        _, pos = _props(body, pos)  # subscription identifiers: not supported, ignored
    topics: list[tuple[str, int]] = []
    while pos < len(body):
        filt, pos = _string(body, pos)
        if pos >= len(body):
            raise _Bad("SUBSCRIBE filter without options")
        opts = body[pos]
        pos += 1
        if opts & (0xC0 if v5 else 0xFC) or opts & 0x03 == 3 or (opts >> 4) & 0x03 == 3:
            raise _Bad("SUBSCRIBE options out of range")
        topics.append((filt, opts))
    if not topics:
        raise _Bad("SUBSCRIBE with no filters")
    return Subscribe(pid, tuple(topics))


def _parse_unsubscribe(body: bytes, v5: bool) -> Unsubscribe:
    pid = _packet_id(body, 0)
    pos = 2
    if v5:
        _, pos = _props(body, pos)
    topics: list[str] = []
    while pos < len(body):
        filt, pos = _string(body, pos)
        topics.append(filt)
    if not topics:
        raise _Bad("UNSUBSCRIBE with no filters")
    return Unsubscribe(pid, tuple(topics))


def _parse_ack(ptype: int, body: bytes, v5: bool) -> Packet:
    # MQTT 5 acks may carry a reason code and properties after the packet id.
    if len(body) != 2 and not (v5 and len(body) > 2):
        raise _Bad("acknowledgement must be 2 bytes")
    pid = _packet_id(body, 0)
    if len(body) > 3:
        _props(body, 3)
    if ptype == PUBACK:
        return PubAck(pid)
    if ptype == PUBREC:
        return PubRec(pid)
    return PubRel(pid) if ptype == PUBREL else PubComp(pid)


def parse(first: int, body: bytes, level: int = MQTT_311) -> Packet:
    """Decode one packet from its first byte and body; raises _Bad on protocol errors."""
    ptype, flags = first >> 4, first & 0x0F
    v5 = level == MQTT_5
    if ptype == PUBLISH:
        return _parse_publish(flags, body, v5)
    if ptype not in _REQUIRED_FLAGS:
        raise _Bad(f"packet type {ptype} is not sent by clients")
    if flags != _REQUIRED_FLAGS[ptype]:
        raise _Bad(f"bad fixed-header flags {flags:#x} for packet type {ptype}")
    if ptype == CONNECT:
        return _parse_connect(body)
    if ptype == SUBSCRIBE:
        return _parse_subscribe(body, v5)
    if ptype == UNSUBSCRIBE:
        return _parse_unsubscribe(body, v5)
    if ptype == PINGREQ:
        if body:
            raise _Bad("PINGREQ with a body")
        return PingReq()
    if ptype == DISCONNECT:
        if body and not v5:
            raise _Bad("DISCONNECT with a body")
        if len(body) > 1:
            _props(body, 1)
        return Disconnect(body[0] if body else 0)
    return _parse_ack(ptype, body, v5)


class PacketReader:
    """Buffers stream bytes and cuts them into packets; never raises on garbage."""

    def __init__(self, max_packet: int = MAX_PACKET_SIZE) -> None:
        self._buf = bytearray()
        self._max = max_packet
        self.level = MQTT_311  # becomes the CONNECT's protocol level
        self.broken: Malformed | None = None

    def feed(self, data: bytes) -> list[Packet | Malformed]:
        """Add bytes; return the packets they complete (a Malformed ends the list)."""
        if self.broken is not None:
            return []
        buf = self._buf
        buf += data
        out: list[Packet | Malformed] = []
        pos, end = 0, len(buf)
        while end - pos >= 2:
            # Remaining length: 1-4 bytes, 7 bits each, high bit = more.
            length, mult, i = 0, 1, pos + 1
            while True:
                if i >= end:
                    length = -1
                    break
                byte = buf[i]
                length += (byte & 0x7F) * mult
                i += 1
                if not byte & 0x80:
                    break
                mult *= 128
                if mult > 128**3:
                    return self._fail(out, "remaining length longer than 4 bytes")
            if length < 0:
                break  # need more header bytes
            if length > self._max:
                return self._fail(out, f"packet of {length} bytes exceeds the {self._max}-byte cap")
            if end - i < length:
                break  # need more body bytes
            first = buf[pos]
            body = bytes(buf[i:i + length])
            pos = i + length
            try:
                packet = parse(first, body, self.level)
            except _Bad as exc:
                return self._fail(out, str(exc))
            if isinstance(packet, Connect):
                self.level = packet.protocol_level
            out.append(packet)
        if pos:
            del buf[:pos]
        return out

    def _fail(self, out: list[Packet | Malformed], reason: str) -> list[Packet | Malformed]:
        self.broken = Malformed(reason)
        self._buf = bytearray()
        out.append(self.broken)
        return out
