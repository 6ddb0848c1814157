"""hwsim's simulated devices: what each GPIO device kind looks like to the controls.

Each device wraps a model of the world (`hwsim.world`) under a name, offers the
control actions `hwsim/<id>/<name>/<action>` (press, open, set, auto, …) and a
snapshot of its state. `hwsim.bench.Bench` places them on their pins;
`hwsim.sim.Simulation.add_device` registers them.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from hwsim.control import (
    Handler,
    parse_number,
    parse_optional_number,
    parse_switch,
)
from hwsim.world import (
    Contact,
    Daylight,
    Mcp3008,
    Pir,
    RangeTarget,
    ThermalModel,
)

log = logging.getLogger(__name__)


class SimDevice(Protocol):
    """A named simulated device: its control actions and a snapshot of its state."""

    name: str

    def actions(self) -> dict[str, Handler]: ...

    def snapshot(self) -> dict[str, object]: ...


class ButtonDevice:
    """A push button (`kind` "button"), a front-panel button nobody presses by itself
    (`kind` "panel", e.g. the radio's), or a reed switch on a door (`kind` "door")."""

    def __init__(self, name: str, contact: Contact, kind: str = "button") -> None:
        self.name, self.contact, self.kind = name, contact, kind

    def press(self) -> None:
        self.contact.set_closed(True)

    def release(self) -> None:
        self.contact.set_closed(False)

    def click(self, hold: float = 0.1) -> None:
        if not (0 < hold <= 60):
            raise ValueError(f"hold must be between 0 and 60 s, not {hold!r}")
        self.contact.click(hold)

    # a door is closed while its reed contact is closed (magnet near)
    def open(self) -> None:
        self.contact.set_closed(False)

    def close(self) -> None:
        self.contact.set_closed(True)

    @property
    def pressed(self) -> bool:
        return self.contact.closed

    @property
    def is_open(self) -> bool:
        return not self.contact.closed

    def actions(self) -> dict[str, Handler]:
        if self.kind == "door":
            return {"open": lambda p: self.open(), "close": lambda p: self.close()}
        return {
            "press": lambda p: self.press(),
            "release": lambda p: self.release(),
            "click": lambda p: self.click(parse_optional_number(p, "hold seconds") or 0.1),
        }

    def snapshot(self) -> dict[str, object]:
        if self.kind == "door":
            return {"kind": "door", "open": self.is_open}
        return {"kind": "button", "pressed": self.pressed}


class MotionDevice:
    def __init__(self, name: str, pir: Pir) -> None:
        self.name, self.pir = name, pir

    def trigger(self, hold: float | None = None) -> None:
        self.pir.trigger(hold)

    @property
    def active(self) -> bool:
        return self.pir.active

    def actions(self) -> dict[str, Handler]:
        return {"trigger": lambda p: self.trigger(parse_optional_number(p, "hold seconds"))}

    def snapshot(self) -> dict[str, object]:
        return {"kind": "motion", "active": self.active}


def _auto_action(on: Callable[[], None], freeze: Callable[[], None]) -> Handler:
    def handler(payload: str) -> None:
        (on if parse_switch(payload) else freeze)()

    return handler


class LightDevice:
    def __init__(self, name: str, light: Daylight) -> None:
        self.name, self.light = name, light

    def set_lux(self, lux: float) -> None:
        self.light.set_lux(lux)

    def auto(self) -> None:
        self.light.auto()

    @property
    def lux(self) -> float:
        return self.light.lux()

    def actions(self) -> dict[str, Handler]:
        return {
            "set": lambda p: self.set_lux(parse_number(p, "lux")),
            "auto": _auto_action(self.auto, lambda: self.set_lux(self.lux)),
        }

    def snapshot(self) -> dict[str, object]:
        return {"kind": "light", "lux": round(self.lux, 2), "auto": self.light.override is None}


class DistanceDevice:
    def __init__(self, name: str, target: RangeTarget) -> None:
        self.name, self.target = name, target

    def set_distance(self, metres: float) -> None:
        self.target.set_distance(metres)

    def auto(self) -> None:
        self.target.auto()

    @property
    def distance(self) -> float:
        return self.target.distance()

    def actions(self) -> dict[str, Handler]:
        return {
            "set": lambda p: self.set_distance(parse_number(p, "metres")),
            "auto": _auto_action(self.auto, lambda: self.set_distance(self.distance)),
        }

    def snapshot(self) -> dict[str, object]:
        return {"kind": "distance", "metres": round(self.distance, 4), "auto": self.target.override is None}


class AdcChannelDevice:
    def __init__(self, name: str, chip: Mcp3008, channel: int) -> None:
        self.name, self.chip, self.channel = name, chip, channel

    def set_voltage(self, volts: float) -> None:
        self.chip.set_voltage(self.channel, volts)

    def auto(self) -> None:
        self.chip.auto(self.channel)

    @property
    def voltage(self) -> float:
        return self.chip.voltage(self.channel)

    def actions(self) -> dict[str, Handler]:
        return {
            "set": lambda p: self.set_voltage(parse_number(p, "volts")),
            "auto": _auto_action(self.auto, lambda: self.set_voltage(self.voltage)),
        }

    def snapshot(self) -> dict[str, object]:
        auto = self.chip.overrides[self.channel] is None
        return {"kind": "mcp3008", "volts": round(self.voltage, 4), "auto": auto}


class CpuTempDevice:
    """The SoC temperature, written to `path` (millidegrees, like sysfs) every `period` s."""

    def __init__(self, name: str, model: ThermalModel, path: Path) -> None:
        self.name, self.model, self.path = name, model, path

    def set_celsius(self, celsius: float) -> None:
        self.model.set_celsius(celsius)
        self.write()

    def auto(self) -> None:
        self.model.auto()
        self.write()

    @property
    def celsius(self) -> float:
        return self.model.celsius()

    def write(self) -> None:
        tmp = self.path.with_name(f".{self.path.name}.{threading.get_ident()}.tmp")
        tmp.write_text(f"{round(self.celsius * 1000)}\n")
        os.replace(tmp, self.path)

    def actions(self) -> dict[str, Handler]:
        return {
            "set": lambda p: self.set_celsius(parse_number(p, "degrees Celsius")),
            "auto": _auto_action(self.auto, lambda: self.set_celsius(self.celsius)),
        }

    def snapshot(self) -> dict[str, object]:
        return {"kind": "cpu_temperature", "celsius": round(self.celsius, 2), "auto": self.model.override is None}


# ---------------------------------------------------------------- the simulation
