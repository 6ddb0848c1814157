"""Run mqtt-io 2.7 for bench/mqttio_bench.py (with mqtt-io's own interpreter).

    /tmp/mqttio-venv/bin/python bench/mqttio_run.py CONFIG.yml

Two additions, neither in the path of a reading:
- mqtt-io's config schema takes a sensor's `interval` in whole seconds (integer, ≥ 1);
  the bench's loads need 0.1 s and 0.01 s, so fractions are let through. Its poll loop
  (`await asyncio.sleep(interval)` after each read) takes a float as it is.
- the sensor module `p2m_file` (bench/mqttio_modules/p2m_file.py: a number read from
  a text file, as the daemon's cpu_temperature entity reads its `sensor_file`) joins
  mqtt-io's sensor modules.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mqtt_io.config as mqttio_config  # type: ignore[import-not-found]
import mqtt_io.modules.sensor as mqttio_sensors  # type: ignore[import-not-found]
from mqtt_io.__main__ import main  # type: ignore[import-not-found]

_schema = mqttio_config.get_main_schema


def schema_with_fractional_intervals() -> Any:
    schema = _schema()
    schema["sensor_inputs"]["schema"]["schema"]["interval"].update(type="number", min=0.001)
    return schema


mqttio_config.get_main_schema = schema_with_fractional_intervals
mqttio_sensors.__path__.append(str(Path(__file__).resolve().parent / "mqttio_modules"))

if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
