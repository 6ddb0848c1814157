"""The gpiozero pin factory `hwsim`: simulated pins wired to the simulated world.

Select it with ``GPIOZERO_PIN_FACTORY=hwsim`` (entry point ``hwsim`` in the
``gpiozero_pin_factories`` group) or ``Device.pin_factory = SimFactory()``.
On construction it reads the environment (``HWSIM_CONFIG``, ``HWSIM_ID``,
``HWSIM_BROKER``, ``HWSIM_DIR``, ``HWSIM_AUTO``, ``HWSIM_SPEED``,
``HWSIM_SEED``, ``HWSIM_HOUR``; keyword arguments win), creates the process's
`hwsim.sim.Simulation` and wires every device of the config to its pins.
Without a config it is a plain simulated factory: inputs idle at their pull.

Theory of operation
-------------------
Every GPIO is a `SimPin`, gpiozero's `MockPin` extended with what the world
needs:

- an *external* level per pin: what the outside circuit drives (a closed
  contact, a PIR output, an echo line, a charged capacitor), or None when it
  lets go. An input reads the external level, else its pull. The pin records
  and reports each edge with the time it happened (``ts``), so an echo pulse or
  a charge time measured from ``when_changed`` ticks is exact even when the
  clock thread wakes a little late;
- software PWM (any pin takes a frequency, as with lgpio);
- watchers that hear the daemon's side: function changes (the LDR capacitor
  starts charging when its pin turns input), output levels (the HC-SR04 fires
  on the trigger's falling edge; /CS and SCLK clock the MCP3008's protocol).
  An `OutputRecord` attached to an output pin keeps its state and history.

Pin state histories (``pin.states``) keep the last 1000 changes only.
"""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from typing import Any

from gpiozero.exc import (
    PinFixedPull,
    PinInvalidFunction,
    PinInvalidPin,
    PinInvalidPull,
    PinSetInput,
)
from gpiozero.pins.mock import MockFactory, MockPin, PinState

