"""Outputs the daemon drives are recorded with their history."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from gpiozero import LED, PWMLED, OutputDevice

from tests.hwsim import Rig


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    r = Rig(tmp_path)
    yield r
    r.close()


def test_pwmled_value_is_recorded(rig: Rig) -> None:
    lamp = rig.add(PWMLED(12))
    lamp.value = 0.3
    lamp.value = 0.75
    out = rig.sim.output("desk_lamp")
    assert out.state == 0.75 and lamp.value == 0.75
    assert [c.level for c in out.history][-2:] == [0.3, 0.75]
    lamp.off()
    assert out.state == 0.0


def test_led_on_off_is_recorded(rig: Rig) -> None:
    led = rig.add(LED(5))
    out = rig.sim.output("porch_light")
    led.on()
    assert out.state is True and out.level == 1.0
    led.off()
    assert out.state is False
    assert [c.level for c in out.history][-2:] == [1.0, 0.0]


def test_active_low_relay_reports_its_logical_state(rig: Rig) -> None:
    pump = rig.add(OutputDevice(6, active_high=False, initial_value=False))
    out = rig.sim.output("pump")
    assert out.state is False and out.level == 1.0
    pump.on()
    assert out.state is True and out.level == 0.0


def test_status_led_is_an_output_too(rig: Rig) -> None:
    status = rig.add(LED(25))
    status.blink(on_time=0.01, off_time=0.01, n=2, background=False)
    levels = [c.level for c in rig.sim.output("status_led").history]
    assert levels.count(1.0) == 2 and levels[-1] == 0.0


def test_unknown_output_names_the_known_ones(rig: Rig) -> None:
    with pytest.raises(KeyError, match="porch_light"):
        rig.sim.output("nope")
    with pytest.raises(KeyError, match="doorbell"):
        rig.sim.device("nope")
