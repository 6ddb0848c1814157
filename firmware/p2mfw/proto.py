"""Link messages: message types, the typed value codec, payload layouts (firmware and host).

Theory of operation
-------------------
Every frame carries one message; its type byte says which (see docs/protocol.md):

    HELLO      0x01  host -> MCU   u8 major, u8 minor, u16 max_frame
    HELLO_ACK  0x02  MCU -> host   u8 major, u8 minor, u16 max_frame, u32 boot_id,
                                   value {"fw": str, "caps": [str, ...]}
    REQUEST    0x03  host -> MCU   u8 len + method (UTF-8), value args (map or none)
    RESPONSE   0x04  MCU -> host   value result (map or none)
    ERROR      0x05  MCU -> host   u8 len + code (ASCII), message (UTF-8, rest of payload)
    EVENT      0x06  MCU -> host   u8 len + name (UTF-8), value data

HELLO's payload and HELLO_ACK's 8-byte head never change between protocol
versions, so two peers of different major versions can still tell each other so.

A *value* is one tag byte and its body (little-endian, varints are LEB128):

    0x00 none   0x01 false   0x02 true
    0x03 int    zigzag varint
    0x04 f32    4 bytes      (used when the float survives a round trip through f32)
    0x05 f64    8 bytes
    0x06 str    varint length + UTF-8
    0x07 bytes  varint length + raw bytes
    0x08 list   varint count + values
    0x09 map    varint count + (varint length + UTF-8 key, value) pairs, keys sorted

Encoding what the protocol cannot carry and decoding malformed input both raise
ProtoError (a ValueError); callers catch it. The host's `device.link.messages`
uses this same module and wraps its results in frozen message types.
MicroPython-compatible (no typing, no dataclasses).
"""

import struct

PROTO_MAJOR = 1
PROTO_MINOR = 0

HELLO = 0x01
HELLO_ACK = 0x02
REQUEST = 0x03
RESPONSE = 0x04
ERROR = 0x05
EVENT = 0x06

T_NONE = 0x00
T_FALSE = 0x01
T_TRUE = 0x02
T_INT = 0x03
T_F32 = 0x04
T_F64 = 0x05
T_STR = 0x06
T_BYTES = 0x07
T_LIST = 0x08
T_MAP = 0x09

MAX_DEPTH = 8
MAX_VARINT_BYTES = 10

# Error codes the link itself uses (drivers add their own, e.g. "i2c_nack").
E_HELLO_REQUIRED = "hello_required"
E_UNKNOWN_METHOD = "unknown_method"
E_BAD_REQUEST = "bad_request"
E_TOO_LARGE = "too_large"
E_IO = "io_error"
E_INTERNAL = "internal"

EV_BOOT = "link.boot"


class ProtoError(ValueError):
    """A payload does not follow the message layout."""


# -- varints -----------------------------------------------------------------
def _put_varint(out, n):
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return


def _get_varint(buf, pos):
    result = 0
    shift = 0
    for _ in range(MAX_VARINT_BYTES):
        if pos >= len(buf):
            raise ProtoError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
    raise ProtoError("varint too long")


# -- values ------------------------------------------------------------------
def _put_float(out, x):
    try:
        packed = struct.pack("<f", x)
        if struct.unpack("<f", packed)[0] == x:
            out.append(T_F32)
            out += packed
            return
    except OverflowError:
        pass
    out.append(T_F64)
    out += struct.pack("<d", x)


def _put_str(out, s):
    raw = s.encode("utf-8")
    _put_varint(out, len(raw))
    out += raw


def put_value(out, v, depth=0):
    """Append the encoding of `v` to the bytearray `out`; ValueError if unsupported."""
    if depth > MAX_DEPTH:
        raise ProtoError("value nested too deep")
    if v is None:
        out.append(T_NONE)
    elif v is True:
        out.append(T_TRUE)
    elif v is False:
        out.append(T_FALSE)
    elif isinstance(v, int):
        if v >= (1 << 63) or v < -(1 << 63):
            raise ProtoError("int out of the 64-bit range")
        out.append(T_INT)
        _put_varint(out, (v << 1) if v >= 0 else ((-v) << 1) - 1)
    elif isinstance(v, float):
        _put_float(out, v)
    elif isinstance(v, str):
        out.append(T_STR)
        _put_str(out, v)
    elif isinstance(v, (bytes, bytearray)):
        out.append(T_BYTES)
        _put_varint(out, len(v))
        out += v
    elif isinstance(v, (list, tuple)):
        out.append(T_LIST)
        _put_varint(out, len(v))
        for item in v:
            put_value(out, item, depth + 1)
    elif isinstance(v, dict):
        out.append(T_MAP)
        _put_varint(out, len(v))
        for k in v:
            if not isinstance(k, str):
                raise ProtoError("map keys must be str")
        for k in sorted(v):  # canonical order: MicroPython dicts are unordered
            _put_str(out, k)
            put_value(out, v[k], depth + 1)
    else:
        raise ProtoError(f"cannot encode a {type(v).__name__}")


