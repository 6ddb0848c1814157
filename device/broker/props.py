"""MQTT 5 properties as the embedded broker needs them: walk, filter, forward. Pure.

A property block is a variable-byte-integer length followed by properties,
each an identifier byte and a value whose encoding the identifier fixes
(byte, two- or four-byte integer, variable-byte integer, UTF-8 string, binary
data, or a UTF-8 string pair). The broker does not interpret most of them: it
checks that a block is well-formed, reads the few it acts on, and forwards the
raw bytes of the rest (response topic, correlation data, user properties,
content type, message expiry, payload format) to MQTT 5 receivers.
"""

from __future__ import annotations

import struct

# Property identifiers used by name here.
SESSION_EXPIRY = 0x11
ASSIGNED_CLIENT_ID = 0x12
WILL_DELAY = 0x18
SUBSCRIPTION_ID = 0x0B
TOPIC_ALIAS = 0x23
SUBSCRIPTION_IDS_AVAILABLE = 0x29
SHARED_SUBS_AVAILABLE = 0x2A

_BYTE = frozenset({0x01, 0x17, 0x19, 0x24, 0x25, 0x28, 0x29, 0x2A})
_U16 = frozenset({0x13, 0x21, 0x22, 0x23})
_U32 = frozenset({0x02, 0x11, 0x18, 0x27})
_STRING = frozenset({0x03, 0x08, 0x12, 0x15, 0x1A, 0x1C, 0x1F})
_BINARY = frozenset({0x09, 0x16})
_VARINT = frozenset({0x0B})
_PAIR = frozenset({0x26})


class PropertyError(ValueError):
    """Internal: a property block is malformed (the packet decoder reports it)."""


def read_varint(data: bytes, pos: int) -> tuple[int, int]:
    """A variable-byte integer at `pos`: (value, position after it)."""
    value, mult = 0, 1
    for _ in range(4):
        if pos >= len(data):
            raise PropertyError("truncated variable-byte integer")
        byte = data[pos]
        pos += 1
        value += (byte & 0x7F) * mult
        if not byte & 0x80:
            return value, pos
        mult *= 128
    raise PropertyError("variable-byte integer longer than 4 bytes")


def encode_varint(n: int) -> bytes:
    """`n` as a variable-byte integer."""
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def read_block(data: bytes, pos: int) -> tuple[bytes, int]:
    """The property block at `pos` (without its length): (raw properties, position after)."""
    length, pos = read_varint(data, pos)
    end = pos + length
    if end > len(data):
        raise PropertyError("property block longer than the packet")
    raw = bytes(data[pos:end])
    split(raw)  # validate
    return raw, end


def split(raw: bytes) -> list[tuple[int, bytes]]:
    """Each property of a block as (identifier, raw bytes including the identifier)."""
    out: list[tuple[int, bytes]] = []
    pos = 0
    while pos < len(raw):
        start = pos
        ident, pos = read_varint(raw, pos)
        if ident in _BYTE:
            pos += 1
        elif ident in _U16:
            pos += 2
        elif ident in _U32:
            pos += 4
        elif ident in _VARINT:
            _, pos = read_varint(raw, pos)
        elif ident in _STRING or ident in _BINARY:
            pos = _skip_len16(raw, pos)
        elif ident in _PAIR:
            pos = _skip_len16(raw, _skip_len16(raw, pos))
        else:
            raise PropertyError(f"unknown property identifier {ident:#x}")
        if pos > len(raw):
            raise PropertyError(f"truncated property {ident:#x}")
        out.append((ident, raw[start:pos]))
    return out


def _skip_len16(raw: bytes, pos: int) -> int:
    if pos + 2 > len(raw):
        raise PropertyError("truncated length prefix in a property")
    (n,) = struct.unpack_from("!H", raw, pos)
    return pos + 2 + n


def without(raw: bytes, *idents: int) -> bytes:
    """The block with every property whose identifier is in `idents` removed."""
    if not raw:
        return raw
    return b"".join(chunk for ident, chunk in split(raw) if ident not in idents)


def has(raw: bytes, ident: int) -> bool:
    """True when the (valid) block contains property `ident`."""
    return any(i == ident for i, _ in split(raw)) if raw else False


def block(raw: bytes) -> bytes:
    """A property block ready to send: length prefix + raw properties."""
    return encode_varint(len(raw)) + raw


def byte_prop(ident: int, value: int) -> bytes:
    """One single-byte property."""
    return bytes((ident, value))


def string_prop(ident: int, text: str) -> bytes:
    """One UTF-8 string property."""
    data = text.encode("utf-8")
    return bytes((ident,)) + struct.pack("!H", len(data)) + data
