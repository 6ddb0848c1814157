"""Shared helpers for the hwsim tests: a wired factory, an edge recorder, a bounded wait."""

from __future__ import annotations

import threading
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gpiozero import Device

from device.components.assemble import place_all
from device.config import parse_config
from hwsim.gpio import SimFactory
from hwsim.sim import Simulation

CONFIG = """
[device]
id = "testpi"

[[button]]
name = "doorbell"
pin = 17
pull_up = true

[[door]]
name = "front_door"
pin = 27

[[motion]]
name = "hall_motion"
pin = 22

[[light]]
name = "light"
pin = 18

[[distance]]
name = "tank_level"
echo = 24
trigger = 23
max_distance = 2.0

[[mcp3008]]
name = "soil_moisture"
channel = 0
select = 0

[[mcp3008]]
name = "battery"
channel = 5
select = 1
vref = 3.3

[[cpu_temperature]]
name = "cpu_temp"

[[led]]
name = "porch_light"
pin = 5

[[pwm_led]]
name = "desk_lamp"
pin = 12

[[relay]]
name = "pump"
pin = 6
active_high = false

[status_led]
pin = 25
"""


class Rig:
    """A SimFactory wired from the test config (validated, each kind placing its device as
    `--sim` does), installed as gpiozero's default; closes all it made."""

    def __init__(self, tmp_path: Path, config: str = CONFIG, **kwargs: Any) -> None:
        path = tmp_path / "pi2mqtt.toml"
        path.write_text(config)
        cfg = parse_config(tomllib.loads(config), str(path))
        kwargs.setdefault("seed", 7)
        kwargs.setdefault("directory", tmp_path / "hwsim")
        kwargs.setdefault("sim_id", cfg.device.id)
        self.factory = SimFactory(place=lambda bench: place_all(cfg, bench), **kwargs)
        self.sim: Simulation = self.factory.sim
        self.devices: list[Any] = []
        Device.pin_factory = self.factory

    def add(self, device: Any) -> Any:
        self.devices.append(device)
        return device

    def close(self) -> None:
        try:
            for device in reversed(self.devices):
                device.close()
        finally:
            self.factory.close()
            Device.pin_factory = None


class Edges:
    """Records (ticks, level) of a gpiozero device's activate/deactivate callbacks."""

    def __init__(self, device: Any) -> None:
        self.events: list[tuple[float, bool]] = []
        self._cond = threading.Condition()
        device.when_activated = lambda: self._add(True)
        device.when_deactivated = lambda: self._add(False)

    def _add(self, active: bool) -> None:
        with self._cond:
            self.events.append((time.monotonic(), active))
            self._cond.notify_all()

    def wait_count(self, n: int, timeout: float = 2.0) -> list[tuple[float, bool]]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.events) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"saw {len(self.events)} edges, wanted {n}: {self.events}")
                self._cond.wait(left)
            return list(self.events)


def eventually(pred: Callable[[], bool], timeout: float = 3.0, what: str = "condition") -> None:
    """Poll `pred` (for values gpiozero only offers by polling) until true or `timeout`."""
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.01)
