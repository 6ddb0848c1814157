"""Link frames on the wire: layout constants, encoder, streaming decoder (firmware and host).

Theory of operation
-------------------
A frame on the wire is ``0x00 + COBS(body) + 0x00`` where the body is::

    offset 0  version   u8   protocol major version of the sender
    offset 1  type      u8   message type (see p2mfw.proto)
    offset 2  seq       u8   request sequence number / event counter
    offset 3  payload   0..MAX_PAYLOAD bytes
    end - 4   crc       u32  little-endian CRC-32 (binascii.crc32) of version..payload

The decoder collects bytes between 0x00 delimiters. At each delimiter the
collected run is either empty (idle delimiter, ignored), too long (``oversize``),
not valid COBS (``cobs_errors``), too short or failing its CRC (``crc_errors``
for a bad CRC, ``cobs_errors`` for a runt), or a frame (``frames_ok``). Bytes of
every rejected run count in ``garbage_bytes``. A run longer than MAX_ENCODED is
not stored: the decoder drops bytes until the next delimiter. It never raises.

MicroPython-compatible (no typing, no dataclasses). The host uses this same code
through `device.link.frame`, which adds the frozen `Frame` and the h11-style
`receive_data` / `next_frame` interface.
"""

import struct
from binascii import crc32

from p2mfw.cobs import CobsError
from p2mfw.cobs import decode as cobs_decode
from p2mfw.cobs import encode as cobs_encode

DELIM = 0x00
OFF_VERSION = 0
OFF_TYPE = 1
OFF_SEQ = 2
HEADER_LEN = 3
CRC_LEN = 4
MIN_BODY = HEADER_LEN + CRC_LEN
MAX_FRAME = 256                       # bytes on the wire, both delimiters included
MAX_ENCODED = MAX_FRAME - 2           # COBS bytes between the delimiters
MAX_BODY = MAX_ENCODED - 1            # 253: one COBS code byte covers the whole body
MAX_PAYLOAD = MAX_BODY - MIN_BODY     # 246


class FrameTooLarge(ValueError):
    """The payload does not fit in MAX_PAYLOAD bytes."""


def encode_frame(version, mtype, seq, payload=b""):
    """Return the wire bytes of one frame (both delimiters included)."""
    if len(payload) > MAX_PAYLOAD:
        raise FrameTooLarge(f"payload of {len(payload)} bytes > {MAX_PAYLOAD}")
    body = bytes([version & 0xFF, mtype & 0xFF, seq & 0xFF]) + bytes(payload)
    body += struct.pack("<I", crc32(body) & 0xFFFFFFFF)
    return b"\x00" + cobs_encode(body) + b"\x00"


def parse_body(body):
    """Split a checked body into (version, type, seq, payload); None if too short or bad CRC."""
    if len(body) < MIN_BODY:
        return None
    end = len(body) - CRC_LEN
    (crc,) = struct.unpack("<I", body[end:])
    if crc32(body[:end]) & 0xFFFFFFFF != crc:
        return False
    return (body[OFF_VERSION], body[OFF_TYPE], body[OFF_SEQ], bytes(body[HEADER_LEN:end]))


class FrameDecoder:
    """Turns a byte stream into frames ``(version, type, seq, payload, crc)``; never raises."""

    def __init__(self):
        self._buf = bytearray()
        self._overflow = 0  # bytes dropped in the current over-long run
        self.frames_ok = 0
        self.crc_errors = 0
        self.cobs_errors = 0
        self.oversize = 0
        self.garbage_bytes = 0

    def stats(self):
        return {
            "frames_ok": self.frames_ok,
            "crc_errors": self.crc_errors,
            "cobs_errors": self.cobs_errors,
            "oversize": self.oversize,
            "garbage_bytes": self.garbage_bytes,
        }

    def discard_partial(self):
        """Forget a half-received frame (the port was reopened)."""
        self._buf = bytearray()
        self._overflow = 0

    def feed(self, data):
        """Consume `data`; return the list of complete good frames it finished."""
        frames = []
        data = bytes(data)
        start = 0
        n = len(data)
        while start < n:
            i = data.find(b"\x00", start)
            if i < 0:
                self._collect(data[start:])
                break
            self._collect(data[start:i])
            f = self._end_run()
            if f is not None:
                frames.append(f)
            start = i + 1
        return frames

    def _collect(self, chunk):
        if not chunk:
            return
        if self._overflow:
            self._overflow += len(chunk)
            return
        if len(self._buf) + len(chunk) > MAX_ENCODED:
            self._overflow = len(self._buf) + len(chunk)
            self._buf = bytearray()
            return
        self._buf += chunk

    def _end_run(self):
        if self._overflow:
            self.oversize += 1
            self.garbage_bytes += self._overflow
            self._overflow = 0
            return None
        run = self._buf
        if not run:
            return None
        self._buf = bytearray()
        try:
            body = cobs_decode(run)
        except CobsError:
            self.cobs_errors += 1
            self.garbage_bytes += len(run)
            return None
        parsed = parse_body(body)
        if parsed is None:
            self.cobs_errors += 1
            self.garbage_bytes += len(run)
            return None
        if parsed is False:
            self.crc_errors += 1
            self.garbage_bytes += len(run)
            return None
        self.frames_ok += 1
        return parsed + (struct.unpack("<I", body[-CRC_LEN:])[0],)  # noqa: RUF005 (MicroPython)
