"""The `[[led]]` kind: an LED on one GPIO, switched on and off over MQTT."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from device.components.kind import kind
from device.components.outputs import SwitchOutput
from device.config.fragments import OutputConfig

if TYPE_CHECKING:
    from gpiozero import OutputDevice

    from device.components.seams import Assembly, SimBench


@dataclass(frozen=True, kw_only=True)
class LedConfig(OutputConfig):
    pass


class LedOutput(SwitchOutput):
    kind = "led"

    def _make(self) -> OutputDevice:
        from gpiozero import LED

        return LED(self.ocfg.pin, active_high=self.ocfg.active_high,
                   initial_value=self.ocfg.initial, pin_factory=self.pin_factory)


def build(cfg: LedConfig, parts: Assembly) -> None:
    parts.add_component(LedOutput(cfg, parts.pin_factory))


def place(cfg: LedConfig, bench: SimBench) -> None:
    bench.output(cfg.name, "led", cfg.pin, active_high=cfg.active_high)


KIND = kind("led", LedConfig, build=build, place=place)
