"""Outputs controlled over MQTT: LEDs, relays (on/off) and PWM LEDs (brightness).

Command values are checked before any pin is touched. On/off outputs take
`true`/`false`, `"on"`/`"off"` (any case), `1`/`0`, or `"toggle"`; PWM LEDs
take a brightness from 0 to 1, `"on"` (full), `"off"` or `"toggle"`.
"""

from __future__ import annotations

import math
from typing import Any

from gpiozero import LED, PWMLED, OutputDevice

from device.components.base import OutputComponent, close_quietly
from device.config.model import OutputConfig, PwmLedConfig
from device.errors import CommandError

_ON = {"on", "true", "1"}
_OFF = {"off", "false", "0"}


def parse_switch(value: Any, current: bool) -> bool:
    """The new on/off state a command asks for, or CommandError(BAD_VALUE)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        v = value.strip().lower()
        if v in _ON:
            return True
        if v in _OFF:
            return False
        if v == "toggle":
            return not current
    raise CommandError("BAD_VALUE", f"expected true/false, \"on\"/\"off\" or \"toggle\", got {value!r}")


class SwitchOutput(OutputComponent):
    """An on/off output (LED, relay)."""

    platform = "switch"

    def __init__(self, cfg: OutputConfig, pin_factory: Any = None) -> None:
        super().__init__(cfg, pin_factory)
        self.ocfg = cfg
        self._dev: OutputDevice | None = None

    def _make(self) -> OutputDevice:
        return OutputDevice(
            self.ocfg.pin, active_high=self.ocfg.active_high,
            initial_value=self.ocfg.initial, pin_factory=self.pin_factory,
        )

    def open(self) -> None:
        self._dev = self._make()

    def state(self) -> bool:
        assert self._dev is not None
        return bool(self._dev.value)

    def apply(self, value: Any) -> bool:
        assert self._dev is not None
        on = parse_switch(value, self.state())
        if on:
            self._dev.on()
        else:
            self._dev.off()
        return self.state()

    def close(self) -> None:
        dev, self._dev = self._dev, None
        close_quietly(dev)


class LedOutput(SwitchOutput):
    kind = "led"

    def _make(self) -> OutputDevice:
        return LED(self.ocfg.pin, active_high=self.ocfg.active_high,
                   initial_value=self.ocfg.initial, pin_factory=self.pin_factory)


class RelayOutput(SwitchOutput):
    kind = "relay"


class PwmLedOutput(OutputComponent):
    """A dimmable LED: brightness 0..1 (published with 3 decimals)."""

    kind = "pwm_led"
    platform = "light"

    def __init__(self, cfg: PwmLedConfig, pin_factory: Any = None) -> None:
        super().__init__(cfg, pin_factory)
        self.pcfg = cfg
        self._dev: PWMLED | None = None
        self._last_on = 1.0

    def open(self) -> None:
        self._dev = PWMLED(self.pcfg.pin, active_high=self.pcfg.active_high,
                           initial_value=self.pcfg.initial, frequency=self.pcfg.frequency,
                           pin_factory=self.pin_factory)

    def state(self) -> float:
        assert self._dev is not None
        return round(float(self._dev.value), 3)

    def apply(self, value: Any) -> float:
        assert self._dev is not None
        level = self._parse(value)
        if level > 0:
            self._last_on = level
        self._dev.value = level
        return self.state()

    def _parse(self, value: Any) -> float:
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
