"""The `[radio]` config section lives with the other sections (device/config/radio_schema.py)."""

from device.config.radio_schema import CONTROL_PINS, RadioConfig

__all__ = ["CONTROL_PINS", "RadioConfig"]
