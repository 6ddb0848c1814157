"""Polled sensors: light level (LDR), distance (HC-SR04), MCP3008 channels, CPU temperature.

Each wraps one gpiozero device; `read()` returns the value to publish, rounded
to what the sensor can really resolve.

The light and distance sensors average a queue of samples that gpiozero fills
on its own thread. Built with `partial=True`, gpiozero answers 0.0 while that
queue is still empty — a value the sensor never measured. `read()` raises
`NoSample` instead until the first real sample is in, and the poller publishes
nothing for that slot. The daemon calls `read()` on the
component's own thread with a timeout, so a read that hangs or raises degrades
this entity only.

File-backed sensors (the CPU temperature) read their file through `SharedFile`:
however many entities share one file, it is read once per poll tick.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

from gpiozero import MCP3008, DistanceSensor, LightSensor

from device.components.base import PolledComponent, close_quietly
from device.config.model import CpuTemperatureConfig, DistanceConfig, LightConfig, Mcp3008Config
from device.errors import DeviceError, NoSample


def require_sample(dev: object) -> None:
    """Raise NoSample while a smoothed gpiozero device's sample queue is still empty."""
    queue = getattr(getattr(dev, "_queue", None), "queue", None)
    if queue is not None and len(queue) == 0:
        raise NoSample("no sample measured yet")


class LightLevel(PolledComponent):
    """LDR + capacitor on one pin; published as a percentage (0 = dark, 100 = bright)."""

    kind = "light"
    unit = "%"

    def __init__(self, cfg: LightConfig, pin_factory: Any = None) -> None:
        super().__init__(cfg, pin_factory)
        self.lcfg = cfg
        self._dev: LightSensor | None = None

    def open(self) -> None:
        self._dev = LightSensor(
            self.lcfg.pin,
            queue_len=3,
            charge_time_limit=self.lcfg.charge_time_limit,
            partial=True,
            pin_factory=self.pin_factory,
        )

    def read(self) -> float:
        assert self._dev is not None
        require_sample(self._dev)
        return round(float(self._dev.value) * 100.0, 1)

    def close(self) -> None:
        dev, self._dev = self._dev, None
        close_quietly(dev)


class Distance(PolledComponent):
    """HC-SR04 ultrasonic ranger; published in metres (mm resolution)."""

    kind = "distance"
    unit = "m"
    device_class = "distance"

    def __init__(self, cfg: DistanceConfig, pin_factory: Any = None) -> None:
        super().__init__(cfg, pin_factory)
        self.dcfg = cfg
        self._dev: DistanceSensor | None = None

    def open(self) -> None:
        import warnings

        with warnings.catch_warnings():
            # Software PWM fallback is expected for the trigger pin; not a user problem.
            warnings.simplefilter("ignore")
            self._dev = DistanceSensor(
                echo=self.dcfg.echo,
                trigger=self.dcfg.trigger,
                max_distance=self.dcfg.max_distance,
                queue_len=3,
                partial=True,
                pin_factory=self.pin_factory,
            )

    def read(self) -> float:
        assert self._dev is not None
        require_sample(self._dev)
        return round(float(self._dev.distance), 3)

    def close(self) -> None:
        dev, self._dev = self._dev, None
        close_quietly(dev)


class Mcp3008Channel(PolledComponent):
    """One channel of an MCP3008 10-bit ADC on SPI0; published in volts (or scaled)."""

    kind = "mcp3008"
    device_class = "voltage"

    def __init__(self, cfg: Mcp3008Config, pin_factory: Any = None) -> None:
        super().__init__(cfg, pin_factory)
        self.mcfg = cfg
        self._dev: MCP3008 | None = None

    def unit_of_measurement(self) -> str | None:
        return self.mcfg.unit

    def describe(self) -> Any:
        info = super().describe()
        if self.mcfg.unit != "V":
            from dataclasses import replace

            info = replace(info, device_class=None)
        return info

    def open(self) -> None:
        self._dev = MCP3008(
            channel=self.mcfg.channel,
            device=self.mcfg.select,
            max_voltage=self.mcfg.vref,
            pin_factory=self.pin_factory,
        )

    def read(self) -> float:
        assert self._dev is not None
        volts = float(self._dev.voltage)
        return round(volts * self.mcfg.scale + self.mcfg.offset, 4)

    def close(self) -> None:
        dev, self._dev = self._dev, None
        close_quietly(dev)


class SharedFile:
    """One small file (sysfs) read at most once per poll tick, whoever asks.

    Entities sharing the file usually share a poll group, so they ask within a few
    milliseconds of each other: a text read less than `max_age` seconds ago (half the
    asking entity's interval) is handed out again instead of opening the file anew.
    A failed read is not remembered: the next entity tries the file itself.
    """

    _all: dict[str, SharedFile] = {}
    _all_lock = threading.Lock()

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._text = ""
        self._at = -1e9
        self.reads = 0

    @classmethod
    def of(cls, path: Path) -> SharedFile:
        key = os.path.abspath(path)
        with cls._all_lock:
            shared = cls._all.get(key)
            if shared is None:
                shared = cls._all[key] = SharedFile(key)
            return shared

    def read_text(self, max_age: float) -> str:
        with self._lock:
            now = time.monotonic()
            if now - self._at < max_age:
                return self._text
            fd = os.open(self.path, os.O_RDONLY)
            try:
                data = os.read(fd, 256)
            finally:
                os.close(fd)
            self._text, self._at = data.decode("ascii", "replace"), now
            self.reads += 1
            return self._text


class CpuTemp(PolledComponent):
    """The SoC temperature from sysfs (or any file holding millidegrees)."""

    kind = "cpu_temperature"
    unit = "°C"
    device_class = "temperature"

    def __init__(self, cfg: CpuTemperatureConfig, pin_factory: Any = None) -> None:
        super().__init__(cfg, pin_factory)
        self.ccfg = cfg
        self._file: SharedFile | None = None
        self._max_age = cfg.interval / 2

    def open(self) -> None:
        if not self.ccfg.sensor_file.exists():
            raise DeviceError(f"{self.ccfg.sensor_file}: no such file (is this a Raspberry Pi?)")
        self._file = SharedFile.of(self.ccfg.sensor_file)

    def read(self) -> float:
        assert self._file is not None
        try:
            return round(float(self._file.read_text(self._max_age)) / 1000, 1)
        except (OSError, ValueError) as e:
            raise DeviceError(f"{self.ccfg.sensor_file}: unreadable: {e}") from None

    def close(self) -> None:
        self._file = None