from device.errors import ConfigError
from hwsim.sim import (
    AdcChannelDevice,
    ButtonDevice,
    CpuTempDevice,
    DistanceDevice,
    LightDevice,
    MotionDevice,
    Simulation,
    host_load,
    load_config,
)
from hwsim.world import (
    BUTTON_BOUNCE,
    HCSR04_ECHO_DELAY,
    REED_BOUNCE,
    Cancellable,
    Contact,
    Daylight,
    EventClock,
    Mcp3008,
    OutputRecord,
    Pir,
    RangeTarget,
    ThermalModel,
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


def _env_float(name: str, default: float) -> float:
    text = os.environ.get(name) or ""
    try:
        return float(text) if text else default
    except ValueError:
        raise ConfigError([f"{name} must be a number, not {text!r}"]) from None


class SimFactory(MockFactory):
    """gpiozero pin factory on the simulated world (see the module docstring)."""

    def __init__(
        self,
        revision: str | None = None,
        *,
        config: str | os.PathLike[str] | None = None,
        sim_id: str | None = None,
        broker: str | None = None,
        directory: str | os.PathLike[str] | None = None,
        auto: bool | None = None,
        speed: float | None = None,
        seed: int | str | None = None,
        start_hour: float | None = None,
    ) -> None:
        super().__init__(revision=revision, pin_class=SimPin)
        env = os.environ
        config = config if config is not None else env.get("HWSIM_CONFIG") or None
        cfg = load_config(config) if config else {}
        if auto is None:
            auto = env.get("HWSIM_AUTO", "") == "1"
        speed = speed if speed is not None else _env_float("HWSIM_SPEED", 1.0)
        if not speed > 0:
            raise ConfigError([f"HWSIM_SPEED must be a positive number, not {speed!r}"])
        if start_hour is None and env.get("HWSIM_HOUR"):
            start_hour = _env_float("HWSIM_HOUR", 12.0) % 24.0
        self.sim = Simulation(
            sim_id=sim_id or env.get("HWSIM_ID") or None,
            broker=broker if broker is not None else env.get("HWSIM_BROKER") or None,
            directory=directory if directory is not None else env.get("HWSIM_DIR") or None,
            auto=auto,
            speed=speed,
            seed=seed if seed is not None else env.get("HWSIM_SEED") or None,
            start_hour=start_hour,
            config=cfg,
        )
        self.chips: dict[int, Mcp3008] = {}
        try:
            wire(self, self.sim, cfg, str(config or ""))
            self.sim.start()
        except BaseException:
            self.sim.close()
            raise

    def pin(self, name: Any, pin_class: type | None = None, **kwargs: Any) -> SimPin:
        """The pin called `name` (made on first use); one pin object per GPIO."""
        for _header, info in self.board_info.find_pin(name):
            pin = self.pins.get(info)
            if pin is None:
                pin = (pin_class or self.pin_class)(self, info, **kwargs)
                self.pins[info] = pin
            return pin
        raise PinInvalidPin(f"{name} is not a valid pin name")

    def add_mcp3008(self, select: int, vref: float = 3.3) -> Mcp3008:
        """The MCP3008 answering on SPI0 with /CS on GPIO `select` (8 or 7)."""
        chip = self.chips.get(select)
        if chip is None:
            chip = Mcp3008(self.sim.scheduler, self.sim.rng(f"mcp3008@{select}"), vref=vref)
            sel = self.pin(select)
            watcher = SpiWatcher(chip, sel, self.pin(SPI0_MOSI), self.pin(SPI0_MISO))
            sel.watchers.append(watcher)
            self.pin(SPI0_CLOCK).watchers.append(watcher)
            self.chips[select] = chip
        return chip

    def spi(self, **spi_args: Any) -> Any:
        """As gpiozero's, plus: an unconfigured MCP3008 on SPI0 still gets a chip to talk to."""
        args, _ = self._extract_spi_args(**spi_args)
        select = int(str(args.get("select_pin", "")).removeprefix("GPIO") or -1)
        if str(args.get("clock_pin")) in ("GPIO11", "11") and select in SPI0_SELECT:
            self.add_mcp3008(select)
        return super().spi(**spi_args)

    def close(self) -> None:
        """Stop the simulation (threads, MQTT), then close every pin."""
        self.sim.close()
        super().close()


# ---------------------------------------------------------------- wiring from the config


class _Wiring:
    def __init__(self, source: str) -> None:
        self.source = source or "config"
        self.used: dict[int, str] = {}
        self.problems: list[str] = []

    def get(self, entry: dict[str, Any], key: str, where: str, default: Any = ..., kind: type = object) -> Any:
        if key not in entry:
            if default is ...:
                self.problems.append(f"{self.source}: {where}.{key}: missing")
            return None if default is ... else default
        value = entry[key]
        if kind is not object and (not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool)):
            self.problems.append(f"{self.source}: {where}.{key}: expected {kind.__name__}, got {value!r}")
            return None if default is ... else default
        return value

    def claim(self, pin: Any, where: str) -> int | None:
        if not isinstance(pin, int) or isinstance(pin, bool) or not 0 <= pin <= 27:
            self.problems.append(f"{self.source}: {where}: pin must be a BCM number 0-27, got {pin!r}")
            return None
        if pin in self.used:
            self.problems.append(f"{self.source}: {where}: GPIO{pin} is already used by {self.used[pin]}")
            return None
        self.used[pin] = where
        return pin


def _entries(cfg: dict[str, Any], kind: str) -> list[tuple[str, str, dict[str, Any]]]:
    raw = cfg.get(kind, [])
    items = [raw] if isinstance(raw, dict) else raw if isinstance(raw, list) else []
    out = []
    for i, entry in enumerate(items):
        if isinstance(entry, dict):
            where = f"{kind}[{i}]" if isinstance(raw, list) else kind
            out.append((where, str(entry.get("name", kind)), entry))
    return out


