"""File-backed sensors read their file once per poll tick, however many entities share it (issue 14, item 5)."""

from __future__ import annotations

from pathlib import Path

import pytest

from device.components.cpu_temperature import CpuTemp, CpuTemperatureConfig
from device.components.polled import SharedFile
from device.errors import DeviceError


def _temps(path: Path, n: int, interval: float = 10.0) -> list[CpuTemp]:
    comps = [CpuTemp(CpuTemperatureConfig(name=f"t{i}", interval=interval, sensor_file=path)) for i in range(n)]
    for c in comps:
        c.open()
    return comps


def test_one_read_per_tick_for_all_entities(tmp_path: Path) -> None:
    f = tmp_path / "temp"
    f.write_text("45678\n")
    comps = _temps(f, 10)
    shared = SharedFile.of(f)
    before = shared.reads
    assert [c.read() for c in comps] == [45.7] * 10
    assert shared.reads == before + 1


def test_max_age_zero_reads_the_file_again(tmp_path: Path) -> None:
    f = tmp_path / "temp"
    f.write_text("40000")
    shared = SharedFile.of(f)
    assert shared.read_text(0.0) == "40000"
    f.write_text("41000")
    assert shared.read_text(0.0) == "41000"
    assert SharedFile.of(tmp_path / "." / "temp") is shared


def test_a_failed_read_is_not_remembered(tmp_path: Path) -> None:
    f = tmp_path / "temp"
    f.write_text("40000")
    a, b = _temps(f, 2, interval=0.01)
    f.unlink()
    for c in (a, b):
        with pytest.raises(DeviceError, match="unreadable"):
            c.read()
    f.write_text("not a number")
    with pytest.raises(DeviceError, match="unreadable"):
        a.read()
