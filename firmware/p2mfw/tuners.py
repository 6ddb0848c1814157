"""Which tuner is there: chip detection to driver, and the entry `main.DRIVERS` lists.

Kept apart from `p2mfw.tuner` (the interface both drivers share) so that the base
class never builds its own subclasses: this module imports the base, both chip
drivers and the link methods (`p2mfw.tuner_link`), and nothing imports it but
`main` and the tests.

`make(i2c, chip, clock, pins)` returns the driver for `chip` ("auto": the one
`tuner.detect` finds). `attach(server, i2c, chip="auto", clock, pins)` runs the
Si4703 bus-mode reset when the board gave pins, makes and identifies the driver and
registers its link methods; it returns the `TunerService`, or None when no chip
answers. It is idempotent per server.
"""

from p2mfw.rda5807m import Rda5807m
from p2mfw.si4703 import Si4703
from p2mfw.tuner import TunerError, detect
from p2mfw.tuner_bus import bus_mode_reset
from p2mfw.tuner_link import TunerService

USES_PINS = True  # main.attach_drivers passes the board's pins to attach()


def make(i2c, chip="auto", clock=None, pins=None):
    """The driver for `chip` ("auto" detects); raises TunerError NO_DEVICE / UNSUPPORTED."""
    if chip == "auto":
        chip = detect(i2c)
        if chip is None:
            raise TunerError("NO_DEVICE", "no RDA5807M or Si4703 answers at 0x10/0x11")
    if chip == "rda5807m":
        return Rda5807m(i2c, clock)
    if chip == "si4703":
        return Si4703(i2c, clock, pins)
    raise TunerError("UNSUPPORTED", f"unknown tuner chip {chip!r}")


_services = []  # (server, TunerService): one tuner service per server


def attach(server, i2c, chip="auto", clock=None, pins=None):
    """Find the tuner and register its link methods; returns the TunerService, or None (no chip).

    With the board's `pins` the Si4703 bus-mode reset runs first (`bus_mode_reset`),
    so the chip answers at 0x10 before detection reads it.
    """
    for srv, svc in _services:
        if srv is server:
            return svc
    try:
        done = bus_mode_reset(pins, clock)
        tuner = make(i2c, chip, clock, pins)
        if done and hasattr(tuner, "bus_ready"):
            tuner.bus_ready = True
        tuner.identify()
    except (OSError, TunerError):
        return None
    svc = TunerService(server, tuner)
    _services.append((server, svc))
    return svc
