"""LightSensor, DistanceSensor, MCP3008 and CPUTemperature on SimFactory."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from gpiozero import MCP3008, CPUTemperature, Device, DistanceSensor, LightSensor

from hwsim.gpio import SimFactory
from tests.hwsim import Rig, eventually

LSB = 3.3 / 1024


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    r = Rig(tmp_path)
    yield r
    r.close()


def distance_sensor(rig: Rig) -> DistanceSensor:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PWMSoftwareFallback: not on pigpio
        return rig.add(DistanceSensor(echo=24, trigger=23, max_distance=2.0, queue_len=3))


def test_light_sensor_reads_brighter_for_more_light(rig: Rig) -> None:
    sensor = rig.add(LightSensor(18, queue_len=2, charge_time_limit=0.01))
    light = rig.sim.device("light")
    light.set_lux(1000)
    eventually(lambda: sensor.value > 0.9, what="bright reading")
    light.set_lux(20)
    eventually(lambda: 0.2 < sensor.value < 0.8, what="dim reading")
    light.set_lux(0.5)
    eventually(lambda: sensor.value == 0.0, what="dark reading")


def test_light_follows_the_day_curve_when_auto(rig: Rig) -> None:
    light = rig.sim.device("light")
    light.set_lux(3)
    assert light.lux == 3
    light.auto()
    assert light.light.override is None and light.lux >= 0


def test_distance_sensor_tracks_the_set_distance(rig: Rig) -> None:
    sensor = distance_sensor(rig)
    target = rig.sim.device("tank_level")
    target.set_distance(0.42)
    eventually(lambda: abs(sensor.distance - 0.42) < 0.01, what="0.42 m")
    target.set_distance(1.5)
    eventually(lambda: abs(sensor.distance - 1.5) < 0.01, what="1.5 m")


def test_distance_beyond_the_sensor_range_reads_max(rig: Rig) -> None:
    sensor = distance_sensor(rig)
    rig.sim.device("tank_level").set_distance(6.0)
    eventually(lambda: sensor.value == 1.0, what="max distance")


def test_mcp3008_reads_the_set_voltage(rig: Rig) -> None:
    adc = rig.add(MCP3008(channel=0, device=0))
    rig.sim.device("soil_moisture").set_voltage(1.2)
    for _ in range(20):
        assert abs(adc.value * 3.3 - 1.2) <= 2 * LSB
    rig.sim.device("soil_moisture").set_voltage(3.3)
    assert adc.raw_value == 1023


def test_mcp3008_second_chip_answers_on_ce1(rig: Rig) -> None:
    battery = rig.add(MCP3008(channel=5, device=1))
    soil = rig.add(MCP3008(channel=0, device=0))
    rig.sim.device("battery").set_voltage(0.5)
    rig.sim.device("soil_moisture").set_voltage(2.5)
    assert abs(battery.value * 3.3 - 0.5) <= 2 * LSB
    assert abs(soil.value * 3.3 - 2.5) <= 2 * LSB


def test_cpu_temperature_reads_the_set_value(rig: Rig) -> None:
    cpu = rig.add(CPUTemperature(sensor_file=str(rig.sim.dir / "cpu_temp")))
    rig.sim.device("cpu_temp").set_celsius(55)
    assert cpu.temperature == 55.0
    rig.sim.device("cpu_temp").auto()
    assert 20 < cpu.temperature < 90


def test_mcp3008_answers_without_a_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HWSIM_BROKER", raising=False)
    factory = SimFactory(directory=tmp_path, seed=1)
    Device.pin_factory = factory
    try:
        adc = MCP3008(channel=3)
        assert 0.15 < adc.value < 0.85  # the natural curve wanders around Vref/2
        factory.chips[8].set_voltage(3, 0.0)
        assert adc.raw_value <= 1
        adc.close()
    finally:
        factory.close()
        Device.pin_factory = None
