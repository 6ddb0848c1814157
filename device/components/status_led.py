"""The `[status_led]` section: an LED whose pattern shows the daemon's state at a glance.

    connected, all entities healthy   steady on
    connected, an entity failing      slow blink (1 s on, 1 s off)
    connecting / reconnecting         fast blink (0.1 s on, 0.1 s off)
    broker refused us / TLS error     short flash once a second (0.05 s on)
    stopped                           off
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from device.components.base import close_quietly
from device.components.kind import kind
from device.config.fragments import BcmPin, Section

if TYPE_CHECKING:
    from gpiozero import LED, Factory

    from device.components.seams import SimBench


@dataclass(frozen=True, kw_only=True)
class StatusLedConfig(Section):
    pin: BcmPin
    active_high: bool = True


PATTERNS: dict[str, tuple[float, float] | bool] = {
    "ok": True,
    "degraded": (1.0, 1.0),
    "connecting": (0.1, 0.1),
    "reconnecting": (0.1, 0.1),
    "error": (0.05, 0.95),
    "stopped": False,
}


class StatusLed:
    """Shows one of PATTERNS on an LED."""

    def __init__(self, cfg: StatusLedConfig, pin_factory: Factory | None = None) -> None:
        self.cfg = cfg
        self.pin_factory = pin_factory
        self._led: LED | None = None
        self.pattern: str | None = None

    def open(self) -> None:
        from gpiozero import LED

        self._led = LED(self.cfg.pin, active_high=self.cfg.active_high, pin_factory=self.pin_factory)

    def show(self, pattern: str) -> None:
        if self._led is None or pattern == self.pattern:
            return
        self.pattern = pattern
        p = PATTERNS[pattern]
        if p is True:
            self._led.on()
        elif p is False:
            self._led.off()
        else:
            assert isinstance(p, tuple)
            on, off = p
            self._led.blink(on_time=on, off_time=off)

    def close(self) -> None:
        led, self._led = self._led, None
        close_quietly(led)


def place(cfg: StatusLedConfig, bench: SimBench) -> None:
    bench.output("status_led", "status_led", cfg.pin, active_high=cfg.active_high)


# The daemon drives the status LED itself (`Daemon.status_led`): no builder here.
KIND = kind("status_led", StatusLedConfig, build=None, place=place, many=False)
