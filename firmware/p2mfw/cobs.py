"""Consistent Overhead Byte Stuffing (COBS) for the link framing (firmware and host).

COBS rewrites a byte string so that it contains no 0x00; the link then uses 0x00
as the frame delimiter. Each block starts with a code byte `c` (1..255): `c - 1`
data bytes follow, and, unless `c == 0xFF` or the block ends the input, an implied
0x00. The overhead is at most one byte per 254 bytes of data.

`encode` never fails. `decode` raises `CobsError` (a ValueError) on input that no
encoder could have produced; the frame decoder catches it and counts it.

MicroPython-compatible (no typing, no dataclasses); the host's `device.link` uses
this same module.
"""

BLOCK = 254  # longest run of non-zero data bytes one code byte can cover


class CobsError(ValueError):
    """The bytes between two delimiters are not a valid COBS encoding."""


def encode(data):
    """Return the COBS encoding of `data` (bytes-like); the result has no 0x00 byte."""
    out = bytearray()
    parts = bytes(data).split(b"\x00")
    last = len(parts) - 1
    for i, part in enumerate(parts):
        start = 0
        n = len(part)
        while n - start >= BLOCK:
            out.append(0xFF)
            out += part[start:start + BLOCK]
            start += BLOCK
        if i == last and n and start == n:
            break  # input ends with a full 0xFF block: no empty block after it
        out.append(n - start + 1)
        out += part[start:]
    return bytes(out)


def decode(data):
    """Return the bytes that `encode` turned into `data`; raise CobsError if malformed."""
    data = bytes(data)
    n = len(data)
    if n == 0:
        raise CobsError("empty COBS block")
    out = bytearray()
    i = 0
    while i < n:
        code = data[i]
        if code == 0:
            raise CobsError("0x00 inside a COBS block")
        end = i + code
        if end > n:
            raise CobsError("COBS block runs past the end")
        chunk = data[i + 1:end]
        if chunk.find(b"\x00") >= 0:
            raise CobsError("0x00 inside a COBS block")
        out += chunk
        i = end
        if code != 0xFF and i < n:
            out.append(0)
    return bytes(out)
