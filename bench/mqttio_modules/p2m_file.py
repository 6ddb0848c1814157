"""mqtt-io sensor module for the bench: a number read from a text file.

The file holds millidegrees, as /sys/class/thermal/thermal_zone0/temp does; the
value is degrees. Like mqtt-io's other sensor modules, each sensor reads on its own
(mqtt-io runs `get_value` in its thread pool, once per sensor and interval).
"""

from __future__ import annotations

from typing import Any

from mqtt_io.modules.sensor import GenericSensor  # type: ignore[import-not-found]

REQUIREMENTS = ()
CONFIG_SCHEMA = {"path": {"type": "string", "required": True, "empty": False}}


class Sensor(GenericSensor):  # type: ignore[misc]
    """The number in `path` ÷ 1000."""

    def setup_module(self) -> None:
        self.path = self.config["path"]

    def get_value(self, sens_conf: Any) -> float:
        with open(self.path, encoding="ascii") as f:
            return int(f.read()) / 1000
