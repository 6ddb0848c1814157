"""Shared config fragments: the base of every config section, the GPIO pin type, and the
bases every device kind's schema is built from (`Entity`, `Polled`, `Binary`, `Output`).

They play the role of ESPHome's `sensor_schema`/`polling_component_schema`: each
kind's module in device/components declares its schema from them.

Every schema is a frozen, keyword-only stdlib dataclass: the running daemon reads
validated configs without importing pydantic. pydantic validates these dataclasses
when a file is checked (device/config/__init__.py): each field's type and its
markers (device/config/rules.py: bounds, per-value rules) say what it accepts,
`Section.check()` holds the rules across one section's keys, and unknown keys are
errors (`__pydantic_config__`). A dataclass built directly in code is not validated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, ClassVar

from device.config.durations import Duration
from device.config.rules import After, Range

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler
    from pydantic_core import CoreSchema

BcmPin = Annotated[int, Range(ge=0, le=27)]  # BCM GPIO number
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def check_name(v: str) -> str:
    """An entity name or device id: it becomes a topic segment."""
    if not NAME_RE.match(v):
        raise ValueError("use 1-64 characters from a-z, 0-9, _ and -, starting with a letter or digit")
    return v


def _interval(v: float) -> float:
    if v < 0.01:
        raise ValueError("interval must be at least 10ms")
    return v


Name = Annotated[str, After(check_name)]
Interval = Annotated[Duration, After(_interval)]  # a poll interval: a duration of at least 10ms


@dataclass(frozen=True, kw_only=True)
class Section:
    """Base of every config section: unknown keys are errors, values are immutable."""

    __pydantic_config__: ClassVar[dict[str, str]] = {"extra": "forbid"}

    def check(self) -> None:
        """The rules across this section's keys, once each key is valid: raise ValueError."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: object, handler: GetCoreSchemaHandler) -> CoreSchema:
        from pydantic_core import core_schema

        def checked(section: Section) -> Section:
            section.check()
            return section

        return core_schema.no_info_after_validator_function(checked, handler(source))


@dataclass(frozen=True, kw_only=True)
class Entity(Section):
    """Every device: its entity name (the topic segment) and an optional display name."""

    name: Name
    friendly_name: str | None = None


@dataclass(frozen=True, kw_only=True)
class Polled(Entity):
    """A device read on a schedule: interval, optional deadband and heartbeat, read timeout.

    A kind that changes the default interval declares `interval: Interval = ...` again."""

    interval: Interval = 10.0
    deadband: Annotated[float, Range(ge=0)] | None = None
    heartbeat: Duration | None = None
    timeout: Duration = 2.0

    def check(self) -> None:
        if self.heartbeat is not None and self.heartbeat < self.interval:
            raise ValueError("heartbeat must be at least the interval")


@dataclass(frozen=True, kw_only=True)
class Binary(Entity):
    """A two-state input on one pin."""

    pin: BcmPin
    debounce: Duration = 0.02


@dataclass(frozen=True, kw_only=True)
class OutputConfig(Entity):
    """An on/off output on one pin (LED, relay)."""

    pin: BcmPin
    active_high: bool = True
    initial: bool = False
