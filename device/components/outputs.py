"""What the on/off outputs share (led.py, relay.py): the switch command and its output base.

Command values are checked before any pin is touched. On/off outputs take
`true`/`false`, `"on"`/`"off"` (any case), `1`/`0`, or `"toggle"`; PWM LEDs
(pwm_led.py) take a brightness from 0 to 1, `"on"` (full), `"off"` or `"toggle"`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from device.components.base import OutputComponent, close_quietly
from device.config.fragments import OutputConfig
from device.errors import CommandError

if TYPE_CHECKING:
    from gpiozero import Factory, OutputDevice

    from device.core.values import Json

_ON = {"on", "true", "1"}
_OFF = {"off", "false", "0"}


def parse_switch(value: Json, current: bool) -> bool:
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

    def __init__(self, cfg: OutputConfig, pin_factory: Factory | None = None) -> None:
        super().__init__(cfg, pin_factory)
        self.ocfg = cfg
        self._dev: OutputDevice | None = None

    def _make(self) -> OutputDevice:
        from gpiozero import OutputDevice

        return OutputDevice(
            self.ocfg.pin, active_high=self.ocfg.active_high,
            initial_value=self.ocfg.initial, pin_factory=self.pin_factory,
        )

    def open(self) -> None:
        self._dev = self._make()

    def state(self) -> bool:
        assert self._dev is not None
        return bool(self._dev.value)

    def apply(self, value: Json) -> bool:
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
