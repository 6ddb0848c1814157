"""Every device kind, in publishing order: the one table a new kind is added to.

`device.config.model.Config` takes one section per kind from here (a list of
tables, or one table for `many=False`), `device.components.assemble` builds and
simulates them, and tests/hwsim/test_wiring.py checks that each kind places a
simulated device.
"""

from __future__ import annotations

from device.components import (
    bme280,
    button,
    cpu_temperature,
    distance,
    door,
    led,
    light,
    mcp3008,
    motion,
    pwm_led,
    radio,
    relay,
    status_led,
)
from device.components.kind import Kind

KINDS: tuple[Kind, ...] = (
    button.KIND,
    door.KIND,
    motion.KIND,
    light.KIND,
    distance.KIND,
    mcp3008.KIND,
    cpu_temperature.KIND,
    led.KIND,
    pwm_led.KIND,
    relay.KIND,
    bme280.KIND,
    status_led.KIND,
    radio.KIND,
)
BY_KEY: dict[str, Kind] = {k.key: k for k in KINDS}
