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

`decode_message` never raises on the peer's bytes: it returns `Malformed` with a
reason. Encoding something the protocol cannot carry is our bug: LocalProtocolError.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass, field
from typing import Any

from device.errors import LocalProtocolError
from device.link.frame import MAX_PAYLOAD, Frame, encode_frame

PROTO_MAJOR = 1
PROTO_MINOR = 0

EV_BOOT = "link.boot"
"""Event the firmware sends on its first poll after (re)boot."""

E_HELLO_REQUIRED = "hello_required"
E_UNKNOWN_METHOD = "unknown_method"
E_BAD_REQUEST = "bad_request"
E_TOO_LARGE = "too_large"
E_IO = "io_error"
E_INTERNAL = "internal"


class MsgType(enum.IntEnum):
    """The frame type byte."""

    HELLO = 0x01
    HELLO_ACK = 0x02
    REQUEST = 0x03
    RESPONSE = 0x04
    ERROR = 0x05
    EVENT = 0x06


class Tag(enum.IntEnum):
    """The first byte of an encoded value."""

    NONE = 0x00
    FALSE = 0x01
    TRUE = 0x02
    INT = 0x03
    F32 = 0x04
    F64 = 0x05
    STR = 0x06
    BYTES = 0x07
    LIST = 0x08
    MAP = 0x09


MAX_DEPTH = 8
MAX_VARINT_BYTES = 10
_F32 = struct.Struct("<f")
_F64 = struct.Struct("<d")
_HELLO = struct.Struct("<BBH")
_HELLO_ACK = struct.Struct("<BBHI")


class _Malformed(ValueError):
    """Internal: the peer's payload does not parse (turned into `Malformed`)."""


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
    args: dict[str, Any] | None = None


@dataclass(frozen=True)
class Response:
    """MCU -> host: the result of the request with the same seq."""

    result: dict[str, Any] | None = None


@dataclass(frozen=True)
class ErrorReply:
    """MCU -> host: the request with the same seq failed."""

    code: str
    message: str = ""


@dataclass(frozen=True)
class Event:
    """MCU -> host, unsolicited: a reading, a radio event, an RDS block, a boot notice."""

    name: str
    data: Any = None


@dataclass(frozen=True)
class Malformed:
    """A frame whose CRC was good but whose message did not parse (the peer's fault)."""

    type: int
    seq: int
    reason: str = field(default="")


Message = Hello | HelloAck | Request | Response | ErrorReply | Event


# -- values ----------------------------------------------------------------------
def _put_varint(out: bytearray, n: int) -> None:
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return


