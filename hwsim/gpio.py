"""The gpiozero pin factory `hwsim`: simulated pins wired to the simulated world.

Select it with ``GPIOZERO_PIN_FACTORY=hwsim`` (entry point ``hwsim`` in the
``gpiozero_pin_factories`` group) or ``Device.pin_factory = SimFactory()``.
On construction it reads the environment (``HWSIM_ID``, ``HWSIM_BROKER``,
``HWSIM_DIR``, ``HWSIM_AUTO``, ``HWSIM_SPEED``, ``HWSIM_SEED``, ``HWSIM_HOUR``;
keyword arguments win), creates the process's `hwsim.sim.Simulation`, calls
`place(bench)` (if given) to put the simulated devices on their pins through
the typed calls of `hwsim.bench.Bench`, and starts the simulation. Without
`place` it is a plain simulated factory: inputs idle at their pull, and the SoC
temperature file is written. hwsim reads no pi2mqtt config: under `--sim` the
daemon passes a `place` that calls each configured kind's wiring hook.

Every GPIO is a `hwsim.pins.SimPin` (gpiozero's `MockPin` extended with what the
world needs; see that module).
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
from hwsim.bench import Bench
from hwsim.pins import SPI0_CLOCK, SPI0_MISO, SPI0_MOSI, SPI0_SELECT, SimPin, SpiWatcher
from hwsim.sim import Simulation
from hwsim.world import Mcp3008

__all__ = ["Bench", "SimFactory", "SimPin"]

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
        place: Callable[[Bench], None] | None = None,
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
        )
        self.chips: dict[int, Mcp3008] = {}
        try:
            bench = Bench(self, self.sim)
            if place is not None:
                place(bench)
            bench.finish()
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