def wire(factory: SimFactory, sim: Simulation, cfg: dict[str, Any], source: str = "") -> None:
    """Create and attach the simulated device of every config entry; ConfigError on a bad one."""
    w = _Wiring(source)
    clock = sim.scheduler
    for kind in ("button", "door"):
        for where, name, e in _entries(cfg, kind):
            pin = w.claim(w.get(e, "pin", where), f"{where}.pin")
            pull_up = w.get(e, "pull_up", where, True, bool)
            if pin is None:
                continue
            contact = Contact(
                factory.pin(pin), clock, sim.rng(name), closed_level=not pull_up,
                bounce=BUTTON_BOUNCE if kind == "button" else REED_BOUNCE, closed=kind == "door",
            )
            sim.add_device(ButtonDevice(name, contact, kind))
    for where, name, e in _entries(cfg, "motion"):
        pin = w.claim(w.get(e, "pin", where), f"{where}.pin")
        if pin is not None:
            sim.add_device(MotionDevice(name, Pir(factory.pin(pin), clock)))
    for where, name, e in _entries(cfg, "light"):
        pin = w.claim(w.get(e, "pin", where), f"{where}.pin")
        if pin is None:
            continue
        light = Daylight(clock, sim.rng(name), speed=sim.speed, start_hour=sim.start_hour)
        p = factory.pin(pin)
        p.watchers.append(ChargingWatcher(light, clock))
        p.set_external(False)
        sim.add_device(LightDevice(name, light))
    for where, name, e in _entries(cfg, "distance"):
        echo = w.claim(w.get(e, "echo", where), f"{where}.echo")
        trigger = w.claim(w.get(e, "trigger", where), f"{where}.trigger")
        if echo is None or trigger is None:
            continue
        target = RangeTarget(clock, sim.rng(name))
        echo_pin = factory.pin(echo)
        echo_pin.set_external(False)
        factory.pin(trigger).watchers.append(EchoWatcher(target, echo_pin, clock))
        sim.add_device(DistanceDevice(name, target))
    adc = _entries(cfg, "mcp3008")
    if adc:
        for pin, role in ((SPI0_CLOCK, "SCLK"), (SPI0_MOSI, "MOSI"), (SPI0_MISO, "MISO")):
            w.claim(pin, f"mcp3008 (SPI0 {role})")
    selects: set[int] = set()
    for where, name, e in adc:
        channel = w.get(e, "channel", where, kind=int)
        select = w.get(e, "select", where, 0, int)
        vref = float(w.get(e, "vref", where, 3.3, float | int))  # type: ignore[arg-type]
        if channel is None:
            continue
        if not 0 <= channel <= 7:
            w.problems.append(f"{w.source}: {where}.channel: must be 0-7, got {channel}")
            continue
        if select not in (0, 1):
            w.problems.append(f"{w.source}: {where}.select: must be 0 (CE0) or 1 (CE1)")
            continue
        cs = SPI0_SELECT[select]
        if cs not in selects:
            w.claim(cs, f"mcp3008 (SPI0 CE{select})")
            selects.add(cs)
        sim.add_device(AdcChannelDevice(name, factory.add_mcp3008(cs, vref), channel))
    thermal = ThermalModel(clock, sim.rng("cpu"), host_load)
    temp_names = [name for _, name, _ in _entries(cfg, "cpu_temperature")] or ["cpu_temperature"]
    for name in temp_names:
        sim.add_device(CpuTempDevice(name, thermal, sim.dir / "cpu_temp"))
    for kind in ("led", "pwm_led", "relay", "status_led"):
        for where, name, e in _entries(cfg, kind):
            pin = w.claim(w.get(e, "pin", where), f"{where}.pin")
            active_high = w.get(e, "active_high", where, True, bool)
            if pin is None:
                continue
            record = OutputRecord(name, kind, pin, active_high=active_high)
            factory.pin(pin).output_record = record
            sim.add_output(record)
    from hwsim.encoder import wire_radio_panel

    wire_radio_panel(factory, sim, cfg, w)
    if w.problems:
        raise ConfigError(w.problems)
    from hwsim.coproc import wire_coprocessor

    wire_coprocessor(factory, sim, cfg)

