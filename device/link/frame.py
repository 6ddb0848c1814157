"""Link frames on the wire, host side: layout constants, `Frame`, encoder, streaming decoder.

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

`FrameDecoder` is sans-IO in the h11 manner: `receive_data` only buffers,
`next_frame` returns a `Frame` or `NEED_DATA`. Everything between two 0x00 bytes
is one candidate; a bad candidate is counted (`cobs_errors`, `crc_errors`,
`oversize`, and its bytes in `garbage_bytes`) and skipped. It never raises on
the peer's bytes, and 0x00 always resynchronises it, so garbage cannot swallow
the next good frame.
"""

from __future__ import annotations

import enum
import struct
import zlib
from collections import deque
from dataclasses import dataclass

from device.errors import LocalProtocolError
from device.link import cobs

DELIM = 0x00
OFF_VERSION = 0
OFF_TYPE = 1
OFF_SEQ = 2
HEADER_LEN = 3
CRC_LEN = 4
MIN_BODY = HEADER_LEN + CRC_LEN
MAX_FRAME = 256
"""Bytes on the wire, both delimiters included."""
MAX_ENCODED = MAX_FRAME - 2
MAX_BODY = MAX_ENCODED - 1
MAX_PAYLOAD = MAX_BODY - MIN_BODY
"""246: the body then fits in one COBS block."""
_CRC = struct.Struct("<I")


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


def crc32(data: bytes) -> int:
    return zlib.crc32(data) & 0xFFFFFFFF


def encode_frame(version: int, mtype: int, seq: int, payload: bytes = b"") -> bytes:
    """Wire bytes of one frame; LocalProtocolError if it cannot be framed."""
    if len(payload) > MAX_PAYLOAD:
        raise LocalProtocolError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    for name, v in (("version", version), ("type", mtype), ("seq", seq)):
        if not 0 <= v <= 0xFF:
            raise LocalProtocolError(f"{name} {v} does not fit in a byte")
    body = bytes((version, mtype, seq)) + bytes(payload)
    return b"\x00" + cobs.encode(body + _CRC.pack(crc32(body))) + b"\x00"


class FrameDecoder:
    """Bytes in, frames out; counts and skips whatever is not a frame."""

    def __init__(self) -> None:
        self._chunks: deque[bytes] = deque()
        self._run = bytearray()
        self._overflow = 0
        self._ready: deque[Frame] = deque()
        self.frames_ok = 0
        self.crc_errors = 0
        self.cobs_errors = 0
        self.oversize = 0
        self.garbage_bytes = 0

    def stats(self) -> dict[str, int]:
        return {
            "frames_ok": self.frames_ok,
            "crc_errors": self.crc_errors,
            "cobs_errors": self.cobs_errors,
            "oversize": self.oversize,
            "garbage_bytes": self.garbage_bytes,
        }

    def discard_partial(self) -> None:
        """Forget buffered bytes and any half-received frame (the port was reopened)."""
        self._chunks.clear()
        self._ready.clear()
        self._run = bytearray()
        self._overflow = 0

    def receive_data(self, data: bytes) -> None:
        """Buffer `data`; nothing is parsed until `next_frame`."""
        if data:
            self._chunks.append(bytes(data))

    def next_frame(self) -> Frame | NeedData:
        """The next good frame, or NEED_DATA when the buffered bytes hold none."""
        while not self._ready and self._chunks:
            self._scan(self._chunks.popleft())
        if self._ready:
            return self._ready.popleft()
        return NEED_DATA

    # -- internals ----------------------------------------------------------
    def _scan(self, data: bytes) -> None:
        start = 0
        while True:
            i = data.find(b"\x00", start)
            if i < 0:
                self._collect(data[start:])
                return
            self._collect(data[start:i])
            self._end_run()
            start = i + 1

    def _collect(self, chunk: bytes) -> None:
        if not chunk:
            return
        if self._overflow:
            self._overflow += len(chunk)
        elif len(self._run) + len(chunk) > MAX_ENCODED:
            self._overflow = len(self._run) + len(chunk)
            self._run = bytearray()
        else:
            self._run += chunk

    def _end_run(self) -> None:
        if self._overflow:
            self.oversize += 1
            self.garbage_bytes += self._overflow
            self._overflow = 0
            return
        run = bytes(self._run)
        if not run:
            return
        self._run = bytearray()
        try:
            body = cobs.decode(run)
        except cobs.CobsError:
            self.cobs_errors += 1
            self.garbage_bytes += len(run)
            return
        if len(body) < MIN_BODY:
            self.cobs_errors += 1
            self.garbage_bytes += len(run)
            return
        end = len(body) - CRC_LEN
        (crc,) = _CRC.unpack_from(body, end)
        if crc32(body[:end]) != crc:
            self.crc_errors += 1
            self.garbage_bytes += len(run)
            return
        self.frames_ok += 1
        self._ready.append(
            Frame(body[OFF_VERSION], body[OFF_TYPE], body[OFF_SEQ], body[HEADER_LEN:end], crc)
        )
