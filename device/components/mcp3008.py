"""The `[[mcp3008]]` kind: one channel of an MCP3008 10-bit ADC on SPI0; volts, or scaled."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Annotated, Literal

from device.components.base import EntityInfo, PolledComponent, close_quietly
from device.components.kind import kind
from device.config.fragments import Interval, Polled
from device.config.rules import Range

if TYPE_CHECKING:
    from gpiozero import MCP3008, Factory

    from device.components.seams import Assembly, SimBench


@dataclass(frozen=True, kw_only=True)
class Mcp3008Config(Polled):
    channel: Annotated[int, Range(ge=0, le=7)]
    select: Literal[0, 1] = 0
    vref: Annotated[float, Range(gt=0, le=5.5)] = 3.3
    unit: str = "V"
    scale: float = 1.0
    offset: float = 0.0
    interval: Interval = 1.0


class Mcp3008Channel(PolledComponent):
    """One channel of an MCP3008 10-bit ADC on SPI0; published in volts (or scaled)."""

    kind = "mcp3008"
    device_class = "voltage"

    def __init__(self, cfg: Mcp3008Config, pin_factory: Factory | None = None) -> None:
        super().__init__(cfg, pin_factory)
        self.mcfg = cfg
        self._dev: MCP3008 | None = None

    def unit_of_measurement(self) -> str | None:
        return self.mcfg.unit

    def describe(self) -> EntityInfo:
        info = super().describe()
        if self.mcfg.unit != "V":
            info = replace(info, device_class=None)
        return info

    def open(self) -> None:
        from gpiozero import MCP3008

        self._dev = MCP3008(
            channel=self.mcfg.channel,
            device=self.mcfg.select,
            max_voltage=self.mcfg.vref,
            pin_factory=self.pin_factory,
        )

    def read(self) -> float:
        assert self._dev is not None
        volts = float(self._dev.voltage)
        return round(volts * self.mcfg.scale + self.mcfg.offset, 4)

    def close(self) -> None:
        dev, self._dev = self._dev, None
        close_quietly(dev)


def build(cfg: Mcp3008Config, parts: Assembly) -> None:
    parts.add_component(Mcp3008Channel(cfg, parts.pin_factory))


def place(cfg: Mcp3008Config, bench: SimBench) -> None:
    bench.mcp3008(cfg.name, cfg.channel, select=cfg.select, vref=cfg.vref)


KIND = kind("mcp3008", Mcp3008Config, build=build, place=place)
