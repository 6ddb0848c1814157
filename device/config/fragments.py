"""Shared config fragments: the base of every config model, and the GPIO pin type."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

BcmPin = Annotated[int, Field(ge=0, le=27, description="BCM GPIO number")]


class Section(BaseModel):
    """Base of every config model: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)
