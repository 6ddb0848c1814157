"""Choosing gpiozero's pin factory by name, through gpiozero's own entry points.

The daemon never imports hwsim: `--sim` (or `gpio.pin_factory = "hwsim"`) names
the factory, and the `gpiozero_pin_factories` entry point that hwsim registers
does the rest — exactly how gpiozero finds lgpio, rpigpio or mock.
"""

from __future__ import annotations

import os
from importlib.metadata import entry_points
from typing import Any

from gpiozero import Device

from device.errors import DeviceError


def available_factories() -> list[str]:
    return sorted(ep.name for ep in entry_points(group="gpiozero_pin_factories"))


def load_pin_factory(name: str | None) -> Any:
    """Make the named pin factory the process default and return it.

    With no name, `$GPIOZERO_PIN_FACTORY` is honoured, else gpiozero picks.
    """
    name = name or os.environ.get("GPIOZERO_PIN_FACTORY") or None
    if name is None:
        try:
            return Device._default_pin_factory()
        except Exception as e:  # gpiozero raises BadPinFactory after trying every backend
            raise DeviceError(
                f"no GPIO backend works here ({e}); on a machine without GPIO use --sim"
            ) from None
    for ep in entry_points(group="gpiozero_pin_factories"):
        if ep.name == name.lower():
            try:
                factory = ep.load()()
            except Exception as e:
                raise DeviceError(f"pin factory {name!r} failed to start: {e}") from None
            Device.pin_factory = factory
            return factory
    raise DeviceError(f"unknown pin factory {name!r}; installed: {', '.join(available_factories())}")


def release_pin_factory() -> None:
    """Close the default factory (after every device is closed)."""
    factory = Device.pin_factory
    Device.pin_factory = None
    if factory is not None:
        try:
            factory.close()
        except Exception:
            pass
