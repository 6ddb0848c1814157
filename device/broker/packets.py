"""MQTT 3.1.1 control packets: a sans-IO decoder and the encoders the broker needs.

Theory of operation
-------------------
`PacketReader.feed(data)` buffers bytes and returns every complete packet they
finish, as frozen dataclasses that compare by value. It never raises on the
peer's bytes: a packet that breaks the 3.1.1 rules (bad fixed-header flags, a
remaining length over four bytes or over the size cap, a string that is not
UTF-8, a topic with wildcards, a truncated body) comes back as `Malformed` with
a reason, and the reader stays broken afterwards: MQTT has no resynchronisation,
so the only answer to garbage is to close that one connection.

Encoders return `bytes` for the packets a broker sends (CONNACK, PUBLISH, PUBACK,
PUBREC, PUBCOMP, SUBACK, UNSUBACK, PINGRESP) plus CONNECT / SUBSCRIBE for tests.
No sockets, no asyncio, no clocks here.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

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

# CONNACK return codes (MQTT 3.1.1 §3.2.2.3).
ACCEPTED = 0
REFUSED_PROTOCOL_VERSION = 1
REFUSED_IDENTIFIER = 2

SUBACK_FAILURE = 0x80
MAX_PACKET_SIZE = 16 * 1024 * 1024  # our cap; 3.1.1 itself allows 256 MB

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


@dataclass(frozen=True)
class Connect:
    """CONNECT: who the client is and how it wants its session."""

    protocol_name: str
    protocol_level: int
    client_id: str
    clean_session: bool
    keepalive: int
    will: Will | None = None
    username: str | None = None
    password: bytes | None = None


@dataclass(frozen=True)
class Publish:
    """PUBLISH: an application message (packet_id only for QoS 1 and 2)."""

    topic: str
    payload: bytes
    qos: int = 0
    retain: bool = False
    dup: bool = False
    packet_id: int | None = None


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
    """SUBSCRIBE: (topic filter, requested QoS) pairs."""

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
    """DISCONNECT: a clean goodbye (the will is discarded)."""


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


def _u16(body: bytes, pos: int) -> int:
    if pos + 2 > len(body):
        raise _Bad("truncated packet identifier")
    return int(struct.unpack_from("!H", body, pos)[0])


def _packet_id(body: bytes, pos: int) -> int:
    pid = _u16(body, pos)
    if pid == 0:
        raise _Bad("packet identifier 0")
    return pid


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
    if flags & 0x01:
        raise _Bad("CONNECT reserved flag set")
    client_id, pos = _string(body, pos)
    will = None
    if flags & 0x04:
        wtopic, pos = _string(body, pos)
        wpayload, pos = _binary(body, pos)
        wqos = (flags >> 3) & 0x03
        if wqos == 3 or not valid_topic_name(wtopic):
            raise _Bad("invalid will")
        will = Will(wtopic, wpayload, wqos, bool(flags & 0x20))
    elif flags & 0x38:
        raise _Bad("will flags without a will")
    username = password = None
    if flags & 0x80:
        username, pos = _string(body, pos)
    if flags & 0x40:
        password, pos = _binary(body, pos)
    return Connect(name, level, client_id, bool(flags & 0x02), keepalive, will, username, password)


def _parse_publish(flags: int, body: bytes) -> Publish:
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
    return Publish(topic, bytes(body[pos:]), qos, bool(flags & 0x01), bool(flags & 0x08), pid)


def _parse_subscribe(body: bytes) -> Subscribe:
    pid = _packet_id(body, 0)
    pos = 2
    topics: list[tuple[str, int]] = []
    while pos < len(body):
        filt, pos = _string(body, pos)
        if pos >= len(body):
            raise _Bad("SUBSCRIBE filter without QoS")
        qos = body[pos]
        pos += 1
        if qos & 0xFC:
            raise _Bad("SUBSCRIBE QoS byte out of range")
        topics.append((filt, qos))
    if not topics:
        raise _Bad("SUBSCRIBE with no filters")
    return Subscribe(pid, tuple(topics))


def _parse_unsubscribe(body: bytes) -> Unsubscribe:
    pid = _packet_id(body, 0)
    pos = 2
    topics: list[str] = []
    while pos < len(body):
        filt, pos = _string(body, pos)
        topics.append(filt)
    if not topics:
        raise _Bad("UNSUBSCRIBE with no filters")
    return Unsubscribe(pid, tuple(topics))


def parse(first: int, body: bytes) -> Packet:
    """Decode one packet from its first byte and body; raises _Bad on protocol errors."""
    ptype, flags = first >> 4, first & 0x0F
    if ptype == PUBLISH:
        return _parse_publish(flags, body)
    if ptype not in _REQUIRED_FLAGS:
        raise _Bad(f"packet type {ptype} is not sent by clients")
    if flags != _REQUIRED_FLAGS[ptype]:
        raise _Bad(f"bad fixed-header flags {flags:#x} for packet type {ptype}")
    if ptype == CONNECT:
        return _parse_connect(body)
    if ptype == SUBSCRIBE:
        return _parse_subscribe(body)
    if ptype == UNSUBSCRIBE:
        return _parse_unsubscribe(body)
    if ptype in (PINGREQ, DISCONNECT):
        if body:
            raise _Bad("unexpected body")
        return PingReq() if ptype == PINGREQ else Disconnect()
    if len(body) != 2:
        raise _Bad("acknowledgement must be 2 bytes")
    pid = _packet_id(body, 0)
    if ptype == PUBACK:
        return PubAck(pid)
    if ptype == PUBREC:
        return PubRec(pid)
    return PubRel(pid) if ptype == PUBREL else PubComp(pid)


class PacketReader:
    """Buffers stream bytes and cuts them into packets; never raises on garbage."""

    def __init__(self, max_packet: int = MAX_PACKET_SIZE) -> None:
        self._buf = bytearray()
        self._max = max_packet
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
                out.append(parse(first, body))
            except _Bad as exc:
                return self._fail(out, str(exc))
        if pos:
            del buf[:pos]
        return out

    def _fail(self, out: list[Packet | Malformed], reason: str) -> list[Packet | Malformed]:
        self.broken = Malformed(reason)
        self._buf = bytearray()
        out.append(self.broken)
        return out


# ---- encoders ----------------------------------------------------------------

def _remaining_length(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _frame(first: int, body: bytes) -> bytes:
    return bytes((first,)) + _remaining_length(len(body)) + body


def _enc_str(text: str) -> bytes:
    raw = text.encode("utf-8")
    return struct.pack("!H", len(raw)) + raw


def encode_connack(session_present: bool, return_code: int) -> bytes:
    """CONNACK with the session-present flag and a 3.1.1 return code."""
    return bytes((CONNACK << 4, 2, 1 if session_present else 0, return_code))


def encode_publish(topic: str, payload: bytes, qos: int = 0, retain: bool = False,
                   packet_id: int | None = None, dup: bool = False) -> bytes:
    """PUBLISH; packet_id is required for QoS 1 and 2."""
    first = (PUBLISH << 4) | (qos << 1) | (0x08 if dup else 0) | (0x01 if retain else 0)
    head = _enc_str(topic)
    if qos:
        if not packet_id:
            raise ValueError("QoS 1 and 2 need a packet identifier")
        head += struct.pack("!H", packet_id)
    return _frame(first, head + payload)


def encode_puback(packet_id: int) -> bytes:
    """PUBACK for a QoS 1 PUBLISH."""
    return struct.pack("!BBH", PUBACK << 4, 2, packet_id)


def encode_pubrec(packet_id: int) -> bytes:
    """PUBREC for a QoS 2 PUBLISH."""
    return struct.pack("!BBH", PUBREC << 4, 2, packet_id)


def encode_pubcomp(packet_id: int) -> bytes:
    """PUBCOMP answering a PUBREL."""
    return struct.pack("!BBH", PUBCOMP << 4, 2, packet_id)


def encode_suback(packet_id: int, codes: list[int]) -> bytes:
    """SUBACK: one granted QoS (or 0x80 failure) per requested filter."""
    return _frame(SUBACK << 4, struct.pack("!H", packet_id) + bytes(codes))


def encode_unsuback(packet_id: int) -> bytes:
    """UNSUBACK."""
    return struct.pack("!BBH", UNSUBACK << 4, 2, packet_id)


PINGRESP_BYTES = bytes((PINGRESP << 4, 0))


def encode_connect(client_id: str, keepalive: int = 60, clean_session: bool = True,
                   will: Will | None = None, level: int = 4) -> bytes:
    """CONNECT (for tests and tools; the broker never sends one)."""
    flags = 0x02 if clean_session else 0
    payload = _enc_str(client_id)
    if will is not None:
        flags |= 0x04 | (will.qos << 3) | (0x20 if will.retain else 0)
        payload += _enc_str(will.topic) + struct.pack("!H", len(will.payload)) + will.payload
    name = "MQTT" if level >= 4 else "MQIsdp"
    return _frame(CONNECT << 4, _enc_str(name) + struct.pack("!BBH", level, flags, keepalive) + payload)


def encode_subscribe(packet_id: int, topics: list[tuple[str, int]]) -> bytes:
    """SUBSCRIBE (for tests and tools)."""
    body = struct.pack("!H", packet_id) + b"".join(_enc_str(t) + bytes((q,)) for t, q in topics)
    return _frame((SUBSCRIBE << 4) | 2, body)
