"""Bytes for the packets the embedded broker sends (and CONNECT/SUBSCRIBE for tests). Pure.

Functions that differ between MQTT 3.1.1 and 5 take `v5`: MQTT 5 adds a
property block (empty unless given) and reason codes.
"""

from __future__ import annotations

import struct

from device.broker import packets as p
from device.broker import props as pr

SUBACK_FAILURE = 0x80  # 3.1.1 "failure"; MQTT 5 "unspecified error"
SUBACK_BAD_FILTER = 0x8F  # MQTT 5 "topic filter invalid"
UNSUBACK_NO_SUBSCRIPTION = 0x11  # MQTT 5

# CONNACK return codes: 3.1.1 (§3.2.2.3) and their MQTT 5 reason codes.
ACCEPTED = 0
REFUSED_PROTOCOL_VERSION = 1
REFUSED_IDENTIFIER = 2
V5_BAD_PROTOCOL_VERSION = 0x84
V5_BAD_CLIENT_ID = 0x85

PINGRESP = bytes((p.PINGRESP << 4, 0))


def _frame(first: int, body: bytes) -> bytes:
    return bytes((first,)) + pr.encode_varint(len(body)) + body


def _enc_str(text: str) -> bytes:
    raw = text.encode("utf-8")
    return struct.pack("!H", len(raw)) + raw


def connack(session_present: bool, code: int, v5: bool = False, properties: bytes = b"") -> bytes:
    """CONNACK with the session-present flag and a return (3.1.1) or reason (5) code."""
    body = bytes((1 if session_present else 0, code))
    if v5:
        body += pr.block(properties)
    return _frame(p.CONNACK << 4, body)


def publish(topic: str, payload: bytes, qos: int = 0, retain: bool = False,
            packet_id: int | None = None, dup: bool = False, properties: bytes | None = None) -> bytes:
    """PUBLISH; packet_id is required for QoS 1 and 2; `properties` (raw) makes it MQTT 5."""
    first = (p.PUBLISH << 4) | (qos << 1) | (0x08 if dup else 0) | (0x01 if retain else 0)
    head = _enc_str(topic)
    if qos:
        if not packet_id:
            raise ValueError("QoS 1 and 2 need a packet identifier")
        head += struct.pack("!H", packet_id)
    if properties is not None:
        head += pr.block(properties)
    return _frame(first, head + payload)


def puback(packet_id: int) -> bytes:
    """PUBACK (success: the same two bytes in 3.1.1 and 5)."""
    return struct.pack("!BBH", p.PUBACK << 4, 2, packet_id)


def pubrec(packet_id: int) -> bytes:
    """PUBREC for a QoS 2 PUBLISH."""
    return struct.pack("!BBH", p.PUBREC << 4, 2, packet_id)


def pubcomp(packet_id: int) -> bytes:
    """PUBCOMP answering a PUBREL."""
    return struct.pack("!BBH", p.PUBCOMP << 4, 2, packet_id)


def suback(packet_id: int, codes: list[int], v5: bool = False) -> bytes:
    """SUBACK: one granted QoS (or failure code) per requested filter."""
    body = struct.pack("!H", packet_id) + (pr.block(b"") if v5 else b"") + bytes(codes)
    return _frame(p.SUBACK << 4, body)


def unsuback(packet_id: int, codes: list[int] | None = None, v5: bool = False) -> bytes:
    """UNSUBACK; MQTT 5 carries one reason code per filter."""
    body = struct.pack("!H", packet_id)
    if v5:
        body += pr.block(b"") + bytes(codes or [])
    return _frame(p.UNSUBACK << 4, body)


def connect(client_id: str, keepalive: int = 60, clean_session: bool = True,
            will: p.Will | None = None, level: int = 4) -> bytes:
    """CONNECT (for tests and tools; the broker never sends one)."""
    v5 = level == p.MQTT_5
    flags = 0x02 if clean_session else 0
    payload = _enc_str(client_id)
    if will is not None:
        flags |= 0x04 | (will.qos << 3) | (0x20 if will.retain else 0)
        if v5:
            payload += pr.block(will.properties)
        payload += _enc_str(will.topic) + struct.pack("!H", len(will.payload)) + will.payload
    name = "MQTT" if level >= 4 else "MQIsdp"
    head = _enc_str(name) + struct.pack("!BBH", level, flags, keepalive)
    if v5:
        head += pr.block(b"")
    return _frame(p.CONNECT << 4, head + payload)


def subscribe(packet_id: int, topics: list[tuple[str, int]], v5: bool = False) -> bytes:
    """SUBSCRIBE (for tests and tools); the int is the QoS / MQTT 5 options byte."""
    body = struct.pack("!H", packet_id) + (pr.block(b"") if v5 else b"")
    body += b"".join(_enc_str(t) + bytes((q,)) for t, q in topics)
    return _frame((p.SUBSCRIBE << 4) | 2, body)
