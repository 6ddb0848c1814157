"""The `[[cpu_temperature]]` kind: the SoC temperature from sysfs (a file of millidegrees)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from device.components.base import PolledComponent
from device.components.kind import kind
from device.components.polled import SharedFile
from device.config.fragments import Interval, Polled
from device.errors import DeviceError

if TYPE_CHECKING:
    from gpiozero import Factory

    from device.components.seams import Assembly, SimBench


@dataclass(frozen=True, kw_only=True)
class CpuTemperatureConfig(Polled):
    sensor_file: Path = Path("/sys/class/thermal/thermal_zone0/temp")
    interval: Interval = 10.0


class CpuTemp(PolledComponent):
    """The SoC temperature from sysfs (or any file holding millidegrees)."""

    kind = "cpu_temperature"
    unit = "°C"
    device_class = "temperature"

    def __init__(self, cfg: CpuTemperatureConfig, pin_factory: Factory | None = None) -> None:
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
            return self._file.read_number(self._max_age, _celsius)
        except (OSError, ValueError) as e:
            raise DeviceError(f"{self.ccfg.sensor_file}: unreadable: {e}") from None

    def close(self) -> None:
        self._file = None


def _celsius(millidegrees: str) -> float:
    return round(float(millidegrees) / 1000, 1)


def build(cfg: CpuTemperatureConfig, parts: Assembly) -> None:
    parts.add_component(CpuTemp(cfg, parts.pin_factory))


def place(cfg: CpuTemperatureConfig, bench: SimBench) -> None:
    # hwsim writes the SoC temperature to <HWSIM_DIR>/cpu_temp; `--sim` points sensor_file there.
    bench.cpu_temperature(cfg.name)


KIND = kind("cpu_temperature", CpuTemperatureConfig, build=build, place=place)