def encode_value(v):
    out = bytearray()
    put_value(out, v)
    return bytes(out)


def _get_bytes(buf, pos):
    n, pos = _get_varint(buf, pos)
    end = pos + n
    if end > len(buf):
        raise ProtoError("truncated string")
    return bytes(buf[pos:end]), end


def _get_str(buf, pos):
    raw, pos = _get_bytes(buf, pos)
    try:
        return raw.decode("utf-8"), pos
    except UnicodeError:
        raise ProtoError("string is not UTF-8") from None


def get_value(buf, pos=0, depth=0):
    """Decode one value at `pos`; return (value, next_pos)."""
    if depth > MAX_DEPTH:
        raise ProtoError("value nested too deep")
    if pos >= len(buf):
        raise ProtoError("missing value")
    tag = buf[pos]
    pos += 1
    if tag == T_NONE:
        return None, pos
    if tag == T_FALSE:
        return False, pos
    if tag == T_TRUE:
        return True, pos
    if tag == T_INT:
        z, pos = _get_varint(buf, pos)
        return ((z >> 1) if not z & 1 else -((z + 1) >> 1)), pos
    if tag == T_F32 or tag == T_F64:
        size = 4 if tag == T_F32 else 8
        if pos + size > len(buf):
            raise ProtoError("truncated float")
        return struct.unpack("<f" if size == 4 else "<d", bytes(buf[pos:pos + size]))[0], pos + size
    if tag == T_STR:
        return _get_str(buf, pos)
    if tag == T_BYTES:
        return _get_bytes(buf, pos)
    if tag == T_LIST:
        n, pos = _get_varint(buf, pos)
        if n > len(buf):
            raise ProtoError("list longer than its frame")
        items = []
        for _ in range(n):
            item, pos = get_value(buf, pos, depth + 1)
            items.append(item)
        return items, pos
    if tag == T_MAP:
        n, pos = _get_varint(buf, pos)
        if n > len(buf):
            raise ProtoError("map longer than its frame")
        d = {}
        for _ in range(n):
            k, pos = _get_str(buf, pos)
            d[k], pos = get_value(buf, pos, depth + 1)
        return d, pos
    raise ProtoError(f"unknown value tag 0x{tag:02x}")


def decode_value(buf):
    """Decode a payload that is exactly one value."""
    v, pos = get_value(buf, 0)
    if pos != len(buf):
        raise ProtoError("trailing bytes after value")
    return v


# -- message payloads ----------------------------------------------------------
def _short_str(s):
    raw = s.encode("utf-8")
    if len(raw) > 255:
        raise ProtoError("name longer than 255 bytes")
    return bytes([len(raw)]) + raw


def get_short_str(buf, pos=0):
    """The u8-length-prefixed UTF-8 name at `pos`; return (name, next_pos)."""
    if pos >= len(buf):
        raise ProtoError("missing name")
    end = pos + 1 + buf[pos]
    if end > len(buf):
        raise ProtoError("truncated name")
    try:
        return bytes(buf[pos + 1:end]).decode("utf-8"), end
    except UnicodeError:
        raise ProtoError("name is not UTF-8") from None


def hello_payload(major, minor, max_frame):
    return struct.pack("<BBH", major, minor, max_frame)


def parse_hello(payload):
    if len(payload) < 4:
        raise ProtoError("HELLO shorter than 4 bytes")
    return struct.unpack("<BBH", bytes(payload[:4]))


def hello_ack_payload(major, minor, max_frame, boot_id, fw_version, caps):
    return struct.pack("<BBHI", major, minor, max_frame, boot_id & 0xFFFFFFFF) + encode_value(
        {"fw": fw_version, "caps": list(caps)}
    )


def request_payload(method, args):
    return _short_str(method) + encode_value(args)


def parse_request(payload):
    method, pos = get_short_str(payload, 0)
    args, pos = get_value(payload, pos)
    if pos != len(payload):
        raise ProtoError("trailing bytes after request args")
    if args is not None and not isinstance(args, dict):
        raise ProtoError("request args must be a map")
    return method, args


def whole_value(buf, pos=0):
    """The one value that fills `buf` from `pos` to its end."""
    v, pos = get_value(buf, pos)
    if pos != len(buf):
        raise ProtoError("trailing bytes after the value")
    return v


def parse_response(payload):
    result = whole_value(payload)
    if result is not None and not isinstance(result, dict):
        raise ProtoError("response result is not a map")
    return result


def parse_error(payload):
    code, pos = get_short_str(payload, 0)
    return code, bytes(payload[pos:]).decode("utf-8", "replace")


def parse_event(payload):
    name, pos = get_short_str(payload, 0)
    return name, whole_value(payload, pos)


def response_payload(result):
    return encode_value(result)


def error_payload(code, message):
    return _short_str(code) + str(message).encode("utf-8")


def event_payload(name, data):
    return _short_str(name) + encode_value(data)
