"""Light and distance sensors publish only what they measured (issue 10, bug 6).

gpiozero's smoothed devices built with `partial=True` answer 0.0 while their
sample queue is still empty; that 0 % / 0 m must never reach MQTT.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from device.components.base import PolledComponent
from device.components.distance import Distance, DistanceConfig
from device.components.light import LightConfig, LightLevel
from device.core.poller import PollGroup
from device.errors import NoSample
from tests.hwsim import Rig, eventually


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    r = Rig(tmp_path)
    yield r
    r.close()


def test_light_level_refuses_to_read_before_its_first_sample(rig: Rig) -> None:
    # Pin 9 has no LDR wired: each sample waits the whole charge time limit
    # (2 s) and the queue stays empty meanwhile. Before the fix this read 0.0.
    light = LightLevel(LightConfig(name="daylight", pin=9, charge_time_limit=2.0), rig.factory)
    light.open()
    try:
        with pytest.raises(NoSample):
            light.read()
    finally:
        light.close()


def test_light_level_reads_once_sampled(rig: Rig) -> None:
    rig.sim.device("light").set_lux(1000)
    light = LightLevel(LightConfig(name="light", pin=18), rig.factory)
    light.open()
    try:
        values: list[float] = []

        def sampled() -> bool:
            try:
                values.append(light.read())
            except NoSample:
                return False
            return True

        eventually(sampled, what="a light sample")
        assert values[-1] > 90.0
    finally:
        light.close()


def test_distance_without_an_echo_is_never_zero(rig: Rig) -> None:
    # Echo on a pin nothing drives: every ping times out, gpiozero ignores it,
    # and the queue stays empty. Before the fix this read 0.0 m.
    dist = Distance(DistanceConfig(name="tank_level", echo=10, trigger=11, max_distance=2.0), rig.factory)
    dist.open()
    try:
        with pytest.raises(NoSample):
            dist.read()
    finally:
        dist.close()


def test_distance_reads_the_target_once_sampled(rig: Rig) -> None:
    rig.sim.device("tank_level").set_distance(0.5)
    dist = Distance(DistanceConfig(name="tank_level", echo=24, trigger=23, max_distance=2.0), rig.factory)
    dist.open()
    try:
        got: list[float] = []

        def sampled() -> bool:
            try:
                got.append(dist.read())
            except NoSample:
                return False
            return True

        eventually(sampled, what="a distance sample")
        assert abs(got[-1] - 0.5) < 0.05
    finally:
        dist.close()


class _Scripted(PolledComponent):
    """Raises NoSample for its first reads, then returns numbers."""

    kind = "light"

    def __init__(self, empty_reads: int) -> None:
        super().__init__(LightConfig(name="scripted", pin=9))
        self.left = empty_reads
        self.n = 0

    def read(self) -> Any:
        if self.left > 0:
            self.left -= 1
            raise NoSample("no sample measured yet")
        self.n += 1
        return float(self.n)


def test_poller_publishes_nothing_for_a_slot_without_a_sample() -> None:
    comp = _Scripted(empty_reads=2)
    seen: list[tuple[Any, str | None]] = []
    stop = threading.Event()
    got_two = threading.Event()

    def on_value(c: PolledComponent, value: Any, ts: float, error: str | None) -> None:
        seen.append((value, error))
        if len(seen) >= 2:
            got_two.set()

    group = PollGroup([comp], 0.01, {"scripted": 1.0}, on_value, stop)
    group.start()
    try:
        assert got_two.wait(5.0), "no readings"
    finally:
        stop.set()
        group.join(2.0)
    assert seen[:2] == [(1.0, None), (2.0, None)]



def test_distance_closes_without_its_sampler_pinging_a_closed_trigger(
        rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    """gpiozero's DistanceSensor.close() drops its trigger before it stops its sampling
    thread; a sample taken in between pinged through None (a traceback from the "(fill)"
    thread at the demo's shutdown). Here the trigger's close lets the sampler run once more
    (the race, made certain): it must have been stopped already."""
    failures: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: failures.append(args.exc_value))
    rig.sim.device("tank_level").set_distance(0.5)
    dist = Distance(DistanceConfig(name="tank_level", echo=24, trigger=23, max_distance=2.0), rig.factory)
    dist.open()
    dev: Any = dist._dev
    sampled = threading.Event()
    read = dev._read

    def counted_read() -> Any:
        sampled.set()
        return read()

    dev._read = counted_read
    eventually(sampled.is_set, what="a sample")
    trigger_close = dev._trigger.close

    def close_then_give_the_sampler_a_turn() -> None:
        trigger_close()
        sampled.clear()
        sampled.wait(1.0)  # with the sampler still running, it samples within 0.1 s

    dev._trigger.close = close_then_give_the_sampler_a_turn
    dist.close()
    assert failures == []
