"""The `[radio]` config section: which tuner, which band plan, how it starts, its knobs and buttons."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from device.config.durations import Duration
from device.config.fragments import BcmPin, Section

CONTROL_PINS = (
    "seek_up_pin", "seek_down_pin", "preset_next_pin", "preset_prev_pin", "mute_pin",
    "encoder_a_pin", "encoder_b_pin",
)


class RadioConfig(Section):
    """An FM tuner behind the co-processor (needs `[coprocessor]`)."""

    name: str = "radio"
    chip: Literal["auto", "rda5807m", "si4703"] = "auto"
    region: Literal["europe", "us", "japan", "wide", "rda_87", "oirt"] = "europe"
    spacing_khz: int | None = Field(default=None, description="channel raster; default: the region's")
    seek_threshold: int = Field(default=25, ge=0, le=127, description="dBµV")
    volume: int = Field(default=8, ge=0, le=15)
    frequency: float | None = Field(default=None, description="MHz tuned at first start; default: band bottom")
    softmute: bool = True
    rds: bool = True
    status_interval: Duration = Field(default=1.0, ge=0.2, le=60.0, description="tuner status poll while idle")
    scan_rds_time: Duration = Field(default=2.0, ge=0.0, le=10.0,
                                    description="longest wait for a PS on each station a scan finds")
    max_presets: int = Field(default=30, ge=1, le=99)
    seek_up_pin: BcmPin | None = None
    seek_down_pin: BcmPin | None = None
    preset_next_pin: BcmPin | None = None
    preset_prev_pin: BcmPin | None = None
    mute_pin: BcmPin | None = None
    encoder_a_pin: BcmPin | None = None
    encoder_b_pin: BcmPin | None = None
    buttons_pull_up: bool = True
    bounce_time: Duration = Field(default=0.03, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _pins(self) -> RadioConfig:
        used: dict[int, str] = {}
        for key in CONTROL_PINS:
            pin = getattr(self, key)
            if pin is None:
                continue
            if pin in used:
                raise ValueError(f"GPIO{pin} is given to both {used[pin]} and {key}")
            used[pin] = key
        if (self.encoder_a_pin is None) != (self.encoder_b_pin is None):
            raise ValueError("a rotary encoder needs both encoder_a_pin and encoder_b_pin")
        return self

    def control_pins(self) -> dict[str, int]:
        """The physical controls that are wired: config key -> BCM pin."""
        return {k: getattr(self, k) for k in CONTROL_PINS if getattr(self, k) is not None}
