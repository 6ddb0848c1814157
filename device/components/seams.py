"""The two seams of a device kind, as protocols: what its builder gets (`Assembly`, the
daemon) and what its simulator hook calls (`SimBench`, hwsim's `hwsim.bench.Bench`).

Both are for the type checker and the tests: a kind module imports them under
`TYPE_CHECKING` only, so that validating a config loads neither the daemon nor hwsim.
hwsim's bench satisfies `SimBench` structurally; nothing of hwsim is imported here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from gpiozero import Factory

    from device.components.base import Component
    from device.core.services import Service
    from device.link import LinkClient


class Assembly(Protocol):
    """What a builder gets: the pin factory, the co-processor link, and where its parts go."""

    @property
    def pin_factory(self) -> Factory | None: ...

    @property
    def link(self) -> LinkClient | None: ...

    def add_component(self, comp: Component) -> None: ...

    def add_service(self, service: Service) -> None: ...


class SimBench(Protocol):
    """The simulator's placement calls (hwsim.bench.Bench), one per simulated device."""

    def button(self, pin: int, name: str, *, pull_up: bool = True) -> object: ...

    def door(self, pin: int, name: str, *, pull_up: bool = True) -> object: ...

    def motion(self, pin: int, name: str) -> object: ...

    def light(self, pin: int, name: str) -> object: ...

    def distance(self, echo: int, trigger: int, name: str) -> object: ...

    def mcp3008(self, name: str, channel: int, *, select: int = 0, vref: float = 3.3) -> object: ...

    def cpu_temperature(self, name: str) -> object: ...

    def output(self, name: str, kind: str, pin: int, *, active_high: bool = True) -> object: ...

    def coprocessor(self, *, baud: int = 115200, reset_pin: int | None = None) -> None: ...

    def bme280(self, name: str) -> None: ...

    def radio(self, name: str, *, chip: str = "auto", buttons: Mapping[str, int] | None = None,
              encoder: tuple[int, int] | None = None, pull_up: bool = True) -> None: ...
