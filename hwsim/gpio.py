"""The gpiozero pin factory `hwsim`: simulated pins wired to the simulated world.

Select it with ``GPIOZERO_PIN_FACTORY=hwsim`` (entry point ``hwsim`` in the
``gpiozero_pin_factories`` group) or ``Device.pin_factory = SimFactory()``.
On construction it reads the environment (``HWSIM_CONFIG``, ``HWSIM_ID``,
``HWSIM_BROKER``, ``HWSIM_DIR``, ``HWSIM_AUTO``, ``HWSIM_SPEED``,
``HWSIM_SEED``, ``HWSIM_HOUR``; keyword arguments win), creates the process's
`hwsim.sim.Simulation` and wires every device of the config to its pins.
Without a config it is a plain simulated factory: inputs idle at their pull.

Every GPIO is a `hwsim.pins.SimPin` (gpiozero's `MockPin` extended with what the
world needs; see that module). Wiring: `WIRERS` maps each GPIO device kind of
the config to the function that builds its simulated device on its pins
(`tests/hwsim/test_wiring.py` fails for a kind the daemon knows and hwsim does
not); kinds on the co-processor's I2C bus are wired by `hwsim.coproc`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from gpiozero.exc import (
    PinInvalidPin,
)
from gpiozero.pins.mock import MockFactory

from device.errors import ConfigError
from hwsim.devices import (
    AdcChannelDevice,
    ButtonDevice,
    CpuTempDevice,
    DistanceDevice,
    LightDevice,
    MotionDevice,
)
from hwsim.pins import (
    SPI0_CLOCK,
    SPI0_MISO,
    SPI0_MOSI,
    SPI0_SELECT,
    ChargingWatcher,
    EchoWatcher,
    SimPin,
    SpiWatcher,
)
from hwsim.sim import Simulation, host_load, load_config
from hwsim.world import (
    BUTTON_BOUNCE,
    REED_BOUNCE,
    Contact,
    Daylight,
    Mcp3008,
    OutputRecord,
    Pir,
    RangeTarget,
    ThermalModel,
)

__all__ = ["WIRED_ON_COPROCESSOR", "WIRERS", "SimFactory", "SimPin", "wire"]

log = logging.getLogger(__name__)

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
        self.spi_claimed = False  # SPI0's clock and data pins, once for every MCP3008
        self.selects: set[int] = set()  # SPI0 chip selects already claimed
        self.thermal: ThermalModel | None = None  # one SoC for every cpu_temperature entry

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


Entry = dict[str, Any]
Wirer = Callable[[SimFactory, Simulation, _Wiring, str, str, Entry], None]


def _wire_contact(kind: str) -> Wirer:
    def wire_one(factory: SimFactory, sim: Simulation, w: _Wiring, where: str, name: str, e: Entry) -> None:
        pin = w.claim(w.get(e, "pin", where), f"{where}.pin")
        pull_up = w.get(e, "pull_up", where, True, bool)
        if pin is None:
            return
        contact = Contact(
            factory.pin(pin), sim.scheduler, sim.rng(name), closed_level=not pull_up,
            bounce=BUTTON_BOUNCE if kind == "button" else REED_BOUNCE, closed=kind == "door",
        )
        sim.add_device(ButtonDevice(name, contact, kind))

    return wire_one


def _wire_motion(factory: SimFactory, sim: Simulation, w: _Wiring, where: str, name: str, e: Entry) -> None:
    pin = w.claim(w.get(e, "pin", where), f"{where}.pin")
    if pin is not None:
        sim.add_device(MotionDevice(name, Pir(factory.pin(pin), sim.scheduler)))


def _wire_light(factory: SimFactory, sim: Simulation, w: _Wiring, where: str, name: str, e: Entry) -> None:
    pin = w.claim(w.get(e, "pin", where), f"{where}.pin")
    if pin is None:
        return
    light = Daylight(sim.scheduler, sim.rng(name), speed=sim.speed, start_hour=sim.start_hour)
    p = factory.pin(pin)
    p.watchers.append(ChargingWatcher(light, sim.scheduler))
    p.set_external(False)
    sim.add_device(LightDevice(name, light))


def _wire_distance(factory: SimFactory, sim: Simulation, w: _Wiring, where: str, name: str, e: Entry) -> None:
    echo = w.claim(w.get(e, "echo", where), f"{where}.echo")
    trigger = w.claim(w.get(e, "trigger", where), f"{where}.trigger")
    if echo is None or trigger is None:
        return
    target = RangeTarget(sim.scheduler, sim.rng(name))
    echo_pin = factory.pin(echo)
    echo_pin.set_external(False)
    factory.pin(trigger).watchers.append(EchoWatcher(target, echo_pin, sim.scheduler))
    sim.add_device(DistanceDevice(name, target))


def _wire_mcp3008(factory: SimFactory, sim: Simulation, w: _Wiring, where: str, name: str, e: Entry) -> None:
    if not w.spi_claimed:
        w.spi_claimed = True
        for pin, role in ((SPI0_CLOCK, "SCLK"), (SPI0_MOSI, "MOSI"), (SPI0_MISO, "MISO")):
            w.claim(pin, f"mcp3008 (SPI0 {role})")
    channel = w.get(e, "channel", where, kind=int)
    select = w.get(e, "select", where, 0, int)
    vref = float(w.get(e, "vref", where, 3.3, float | int))  # type: ignore[arg-type]
    if channel is None:
        return
    if not 0 <= channel <= 7:
        w.problems.append(f"{w.source}: {where}.channel: must be 0-7, got {channel}")
        return
    if select not in (0, 1):
        w.problems.append(f"{w.source}: {where}.select: must be 0 (CE0) or 1 (CE1)")
        return
    cs = SPI0_SELECT[select]
    if cs not in w.selects:
        w.claim(cs, f"mcp3008 (SPI0 CE{select})")
        w.selects.add(cs)
    sim.add_device(AdcChannelDevice(name, factory.add_mcp3008(cs, vref), channel))


def _wire_cpu_temperature(factory: SimFactory, sim: Simulation, w: _Wiring, where: str, name: str,
                          e: Entry) -> None:
    if w.thermal is None:
        w.thermal = ThermalModel(sim.scheduler, sim.rng("cpu"), host_load)
    sim.add_device(CpuTempDevice(name, w.thermal, sim.dir / "cpu_temp"))


def _wire_output(kind: str) -> Wirer:
    def wire_one(factory: SimFactory, sim: Simulation, w: _Wiring, where: str, name: str, e: Entry) -> None:
        pin = w.claim(w.get(e, "pin", where), f"{where}.pin")
        active_high = w.get(e, "active_high", where, True, bool)
        if pin is None:
            return
        record = OutputRecord(name, kind, pin, active_high=active_high)
        factory.pin(pin).output_record = record
        sim.add_output(record)

    return wire_one


# Each GPIO device kind of the config and its simulated device, in wiring order.
# A kind the daemon knows and this table does not fails tests/hwsim/test_wiring.py.
WIRERS: dict[str, Wirer] = {
    "button": _wire_contact("button"),
    "door": _wire_contact("door"),
    "motion": _wire_motion,
    "light": _wire_light,
    "distance": _wire_distance,
    "mcp3008": _wire_mcp3008,
    "cpu_temperature": _wire_cpu_temperature,
    "led": _wire_output("led"),
    "pwm_led": _wire_output("pwm_led"),
    "relay": _wire_output("relay"),
    "status_led": _wire_output("status_led"),
}
# Kinds that live on the co-processor's I2C bus: `hwsim.coproc` wires them.
WIRED_ON_COPROCESSOR = frozenset({"bme280", "radio"})


def wire(factory: SimFactory, sim: Simulation, cfg: dict[str, Any], source: str = "") -> None:
    """Create and attach the simulated device of every config entry; ConfigError on a bad one."""
    w = _Wiring(source)
    for kind, wire_one in WIRERS.items():
        entries = _entries(cfg, kind)
        if kind == "cpu_temperature" and not entries:
            entries = [("cpu_temperature", "cpu_temperature", {})]  # the Pi always has one
        for where, name, e in entries:
            wire_one(factory, sim, w, where, name, e)
    from hwsim.encoder import wire_radio_panel

    wire_radio_panel(factory, sim, cfg, w)
    if w.problems:
        raise ConfigError(w.problems)
    from hwsim.coproc import wire_coprocessor

    wire_coprocessor(factory, sim, cfg)

