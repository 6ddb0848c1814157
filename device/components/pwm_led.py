"""The `[[pwm_led]]` kind: a dimmable LED (software or hardware PWM); brightness 0..1 over MQTT."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from device.components.base import OutputComponent, close_quietly
from device.components.kind import kind
from device.config.fragments import BcmPin, Entity
from device.config.rules import Range
from device.errors import CommandError

if TYPE_CHECKING:
    from gpiozero import PWMLED, Factory

    from device.components.seams import Assembly, SimBench
    from device.core.values import Json


@dataclass(frozen=True, kw_only=True)
class PwmLedConfig(Entity):
    pin: BcmPin
    active_high: bool = True
    initial: Annotated[float, Range(ge=0, le=1)] = 0.0
    frequency: Annotated[int, Range(ge=1, le=10_000)] = 100


class PwmLedOutput(OutputComponent):
    """A dimmable LED: brightness 0..1 (published with 3 decimals)."""

    kind = "pwm_led"
    platform = "light"

    def __init__(self, cfg: PwmLedConfig, pin_factory: Factory | None = None) -> None:
        super().__init__(cfg, pin_factory)
        self.pcfg = cfg
        self._dev: PWMLED | None = None
        self._last_on = 1.0

    def open(self) -> None:
        from gpiozero import PWMLED

        self._dev = PWMLED(self.pcfg.pin, active_high=self.pcfg.active_high,
                           initial_value=self.pcfg.initial, frequency=self.pcfg.frequency,
                           pin_factory=self.pin_factory)

    def state(self) -> float:
        assert self._dev is not None
        return round(float(self._dev.value), 3)

    def apply(self, value: Json) -> float:
        assert self._dev is not None
        level = self._parse(value)
        if level > 0:
            self._last_on = level
        self._dev.value = level
        return self.state()

    def _parse(self, value: Json) -> float:
        if isinstance(value, str):
            v = value.strip().lower()
            if v in ("on", "true"):
                return self._last_on
            if v in ("off", "false"):
                return 0.0
            if v == "toggle":
                return 0.0 if self.state() > 0 else self._last_on
            try:
                value = float(v)
            except ValueError:
                pass
        if isinstance(value, bool):
            return self._last_on if value else 0.0
        if isinstance(value, int | float) and math.isfinite(value):
            if 0.0 <= value <= 1.0:
                return float(value)
            raise CommandError("RANGE", f"brightness must be between 0 and 1, got {value!r}", min=0, max=1)
        raise CommandError("BAD_VALUE", f"expected a brightness 0..1, \"on\", \"off\" or \"toggle\", got {value!r}")

    def close(self) -> None:
        dev, self._dev = self._dev, None
        close_quietly(dev)


def build(cfg: PwmLedConfig, parts: Assembly) -> None:
    parts.add_component(PwmLedOutput(cfg, parts.pin_factory))


def place(cfg: PwmLedConfig, bench: SimBench) -> None:
    bench.output(cfg.name, "pwm_led", cfg.pin, active_high=cfg.active_high)


KIND = kind("pwm_led", PwmLedConfig, build=build, place=place)
