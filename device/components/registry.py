"""Config kind → component class: the builder that turns a config into objects."""

from __future__ import annotations

from typing import Any

from device.components.base import Component
from device.components.binary import ButtonInput, DoorInput, MotionInput
from device.components.outputs import LedOutput, PwmLedOutput, RelayOutput
from device.components.polled import CpuTemp, Distance, LightLevel, Mcp3008Channel
from device.config.model import Config

COMPONENTS: dict[str, type[Component]] = {
    "button": ButtonInput,
    "door": DoorInput,
    "motion": MotionInput,
    "light": LightLevel,
    "distance": Distance,
    "mcp3008": Mcp3008Channel,
    "cpu_temperature": CpuTemp,
    "led": LedOutput,
    "pwm_led": PwmLedOutput,
    "relay": RelayOutput,
}


def build_components(cfg: Config, pin_factory: Any) -> list[Component]:
    """One component per configured GPIO device (not yet opened); the daemon adds the rest."""
    return [COMPONENTS[kind](ecfg, pin_factory) for kind, ecfg in cfg.entities() if kind in COMPONENTS]
