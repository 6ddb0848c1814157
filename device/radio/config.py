"""The `[radio]` config section lives with the other sections (device/config/radio.py)."""

from device.config.radio import CONTROL_PINS, RadioConfig

__all__ = ["CONTROL_PINS", "RadioConfig"]
