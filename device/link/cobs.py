"""Consistent Overhead Byte Stuffing (COBS), host side.

COBS rewrites bytes so that they contain no 0x00, which the link uses as its
frame delimiter. Each block is a code byte ``c`` (1..255) followed by ``c - 1``
data bytes and, unless ``c == 0xFF`` or the block ends the input, an implied 0x00.
Overhead: at most one byte per 254. The firmware has its own implementation
(firmware/p2mfw/cobs.py); both are checked against tests/vectors/link_vectors.json.
"""

from __future__ import annotations

BLOCK = 254
"""Longest run of non-zero bytes that one code byte covers."""


class CobsError(ValueError):
    """Bytes between two delimiters that no COBS encoder could have produced."""


def encode(data: bytes) -> bytes:
    """Return the COBS encoding of `data`; the result contains no 0x00."""
    out = bytearray()
    parts = bytes(data).split(b"\x00")
    for i, part in enumerate(parts):
        start = 0
        while len(part) - start >= BLOCK:
            out.append(0xFF)
            out += part[start : start + BLOCK]
            start += BLOCK
        if i == len(parts) - 1 and part and start == len(part):
            break  # input ends with a full 0xFF block: no empty block after it
        out.append(len(part) - start + 1)
        out += part[start:]
    return bytes(out)


def decode(data: bytes) -> bytes:
    """Invert `encode`; raise CobsError on malformed input."""
    data = bytes(data)
    if not data:
        raise CobsError("empty COBS block")
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        code = data[i]
        if code == 0:
            raise CobsError("0x00 inside a COBS block")
        end = i + code
        if end > n:
            raise CobsError("COBS block runs past the end")
        chunk = data[i + 1 : end]
        if 0 in chunk:
            raise CobsError("0x00 inside a COBS block")
        out += chunk
        i = end
        if code != 0xFF and i < n:
            out.append(0)
    return bytes(out)
