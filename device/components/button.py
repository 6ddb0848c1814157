"""The `[[button]]` kind: a push button on one GPIO; the value is true while it is pressed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from device.components.binary import BinaryInput
from device.components.kind import kind
from device.config.fragments import Binary

if TYPE_CHECKING:
    from gpiozero import DigitalInputDevice, Factory

    from device.components.seams import Assembly, SimBench


@dataclass(frozen=True, kw_only=True)
class ButtonConfig(Binary):
    pull_up: bool = True


class ButtonInput(BinaryInput):
    kind = "button"

    def __init__(self, cfg: ButtonConfig, pin_factory: Factory | None = None) -> None:
        super().__init__(cfg, pin_factory)
        self.button = cfg

    def _make(self) -> DigitalInputDevice:
        from gpiozero import Button

        return Button(self.button.pin, pull_up=self.button.pull_up, pin_factory=self.pin_factory)


def build(cfg: ButtonConfig, parts: Assembly) -> None:
    parts.add_component(ButtonInput(cfg, parts.pin_factory))


def place(cfg: ButtonConfig, bench: SimBench) -> None:
    bench.button(cfg.pin, cfg.name, pull_up=cfg.pull_up)


KIND = kind("button", ButtonConfig, build=build, place=place)
