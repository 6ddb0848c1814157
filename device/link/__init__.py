"""The framed serial link to the co-processor (see docs/protocol.md).

Sans-IO layers — `cobs` (byte stuffing), `frame` (frames on the wire),
`messages` (typed messages and values) and `session` (handshake, requests by
seq, retries, events) — import no serial, threading or time. `port.LinkPort` is
the thin pyserial adapter that owns the device path and a reader thread; import
it from `device.link.port` (this package does not, so the sans-IO parts stay
importable without pyserial). `LinkClient` is the protocol the daemon's parts
are typed against (`LinkPort` implements it; a test can pass anything that does).
"""

from __future__ import annotations

from typing import Protocol

from device.link.frame import NEED_DATA, Frame, FrameDecoder
from device.link.messages import PROTO_MAJOR, PROTO_MINOR, HelloAck, LinkMap, LinkValue
from device.link.session import LinkSession, LinkState


class LinkClient(Protocol):
    """What the daemon's parts (BME280, radio, doctor) need from a link: `LinkPort` is one."""

    @property
    def state(self) -> str:
        """"connecting", "up", "down", "version_mismatch" or "closed"."""

    @property
    def peer(self) -> HelloAck | None:
        """The firmware's HELLO_ACK once a handshake succeeded."""

    def request(self, method: str, args: LinkMap | None = None, timeout: float = 0.5,
                retries: int = 3) -> LinkMap:
        """Call `method` on the firmware and wait; LinkError / LinkTimeout / CommandError."""

    def counters(self) -> dict[str, int | float | str]:
        """Frame, retry and reconnect counters for diagnostics."""

    def close(self) -> None:
        """Stop and close the port."""


__all__ = [
    "NEED_DATA",
    "PROTO_MAJOR",
    "PROTO_MINOR",
    "Frame",
    "FrameDecoder",
    "LinkClient",
    "LinkMap",
    "LinkSession",
    "LinkState",
    "LinkValue",
]