def _get_varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    for _ in range(MAX_VARINT_BYTES):
        if pos >= len(buf):
            raise _Malformed("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
    raise _Malformed("varint longer than 10 bytes")


def _put_str(out: bytearray, s: str) -> None:
    raw = s.encode("utf-8")
    _put_varint(out, len(raw))
    out += raw


def put_value(out: bytearray, v: object, depth: int = 0) -> None:
    """Append the encoding of `v`; LocalProtocolError if the link cannot carry it."""
    if depth > MAX_DEPTH:
        raise LocalProtocolError("value nested deeper than 8 levels")
    if v is None:
        out.append(Tag.NONE)
    elif v is True:
        out.append(Tag.TRUE)
    elif v is False:
        out.append(Tag.FALSE)
    elif isinstance(v, int):
        if not -(1 << 63) <= v < (1 << 63):
            raise LocalProtocolError(f"int {v} is outside the 64-bit range")
        out.append(Tag.INT)
        _put_varint(out, (v << 1) if v >= 0 else ((-v) << 1) - 1)
    elif isinstance(v, float):
        try:
            packed = _F32.pack(v)
            if _F32.unpack(packed)[0] == v:
                out.append(Tag.F32)
                out += packed
                return
        except OverflowError:
            pass
        out.append(Tag.F64)
        out += _F64.pack(v)
    elif isinstance(v, str):
        out.append(Tag.STR)
        _put_str(out, v)
    elif isinstance(v, bytes | bytearray):
        out.append(Tag.BYTES)
        _put_varint(out, len(v))
        out += v
    elif isinstance(v, list | tuple):
        out.append(Tag.LIST)
        _put_varint(out, len(v))
        for item in v:
            put_value(out, item, depth + 1)
    elif isinstance(v, dict):
        out.append(Tag.MAP)
        _put_varint(out, len(v))
        for k in v:
            if not isinstance(k, str):
                raise LocalProtocolError(f"map key {k!r} is not a str")
        for k in sorted(v):  # canonical order, as the firmware (whose dicts are unordered)
            _put_str(out, k)
            put_value(out, v[k], depth + 1)
    else:
        raise LocalProtocolError(f"the link cannot carry a {type(v).__name__}")


def encode_value(v: object) -> bytes:
    out = bytearray()
    put_value(out, v)
    return bytes(out)


def _get_bytes(buf: bytes, pos: int) -> tuple[bytes, int]:
    n, pos = _get_varint(buf, pos)
    if pos + n > len(buf):
        raise _Malformed("truncated string")
    return buf[pos : pos + n], pos + n


def _get_str(buf: bytes, pos: int) -> tuple[str, int]:
    raw, pos = _get_bytes(buf, pos)
    try:
        return raw.decode("utf-8"), pos
    except UnicodeDecodeError:
        raise _Malformed("string is not UTF-8") from None


def get_value(buf: bytes, pos: int = 0, depth: int = 0) -> tuple[Any, int]:
    """Decode one value at `pos`; return (value, next position)."""
    if depth > MAX_DEPTH:
        raise _Malformed("value nested deeper than 8 levels")
    if pos >= len(buf):
        raise _Malformed("missing value")
    tag = buf[pos]
    pos += 1
    if tag == Tag.NONE:
        return None, pos
    if tag == Tag.FALSE:
        return False, pos
    if tag == Tag.TRUE:
        return True, pos
    if tag == Tag.INT:
        z, pos = _get_varint(buf, pos)
        return ((z >> 1) if not z & 1 else -((z + 1) >> 1)), pos
    if tag in (Tag.F32, Tag.F64):
        st = _F32 if tag == Tag.F32 else _F64
        if pos + st.size > len(buf):
            raise _Malformed("truncated float")
        return st.unpack_from(buf, pos)[0], pos + st.size
    if tag == Tag.STR:
        return _get_str(buf, pos)
    if tag == Tag.BYTES:
        return _get_bytes(buf, pos)
    if tag == Tag.LIST:
        n, pos = _get_varint(buf, pos)
        if n > len(buf):
            raise _Malformed("list longer than its frame")
        items = []
        for _ in range(n):
            item, pos = get_value(buf, pos, depth + 1)
            items.append(item)
        return items, pos
    if tag == Tag.MAP:
        n, pos = _get_varint(buf, pos)
        if n > len(buf):
            raise _Malformed("map longer than its frame")
        d: dict[str, Any] = {}
        for _ in range(n):
            k, pos = _get_str(buf, pos)
            d[k], pos = get_value(buf, pos, depth + 1)
        return d, pos
    raise _Malformed(f"unknown value tag 0x{tag:02x}")


def _decode_whole(buf: bytes, pos: int = 0) -> Any:
    v, pos = get_value(buf, pos)
    if pos != len(buf):
        raise _Malformed("trailing bytes after the value")
    return v


def decode_value(buf: bytes) -> Any:
    """Decode a buffer that holds exactly one value; ValueError if it does not."""
    return _decode_whole(bytes(buf))


# -- messages <-> frames -----------------------------------------------------------
def _short_str(s: str) -> bytes:
    raw = s.encode("utf-8")
    if len(raw) > 255:
        raise LocalProtocolError(f"name {s[:20]!r}... is longer than 255 bytes")
    return bytes((len(raw),)) + raw


def _get_short_str(buf: bytes, pos: int = 0) -> tuple[str, int]:
    if pos >= len(buf) or pos + 1 + buf[pos] > len(buf):
        raise _Malformed("truncated name")
    end = pos + 1 + buf[pos]
    try:
        return buf[pos + 1 : end].decode("utf-8"), end
    except UnicodeDecodeError:
        raise _Malformed("name is not UTF-8") from None


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
    except (_Malformed, struct.error, IndexError) as e:
        return Malformed(frame.type, frame.seq, str(e))


def _decode(frame: Frame) -> Message | Malformed:
    p = frame.payload
    t = frame.type
    if t == MsgType.HELLO_ACK:
        if len(p) < _HELLO_ACK.size:
            raise _Malformed("HELLO_ACK shorter than 8 bytes")
        major, minor, max_frame, boot_id = _HELLO_ACK.unpack_from(p)
        fw = "?"
        caps: tuple[str, ...] = ()
        try:
            info = _decode_whole(p, _HELLO_ACK.size)
        except _Malformed:
            if major == PROTO_MAJOR:
                raise
            info = None  # another major: only the 8-byte head is promised to parse
        if isinstance(info, dict):
            fw = str(info.get("fw", "?"))
            caps = tuple(str(c) for c in info.get("caps", ()) or ())
        elif major == PROTO_MAJOR:
            raise _Malformed("HELLO_ACK info is not a map")
        return HelloAck(major, minor, max_frame, boot_id, fw, caps)
    if frame.version != PROTO_MAJOR:
        raise _Malformed(f"protocol major {frame.version} in a {t:#04x} frame")
    if t == MsgType.HELLO:
        if len(p) < _HELLO.size:
            raise _Malformed("HELLO shorter than 4 bytes")
        return Hello(*_HELLO.unpack_from(p))
    if t == MsgType.REQUEST:
        method, pos = _get_short_str(p)
        args = _decode_whole(p, pos)
        if args is not None and not isinstance(args, dict):
            raise _Malformed("request args are not a map")
        return Request(method, args)
    if t == MsgType.RESPONSE:
        result = _decode_whole(p)
        if result is not None and not isinstance(result, dict):
            raise _Malformed("response result is not a map")
        return Response(result)
    if t == MsgType.ERROR:
        code, pos = _get_short_str(p)
        return ErrorReply(code, p[pos:].decode("utf-8", "replace"))
    if t == MsgType.EVENT:
        name, pos = _get_short_str(p)
        return Event(name, _decode_whole(p, pos))
    raise _Malformed(f"unknown message type {t:#04x}")


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
