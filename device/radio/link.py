"""The tuner's link methods (docs/tuner-firmware.md) as Python calls with the radio's error codes.

`TunerLink.call(method, args)` wraps `LinkPort.request` and turns every failure
into a `CommandError` a radio reply can carry:

* a firmware ERROR with one of the radio codes (BUSY, OUT_OF_BAND, MISALIGNED,
  POWERED_OFF, UNSUPPORTED, RANGE, TIMEOUT) keeps its code;
* ``unknown_method`` (no tuner driver on the co-processor), ``io_error`` (the
  chip does not answer on I2C) and any other firmware code: UNAVAILABLE;
* LinkTimeout: TIMEOUT; any other LinkError (link down, lost, closed): UNAVAILABLE.
"""

from __future__ import annotations

from typing import Final

from device.errors import CommandError, LinkError, LinkTimeout
from device.link import LinkClient, LinkMap

FIRMWARE_CODES: Final = frozenset(
    ("BUSY", "OUT_OF_BAND", "MISALIGNED", "POWERED_OFF", "UNSUPPORTED", "RANGE", "TIMEOUT")
)

# (timeout of one try, retries): the firmware's duplicate suppression makes retries safe.
TIMING: Final[dict[str, tuple[float, int]]] = {
    "tuner.power": (2.0, 1),   # Si4703: 500 ms crystal + 110 ms power-up
    "tuner.tune": (1.0, 2),    # 60 ms, up to 500 ms before the firmware's TIMEOUT
    "tuner.config": (1.5, 2),  # a band change retunes
    "tuner.status": (0.5, 1),
}


class TunerLink:
    """Link calls to the firmware's tuner methods."""

    def __init__(self, link: LinkClient | None) -> None:
        self.link = link

    @property
    def up(self) -> bool:
        return self.link is not None and self.link.state == "up"

    def call(self, method: str, args: LinkMap | None = None) -> LinkMap:
        if self.link is None:
            raise CommandError("UNAVAILABLE", "there is no co-processor link ([coprocessor] is missing)")
        timeout, retries = TIMING.get(method, (0.5, 2))
        try:
            result = self.link.request(method, args or {}, timeout=timeout, retries=retries)
        except CommandError as e:
            if e.code in FIRMWARE_CODES:
                raise CommandError(e.code, e.message, source="tuner") from None
            if e.code == "unknown_method":
                raise CommandError("UNAVAILABLE", "the co-processor has no FM tuner driver "
                                   "(no RDA5807M or Si4703 was found at boot)") from None
            raise CommandError("UNAVAILABLE", f"the tuner failed: {e.code}: {e.message}") from None
        except LinkTimeout:
            raise CommandError("TIMEOUT", f"the co-processor did not answer {method}") from None
        except LinkError as e:
            raise CommandError("UNAVAILABLE", f"the co-processor link is down: {e}") from None
        return result if isinstance(result, dict) else {}
