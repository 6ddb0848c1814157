"""The `[[light]]` kind: an LDR and a capacitor on one GPIO; published as % (0 dark, 100 bright)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from device.components.base import PolledComponent, close_quietly
from device.components.kind import kind
from device.components.polled import require_sample
from device.config.durations import Duration
from device.config.fragments import BcmPin, Interval, Polled

if TYPE_CHECKING:
    from gpiozero import Factory, LightSensor

    from device.components.seams import Assembly, SimBench


@dataclass(frozen=True, kw_only=True)
class LightConfig(Polled):
    pin: BcmPin
    charge_time_limit: Duration = 0.01
    interval: Interval = 1.0


class LightLevel(PolledComponent):
    """LDR + capacitor on one pin; published as a percentage (0 = dark, 100 = bright)."""

    kind = "light"
    unit = "%"

    def __init__(self, cfg: LightConfig, pin_factory: Factory | None = None) -> None:
        super().__init__(cfg, pin_factory)
        self.lcfg = cfg
        self._dev: LightSensor | None = None

    def open(self) -> None:
        from gpiozero import LightSensor

        self._dev = LightSensor(
            self.lcfg.pin,
            queue_len=3,
            charge_time_limit=self.lcfg.charge_time_limit,
            partial=True,
            pin_factory=self.pin_factory,
        )

    def read(self) -> float:
        assert self._dev is not None
        require_sample(self._dev)
        return round(float(self._dev.value) * 100.0, 1)

    def close(self) -> None:
        dev, self._dev = self._dev, None
        close_quietly(dev)


def build(cfg: LightConfig, parts: Assembly) -> None:
    parts.add_component(LightLevel(cfg, parts.pin_factory))


def place(cfg: LightConfig, bench: SimBench) -> None:
    bench.light(cfg.pin, cfg.name)


KIND = kind("light", LightConfig, build=build, place=place)
