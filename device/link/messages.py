"""Link messages, host side: types, the typed value codec, and message <-> frame.

Theory of operation
-------------------
Each frame carries one message; the frame's type byte says which:

==========  ====  =========  ================================================================
message     type  direction  payload
==========  ====  =========  ================================================================
HELLO       0x01  host->MCU  u8 major, u8 minor, u16 max_frame
HELLO_ACK   0x02  MCU->host  u8 major, u8 minor, u16 max_frame, u32 boot_id,
                             value map {"fw": str, "caps": [str]}
REQUEST     0x03  host->MCU  u8 length + method (UTF-8), value args (map or none)
RESPONSE    0x04  MCU->host  value result (map or none)
ERROR       0x05  MCU->host  u8 length + code (ASCII), message (UTF-8, rest of payload)
EVENT       0x06  MCU->host  u8 length + name (UTF-8), value data
==========  ====  =========  ================================================================

HELLO's payload and HELLO_ACK's 8-byte head are frozen across protocol versions,
so peers of different major versions can still say so to each other.

A value is a tag byte then its body (little-endian; varints are unsigned LEB128):
0x00 none, 0x01 false, 0x02 true, 0x03 int (zigzag varint), 0x04 f32, 0x05 f64
(f32 whenever the float survives the round trip), 0x06 str (varint length +
UTF-8), 0x07 bytes (varint length + raw), 0x08 list (varint count + values),
0x09 map (varint count + (varint length + UTF-8 key, value) pairs, keys sorted).

One codec for both ends: the value codec and the payload layouts are the
firmware's `p2mfw.proto` (MicroPython-compatible, shipped in the same wheel);
this module gives them frozen, typed message values. `decode_message` never
raises on the peer's bytes: it returns `Malformed` with a reason. Encoding
something the protocol cannot carry is our bug: LocalProtocolError.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass, field
from typing import TypeAlias

from p2mfw import proto

from device.errors import LocalProtocolError
from device.link.frame import MAX_PAYLOAD, Frame, encode_frame

PROTO_MAJOR: int = proto.PROTO_MAJOR
PROTO_MINOR: int = proto.PROTO_MINOR

EV_BOOT: str = proto.EV_BOOT
"""Event the firmware sends on its first poll after (re)boot."""

E_HELLO_REQUIRED: str = proto.E_HELLO_REQUIRED
E_UNKNOWN_METHOD: str = proto.E_UNKNOWN_METHOD
E_BAD_REQUEST: str = proto.E_BAD_REQUEST
E_TOO_LARGE: str = proto.E_TOO_LARGE
E_IO: str = proto.E_IO
E_INTERNAL: str = proto.E_INTERNAL


class MsgType(enum.IntEnum):
    """The frame type byte."""

    HELLO = proto.HELLO
    HELLO_ACK = proto.HELLO_ACK
    REQUEST = proto.REQUEST
    RESPONSE = proto.RESPONSE
    ERROR = proto.ERROR
    EVENT = proto.EVENT


class Tag(enum.IntEnum):
    """The first byte of an encoded value."""

    NONE = proto.T_NONE
    FALSE = proto.T_FALSE
    TRUE = proto.T_TRUE
    INT = proto.T_INT
    F32 = proto.T_F32
    F64 = proto.T_F64
    STR = proto.T_STR
    BYTES = proto.T_BYTES
    LIST = proto.T_LIST
    MAP = proto.T_MAP


LinkValue: TypeAlias = (
    "bool | int | float | str | bytes | list[LinkValue] | dict[str, LinkValue] | None"
)
"""What a link value can be (the tags above)."""
LinkMap: TypeAlias = "dict[str, LinkValue]"
"""A request's args, a response's result."""

MAX_DEPTH: int = proto.MAX_DEPTH
_HELLO = struct.Struct("<BBH")
_HELLO_ACK = struct.Struct("<BBHI")


# -- messages ------------------------------------------------------------------
@dataclass(frozen=True)
class Hello:
    """Host -> MCU: opens a session and states the host's protocol version."""

    major: int = PROTO_MAJOR
    minor: int = PROTO_MINOR
    max_frame: int = 256


@dataclass(frozen=True)
class HelloAck:
    """MCU -> host: who the firmware is and what it can do."""

    major: int
    minor: int
    max_frame: int
    boot_id: int
    fw_version: str
    caps: tuple[str, ...] = ()


@dataclass(frozen=True)
class Request:
    """Host -> MCU: call `method` with `args`."""

    method: str
    args: LinkMap | None = None


@dataclass(frozen=True)
class Response:
    """MCU -> host: the result of the request with the same seq."""

    result: LinkMap | None = None


@dataclass(frozen=True)
class ErrorReply:
    """MCU -> host: the request with the same seq failed."""

    code: str
    message: str = ""


@dataclass(frozen=True)
class Event:
    """MCU -> host, unsolicited: a reading, a radio event, an RDS block, a boot notice."""

    name: str
    data: LinkValue = None


@dataclass(frozen=True)
class Malformed:
    """A frame whose CRC was good but whose message did not parse (the peer's fault)."""

    type: int
    seq: int
    reason: str = field(default="")


Message = Hello | HelloAck | Request | Response | ErrorReply | Event


