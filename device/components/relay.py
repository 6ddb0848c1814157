"""The `[[relay]]` kind: a relay module on one GPIO (active low by default), switched over MQTT."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from device.components.kind import kind
from device.components.outputs import SwitchOutput
from device.config.fragments import OutputConfig

if TYPE_CHECKING:
    from device.components.seams import Assembly, SimBench


@dataclass(frozen=True, kw_only=True)
class RelayConfig(OutputConfig):
    active_high: bool = False


class RelayOutput(SwitchOutput):
    kind = "relay"


def build(cfg: RelayConfig, parts: Assembly) -> None:
    parts.add_component(RelayOutput(cfg, parts.pin_factory))


def place(cfg: RelayConfig, bench: SimBench) -> None:
    bench.output(cfg.name, "relay", cfg.pin, active_high=cfg.active_high)


KIND = kind("relay", RelayConfig, build=build, place=place)
