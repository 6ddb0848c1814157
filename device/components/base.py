"""The one lifecycle every component shares: open, poll or react, describe, close.

A component wraps one physical device (one entity). Polled components return a
value from `read()` — which may block or raise; the daemon runs it with a
timeout on the component's own thread. Event components push values through
the `emit` callback they get in `start()`. Output components take commands in
`apply()`, which validates *before* touching the hardware and raises
`CommandError` for anything it refuses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from device.config.fragments import Entity

if TYPE_CHECKING:
    from gpiozero import Factory

    from device.core.values import Json

Emit = Callable[["Json"], None]


@dataclass(frozen=True, slots=True)
class EntityInfo:
    """What discovery and the docs need to know about an entity."""

    name: str
    kind: str
    platform: str  # sensor, binary_sensor, switch, light, ...
    unit: str | None = None
    device_class: str | None = None
    controllable: bool = False
    friendly_name: str | None = None


class Component:
    """Base class: one device, one entity."""

    kind: ClassVar[str] = ""
    platform: ClassVar[str] = "sensor"
    unit: ClassVar[str | None] = None
    device_class: ClassVar[str | None] = None
    # A component that reads several quantities at once names them here:
    # suffix -> (unit, device_class). Its entities are "<name>_<suffix>" and
    # `read()` returns {suffix: value}.
    channels: ClassVar[dict[str, tuple[str | None, str | None]]] = {}

    def __init__(self, cfg: Entity, pin_factory: Factory | None = None) -> None:
        self.cfg = cfg
        self.pin_factory = pin_factory

    @property
    def name(self) -> str:
        return self.cfg.name

    def open(self) -> None:
        """Create the underlying gpiozero device(s); may raise DeviceError."""

    def close(self) -> None:
        """Release the device; must not raise."""

    def entities(self) -> list[tuple[str, str | None]]:
        """(entity name, unit) of every entity this component publishes."""
        if not self.channels:
            return [(self.name, self.unit_of_measurement())]
        return [(f"{self.name}_{suffix}", unit) for suffix, (unit, _) in self.channels.items()]

    def describe_all(self) -> list[EntityInfo]:
        """One EntityInfo per entity (discovery)."""
        if not self.channels:
            return [self.describe()]
        base = self.cfg.friendly_name or self.name
        return [
            EntityInfo(name=f"{self.name}_{suffix}", kind=self.kind, platform=self.platform, unit=unit,
                       device_class=dc, friendly_name=f"{base} {suffix}")
            for suffix, (unit, dc) in self.channels.items()
        ]

    def describe(self) -> EntityInfo:
        return EntityInfo(
            name=self.name,
            kind=self.kind,
            platform=self.platform,
            unit=self.unit_of_measurement(),
            device_class=self.device_class,
            controllable=isinstance(self, OutputComponent),
            friendly_name=self.cfg.friendly_name,
        )

    def unit_of_measurement(self) -> str | None:
        return self.unit

    def __enter__(self) -> Component:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class PolledComponent(Component):
    """A device read on a schedule."""

    def read(self) -> Json:
        raise NotImplementedError


class EventComponent(Component):
    """A device that reports changes as they happen."""

    def start(self, emit: Emit) -> None:
        raise NotImplementedError

    def current(self) -> Json:
        """The present value (published once at start)."""
        raise NotImplementedError


class OutputComponent(Component):
    """A device the daemon drives on command."""

    def apply(self, value: Json) -> Json:
        """Validate then apply a command value; return the new state. Raises CommandError."""
        raise NotImplementedError

    def state(self) -> Json:
        raise NotImplementedError


def close_quietly(dev: object) -> None:
    """Close a gpiozero device, ignoring errors (used on shutdown paths)."""
    close = getattr(dev, "close", None)
    if close is None:
        return
    try:
        close()
    except Exception:
        pass
