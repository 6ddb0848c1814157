"""The `[[motion]]` kind: a PIR sensor's output; the value is true while it sees motion."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from device.components.binary import BinaryInput
from device.components.kind import kind
from device.config.durations import Duration
from device.config.fragments import Binary

if TYPE_CHECKING:
    from gpiozero import DigitalInputDevice

    from device.components.seams import Assembly, SimBench


@dataclass(frozen=True, kw_only=True)
class MotionConfig(Binary):
    debounce: Duration = 0.0


class MotionInput(BinaryInput):
    kind = "motion"
    device_class = "motion"

    def _make(self) -> DigitalInputDevice:
        from gpiozero import DigitalInputDevice

        # Not gpiozero's MotionSensor: it samples at 10 Hz through a queue (up to 100 ms late).
        return DigitalInputDevice(self.bcfg.pin, pull_up=False, pin_factory=self.pin_factory)


def build(cfg: MotionConfig, parts: Assembly) -> None:
    parts.add_component(MotionInput(cfg, parts.pin_factory))


def place(cfg: MotionConfig, bench: SimBench) -> None:
    bench.motion(cfg.pin, cfg.name)


KIND = kind("motion", MotionConfig, build=build, place=place)
