"""Shared config fragments: the base of every config model, the GPIO pin type, and the
bases every device kind's schema is built from (`Entity`, `Polled`, `Binary`, `Output`).

They play the role of ESPHome's `sensor_schema`/`polling_component_schema`: each
kind's module in device/components declares its schema from them.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from device.config.durations import Duration

BcmPin = Annotated[int, Field(ge=0, le=27, description="BCM GPIO number")]
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class Section(BaseModel):
    """Base of every config model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Entity(Section):
    """Every device: its entity name (the topic segment) and an optional display name."""

    name: str
    friendly_name: str | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not NAME_RE.match(v):
            raise ValueError("use 1-64 characters from a-z, 0-9, _ and -, starting with a letter or digit")
        return v


class Polled(Entity):
    """A device read on a schedule: interval, optional deadband and heartbeat, read timeout."""

    interval: Duration = 10.0
    deadband: float | None = Field(default=None, ge=0)
    heartbeat: Duration | None = None
    timeout: Duration = 2.0

    @field_validator("interval")
    @classmethod
    def _interval(cls, v: float) -> float:
        if v < 0.01:
            raise ValueError("interval must be at least 10ms")
        return v

    @model_validator(mode="after")
    def _heartbeat(self) -> Polled:
        if self.heartbeat is not None and self.heartbeat < self.interval:
            raise ValueError("heartbeat must be at least the interval")
        return self


class Binary(Entity):
    """A two-state input on one pin."""

    pin: BcmPin
    debounce: Duration = 0.02


class OutputConfig(Entity):
    """An on/off output on one pin (LED, relay)."""

    pin: BcmPin
    active_high: bool = True
    initial: bool = False
