"""The `[radio]` config section: which tuner, which band plan, how it starts."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from device.config.model import Section


class RadioConfig(Section):
    """An FM tuner behind the co-processor (needs `[coprocessor]`)."""

    name: str = "radio"
    chip: Literal["auto", "rda5807m", "si4703"] = "auto"
    region: Literal["europe", "us", "japan", "wide", "rda_87"] = "europe"
    spacing_khz: int | None = Field(default=None, description="channel raster; default: the region's")
    seek_threshold: int = Field(default=25, ge=0, le=127, description="dBµV")
    volume: int = Field(default=8, ge=0, le=15)
