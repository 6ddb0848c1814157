"""The `[[door]]` kind: a reed switch on a door; the value is true while the door is open."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from device.components.binary import BinaryInput
from device.components.kind import kind
from device.config.durations import Duration
from device.config.fragments import Binary

if TYPE_CHECKING:
    from gpiozero import DigitalInputDevice, Factory

    from device.components.seams import Assembly, SimBench


@dataclass(frozen=True, kw_only=True)
class DoorConfig(Binary):
    pull_up: bool = True
    debounce: Duration = 0.05


class DoorInput(BinaryInput):
    kind = "door"
    device_class = "door"

    def __init__(self, cfg: DoorConfig, pin_factory: Factory | None = None) -> None:
        super().__init__(cfg, pin_factory)
        self.door = cfg

    def _make(self) -> DigitalInputDevice:
        from gpiozero import DigitalInputDevice

        # A closed reed contact pulls the pin to its active level: active = closed.
        return DigitalInputDevice(self.door.pin, pull_up=self.door.pull_up, pin_factory=self.pin_factory)

    def _value(self, active: bool) -> bool:
        return not active  # published value: True = open


def build(cfg: DoorConfig, parts: Assembly) -> None:
    parts.add_component(DoorInput(cfg, parts.pin_factory))


def place(cfg: DoorConfig, bench: SimBench) -> None:
    bench.door(cfg.pin, cfg.name, pull_up=cfg.pull_up)


KIND = kind("door", DoorConfig, build=build, place=place)
