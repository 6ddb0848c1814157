"""hwsim's GPIO pins: `SimPin` (gpiozero's `MockPin` extended for the world) and its watchers.

Every GPIO of the `hwsim` pin factory (`hwsim.gpio.SimFactory`) is a `SimPin`:

- an *external* level per pin: what the outside circuit drives (a closed
  contact, a PIR output, an echo line, a charged capacitor), or None when it
  lets go. An input reads the external level, else its pull. The pin records
  and reports each edge with the time it happened (``ts``), so an echo pulse or
  a charge time measured from ``when_changed`` ticks is exact even when the
  clock thread wakes a little late;
- software PWM (any pin takes a frequency, as with lgpio);
- watchers that hear the daemon's side: function changes (the LDR capacitor
  starts charging when its pin turns input, `ChargingWatcher`), output levels
  (the HC-SR04 fires on the trigger's falling edge, `EchoWatcher`; /CS and SCLK
  clock the MCP3008's protocol, `SpiWatcher`). An `OutputRecord` attached to an
  output pin keeps its state and history.

Pin state histories (``pin.states``) keep the last 1000 changes only.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from typing import Any

from gpiozero.exc import (
    PinFixedPull,
    PinInvalidFunction,
    PinInvalidPull,
    PinSetInput,
)
from gpiozero.pins.mock import MockPin, PinState

from hwsim.timebase import Cancellable, EventClock
from hwsim.world import (
    HCSR04_ECHO_DELAY,
    Daylight,
    Mcp3008,
    OutputRecord,
    RangeTarget,
)

log = logging.getLogger(__name__)

STATE_HISTORY = 1000
SPI0_CLOCK, SPI0_MOSI, SPI0_MISO = 11, 10, 9
SPI0_SELECT = (8, 7)  # CE0, CE1


class PinWatcher:
    """Hears what the daemon does to a pin; subclasses override what they need."""

    def on_function(self, pin: SimPin, function: str, ts: float) -> None:
        """The pin became an input or an output at `ts`."""

    def on_output(self, pin: SimPin, level: float, ts: float) -> None:
        """The daemon set an output pin's level (bool, or duty cycle) at `ts`."""


class SimPin(MockPin):
    """A MockPin with an external driver, software PWM, timestamped edges and watchers."""

    _state: Any

    def __init__(self, factory: Any, info: Any) -> None:
        self._frequency: float | None = None
        self._external: bool | None = None
        self.watchers: list[PinWatcher] = []
        self.output_record: OutputRecord | None = None
        super().__init__(factory, info)

    # -- history
    def clear_states(self) -> None:
        self._last_change = time.monotonic()
        self.states: deque[PinState] = deque([PinState(0.0, self._state)], maxlen=STATE_HISTORY)

    def _change_state(self, value: Any, ts: float | None = None) -> bool:
        if self._state == value:
            self._state = value  # same level; keep the new type (bool, or PWM duty)
            return False
        t = time.monotonic() if ts is None else ts
        self._state = value
        self.states.append(PinState(t - self._last_change, value))
        self._last_change = t
        return True

    # -- the outside world
    @property
    def external(self) -> bool | None:
        return self._external

    def set_external(self, level: bool | None, ts: float | None = None) -> None:
        """Drive the pin from outside (None: let go); an input sees it at once."""
        self._external = level
        if self._function == "input":
            self._resolve(ts)

    def drive_high(self) -> None:
        self.set_external(True)

    def drive_low(self) -> None:
        self.set_external(False)

    def _resolve(self, ts: float | None) -> None:
        if self._external is not None:
            level = self._external
        elif self._pull == "up":
            level = True
        elif self._pull == "down":
            level = False
        else:
            return
        if self._change_state(level, ts) and self._when_changed is not None:
            if self._edges == "both" or self._edges == ("rising" if level else "falling"):
                self._call_when_changed()

    # -- what gpiozero calls
    def close(self) -> None:
        self._frequency = None
        super().close()

    def _set_function(self, value: str) -> None:
        if value not in ("input", "output"):
            raise PinInvalidFunction("function must be input or output")
        ts = time.monotonic()
        self._function = value
        for watcher in self.watchers:
            watcher.on_function(self, value, ts)
        if value == "input":
            self._resolve(ts)

    def _set_pull(self, value: str) -> None:
        if self._function != "input":
            raise PinFixedPull(f"cannot set pull on non-input pin {self!r}")
        if self.info.pull and value != self.info.pull:
            raise PinFixedPull(f"{self!r} has a fixed pull resistor")
        if value not in ("floating", "up", "down"):
            raise PinInvalidPull("pull must be floating, up, or down")
        self._pull = value
        self._resolve(None)

    def _set_state(self, value: float) -> None:
        if self._function == "input":
            raise PinSetInput(f"cannot set state of pin {self!r}")
        if not 0 <= value <= 1:
            raise ValueError(f"pin state must be between 0 and 1, not {value!r}")
        self._output(float(value) if self._frequency is not None else bool(value))

    def _output(self, level: float) -> None:
        ts = time.monotonic()
        self._change_state(level, ts)
        if self.output_record is not None:
            self.output_record.record(float(level), ts)
        for watcher in self.watchers:
            watcher.on_output(self, level, ts)

    def _get_frequency(self) -> float | None:
        return self._frequency

    def _set_frequency(self, value: float | None) -> None:
        if value is not None:
            self._frequency = value
        elif self._frequency is not None:
            self._frequency = None
            if self._function == "output":
                self._output(False)


