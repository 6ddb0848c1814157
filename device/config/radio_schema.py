"""The `[radio]` config section: which tuner, which band plan, how it starts, its knobs and buttons."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from device.config.durations import parse_duration
from device.config.fragments import BcmPin, Section
from device.config.rules import Before, Range

CONTROL_PINS = (
    "seek_up_pin", "seek_down_pin", "preset_next_pin", "preset_prev_pin", "mute_pin",
    "encoder_a_pin", "encoder_b_pin",
)


@dataclass(frozen=True, kw_only=True)
class RadioConfig(Section):
    """An FM tuner behind the co-processor (needs `[coprocessor]`)."""

    name: str = "radio"
    chip: Literal["auto", "rda5807m", "si4703"] = "auto"
    region: Literal["europe", "us", "japan", "wide", "rda_87", "oirt"] = "europe"
    spacing_khz: int | None = None  # channel raster; default: the region's
    seek_threshold: Annotated[int, Range(ge=0, le=127)] = 25  # dBµV
    volume: Annotated[int, Range(ge=0, le=15)] = 8
    frequency: float | None = None  # MHz tuned at first start; default: band bottom
    softmute: bool = True
    rds: bool = True
    status_interval: Annotated[float, Range(ge=0.2, le=60.0), Before(parse_duration)] = 1.0  # tuner status poll while idle
    scan_rds_time: Annotated[float, Range(ge=0.0, le=10.0), Before(parse_duration)] = 2.0  # longest wait for a PS on each station a scan finds
    max_presets: Annotated[int, Range(ge=1, le=99)] = 30
    seek_up_pin: BcmPin | None = None
    seek_down_pin: BcmPin | None = None
    preset_next_pin: BcmPin | None = None
    preset_prev_pin: BcmPin | None = None
    mute_pin: BcmPin | None = None
    encoder_a_pin: BcmPin | None = None
    encoder_b_pin: BcmPin | None = None
    buttons_pull_up: bool = True
    bounce_time: Annotated[float, Range(ge=0.0, le=1.0), Before(parse_duration)] = 0.03

    def check(self) -> None:
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

    def control_pins(self) -> dict[str, int]:
        """The physical controls that are wired: config key -> BCM pin."""
        return {k: getattr(self, k) for k in CONTROL_PINS if getattr(self, k) is not None}