# -- values ----------------------------------------------------------------------
def put_value(out: bytearray, v: object) -> None:
    """Append the encoding of `v`; LocalProtocolError if the link cannot carry it."""
    try:
        proto.put_value(out, v)
    except proto.ProtoError as e:
        raise LocalProtocolError(f"the link cannot carry {v!r:.40}: {e}") from None


def encode_value(v: object) -> bytes:
    out = bytearray()
    put_value(out, v)
    return bytes(out)


def get_value(buf: bytes, pos: int = 0) -> tuple[LinkValue, int]:
    """Decode one value at `pos`; return (value, next position); ValueError if malformed."""
    value, end = proto.get_value(buf, pos)
    return value, int(end)


def decode_value(buf: bytes) -> LinkValue:
    """Decode a buffer that holds exactly one value; ValueError if it does not."""
    return proto.whole_value(bytes(buf))


# -- messages <-> frames -----------------------------------------------------------
def _short_str(s: str) -> bytes:
    raw = s.encode("utf-8")
    if len(raw) > 255:
        raise LocalProtocolError(f"name {s[:20]!r}... is longer than 255 bytes")
    return bytes((len(raw),)) + raw


def message_type(msg: Message) -> MsgType:
    return _TYPES[type(msg)]


def encode_payload(msg: Message) -> bytes:
    """The payload bytes of `msg` (without the frame header and CRC)."""
    if isinstance(msg, Hello):
        return _HELLO.pack(msg.major, msg.minor, msg.max_frame)
    if isinstance(msg, HelloAck):
        head = _HELLO_ACK.pack(msg.major, msg.minor, msg.max_frame, msg.boot_id)
        return head + encode_value({"fw": msg.fw_version, "caps": list(msg.caps)})
    if isinstance(msg, Request):
        return _short_str(msg.method) + encode_value(msg.args)
    if isinstance(msg, Response):
        return encode_value(msg.result)
    if isinstance(msg, ErrorReply):
        return _short_str(msg.code) + msg.message.encode("utf-8")
    if isinstance(msg, Event):
        return _short_str(msg.name) + encode_value(msg.data)
    raise LocalProtocolError(f"not a link message: {msg!r}")


def encode_message(msg: Message, seq: int, version: int = PROTO_MAJOR) -> bytes:
    """Wire bytes of `msg` in one frame; LocalProtocolError if it does not fit."""
    payload = encode_payload(msg)
    if len(payload) > MAX_PAYLOAD:
        raise LocalProtocolError(
            f"{type(msg).__name__} payload is {len(payload)} bytes, the link carries {MAX_PAYLOAD}"
        )
    return encode_frame(version, message_type(msg), seq, payload)


def decode_message(frame: Frame) -> Message | Malformed:
    """The message in a checked frame, or `Malformed` saying why not. Never raises."""
    try:
        return _decode(frame)
    except (ValueError, struct.error, IndexError) as e:  # proto.ProtoError is a ValueError
        return Malformed(frame.type, frame.seq, str(e))


def _hello_ack(p: bytes) -> HelloAck:
    if len(p) < _HELLO_ACK.size:
        raise proto.ProtoError("HELLO_ACK shorter than 8 bytes")
    major, minor, max_frame, boot_id = _HELLO_ACK.unpack_from(p)
    try:
        info = proto.whole_value(p, _HELLO_ACK.size)
    except ValueError:
        if major == PROTO_MAJOR:
            raise
        info = None  # another major: only the 8-byte head is promised to parse
    if isinstance(info, dict):
        fw = str(info.get("fw", "?"))
        caps = tuple(str(c) for c in info.get("caps", ()) or ())
        return HelloAck(major, minor, max_frame, boot_id, fw, caps)
    if major == PROTO_MAJOR:
        raise proto.ProtoError("HELLO_ACK info is not a map")
    return HelloAck(major, minor, max_frame, boot_id, "?", ())


def _decode(frame: Frame) -> Message | Malformed:
    p = frame.payload
    t = frame.type
    if t == MsgType.HELLO_ACK:
        return _hello_ack(p)
    if frame.version != PROTO_MAJOR:
        raise proto.ProtoError(f"protocol major {frame.version} in a {t:#04x} frame")
    if t == MsgType.HELLO:
        return Hello(*proto.parse_hello(p))
    if t == MsgType.REQUEST:
        return Request(*proto.parse_request(p))
    if t == MsgType.RESPONSE:
        return Response(proto.parse_response(p))
    if t == MsgType.ERROR:
        return ErrorReply(*proto.parse_error(p))
    if t == MsgType.EVENT:
        return Event(*proto.parse_event(p))
    raise proto.ProtoError(f"unknown message type {t:#04x}")


_TYPES: dict[type, MsgType] = {
    Hello: MsgType.HELLO,
    HelloAck: MsgType.HELLO_ACK,
    Request: MsgType.REQUEST,
    Response: MsgType.RESPONSE,
    ErrorReply: MsgType.ERROR,
    Event: MsgType.EVENT,
}

__all__ = [
    "PROTO_MAJOR",
    "PROTO_MINOR",
    "ErrorReply",
    "Event",
    "Hello",
    "HelloAck",
    "Malformed",
    "Message",
    "MsgType",
    "Request",
    "Response",
    "Tag",
    "decode_message",
    "decode_value",
    "encode_message",
    "encode_value",
]
