"""The framed serial link to the co-processor (see docs/protocol.md).

Sans-IO layers — `cobs` (byte stuffing), `frame` (frames on the wire),
`messages` (typed messages and values) and `session` (handshake, requests by
seq, retries, events) — import no serial, threading or time. `port.LinkPort` is
the thin pyserial adapter that owns the device path and a reader thread; import
it from `device.link.port` (this package does not, so the sans-IO parts stay
importable without pyserial).
"""

from device.link.frame import NEED_DATA, Frame, FrameDecoder
from device.link.messages import PROTO_MAJOR, PROTO_MINOR
from device.link.session import LinkSession, LinkState

__all__ = [
    "NEED_DATA",
    "PROTO_MAJOR",
    "PROTO_MINOR",
    "Frame",
    "FrameDecoder",
    "LinkSession",
    "LinkState",
]
