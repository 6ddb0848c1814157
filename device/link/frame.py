"""Link frames on the wire, host side: `Frame`, and the sans-IO decoder interface.

Theory of operation
-------------------
On the wire a frame is ``0x00 + COBS(body) + 0x00``; the body is

=========  ======  =====  ==========================================================
offset     field   type   meaning
=========  ======  =====  ==========================================================
0          version u8     protocol major version of the sender
1          type    u8     message type (`device.link.messages.MsgType`)
2          seq     u8     request sequence number, or the MCU's event counter
3          payload bytes  0..MAX_PAYLOAD bytes, layout set by the type
len - 4    crc     u32    little-endian CRC-32 (zlib/binascii) of version..payload
=========  ======  =====  ==========================================================

One codec for both ends: COBS, the layout and the decoding rules are the
firmware's own modules (`p2mfw.cobs`, `p2mfw.frame`, MicroPython-compatible,
shipped in the same wheel), which this module wraps with typed values.
`FrameDecoder` is sans-IO in the h11 manner: `receive_data` only buffers,
`next_frame` returns a `Frame` or `NEED_DATA`. Everything between two 0x00 bytes
is one candidate; a bad candidate is counted (`cobs_errors`, `crc_errors`,
`oversize`, and its bytes in `garbage_bytes`) and skipped. It never raises on
the peer's bytes, and 0x00 always resynchronises it, so garbage cannot swallow
the next good frame.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass

from p2mfw import frame as _wire

from device.errors import LocalProtocolError

DELIM: int = _wire.DELIM
OFF_VERSION: int = _wire.OFF_VERSION
OFF_TYPE: int = _wire.OFF_TYPE
OFF_SEQ: int = _wire.OFF_SEQ
HEADER_LEN: int = _wire.HEADER_LEN
CRC_LEN: int = _wire.CRC_LEN
MIN_BODY: int = _wire.MIN_BODY
MAX_FRAME: int = _wire.MAX_FRAME
"""Bytes on the wire, both delimiters included."""
MAX_ENCODED: int = _wire.MAX_ENCODED
MAX_BODY: int = _wire.MAX_BODY
MAX_PAYLOAD: int = _wire.MAX_PAYLOAD
"""246: the body then fits in one COBS block."""


class NeedData(enum.Enum):
    """The decoder has no complete item yet: feed it more bytes."""

    NEED_DATA = "NEED_DATA"


NEED_DATA = NeedData.NEED_DATA


@dataclass(frozen=True)
class Frame:
    """One checked frame: header fields, payload, and the CRC it arrived with."""

    version: int
    type: int
    seq: int
    payload: bytes = b""
    crc: int = 0


def encode_frame(version: int, mtype: int, seq: int, payload: bytes = b"") -> bytes:
    """Wire bytes of one frame; LocalProtocolError if it cannot be framed."""
    if len(payload) > MAX_PAYLOAD:
        raise LocalProtocolError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    for name, v in (("version", version), ("type", mtype), ("seq", seq)):
        if not 0 <= v <= 0xFF:
            raise LocalProtocolError(f"{name} {v} does not fit in a byte")
    return bytes(_wire.encode_frame(version, mtype, seq, bytes(payload)))


class FrameDecoder:
    """Bytes in, frames out; counts and skips whatever is not a frame."""

    def __init__(self) -> None:
        self._chunks: deque[bytes] = deque()
        self._ready: deque[Frame] = deque()
        self._wire = _wire.FrameDecoder()

    def stats(self) -> dict[str, int]:
        return {k: int(v) for k, v in self._wire.stats().items()}

    @property
    def frames_ok(self) -> int:
        return int(self._wire.frames_ok)

    @property
    def crc_errors(self) -> int:
        return int(self._wire.crc_errors)

    @property
    def cobs_errors(self) -> int:
        return int(self._wire.cobs_errors)

    @property
    def oversize(self) -> int:
        return int(self._wire.oversize)

    @property
    def garbage_bytes(self) -> int:
        return int(self._wire.garbage_bytes)

    def discard_partial(self) -> None:
        """Forget buffered bytes and any half-received frame (the port was reopened)."""
        self._chunks.clear()
        self._ready.clear()
        self._wire.discard_partial()

    def receive_data(self, data: bytes) -> None:
        """Buffer `data`; nothing is parsed until `next_frame`."""
        if data:
            self._chunks.append(bytes(data))

    def next_frame(self) -> Frame | NeedData:
        """The next good frame, or NEED_DATA when the buffered bytes hold none."""
        while not self._ready and self._chunks:
            for version, mtype, seq, payload, crc in self._wire.feed(self._chunks.popleft()):
                self._ready.append(Frame(version, mtype, seq, bytes(payload), crc))
        if self._ready:
            return self._ready.popleft()
        return NEED_DATA