class ChargingWatcher(PinWatcher):
    """An LDR + capacitor on a pin: charges from the moment the pin turns input."""

    def __init__(self, light: Daylight, clock: EventClock) -> None:
        self.light = light
        self.clock = clock
        self._pending: Cancellable | None = None

    def on_function(self, pin: SimPin, function: str, ts: float) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        pin.set_external(False)  # the capacitor starts empty (an output LOW drains it)
        if function == "input":
            at = ts + self.light.charge_time()
            self._pending = self.clock.call_at(at, lambda: pin.set_external(True, at))


class EchoWatcher(PinWatcher):
    """An HC-SR04 on a trigger pin: the trigger's falling edge sends a ping; ECHO pulses."""

    def __init__(self, target: RangeTarget, echo: SimPin, clock: EventClock) -> None:
        self.target = target
        self.echo = echo
        self.clock = clock
        self.pings = 0
        self._last = False
        self._busy_until = 0.0

    def on_output(self, pin: SimPin, level: float, ts: float) -> None:
        falling = self._last and not level
        self._last = bool(level)
        if not falling or ts < self._busy_until:
            return  # a trigger during a measurement is ignored, as by the real module
        rise = ts + HCSR04_ECHO_DELAY
        fall = rise + self.target.pulse()
        self._busy_until = fall
        self.pings += 1
        self.clock.call_at(rise, lambda: self.echo.set_external(True, rise))
        self.clock.call_at(fall, lambda: self.echo.set_external(False, fall))


class SpiWatcher(PinWatcher):
    """An MCP3008 on SPI0: /CS on its select pin, sampled on SCLK rising edges."""

    def __init__(self, chip: Mcp3008, select: SimPin, mosi: SimPin, miso: SimPin) -> None:
        self.chip = chip
        self.select = select
        self.mosi = mosi
        self.miso = miso
        self._clock_level = False

    def on_output(self, pin: SimPin, level: float, ts: float) -> None:
        if pin is self.select:
            self.chip.select(not level)
            if level:
                self.miso.set_external(None)
            return
        rising = bool(level) and not self._clock_level
        self._clock_level = bool(level)
        if rising and not self.select.state and self.select.function == "output":
            self.miso.set_external(self.chip.sclk(bool(self.mosi.state)))
