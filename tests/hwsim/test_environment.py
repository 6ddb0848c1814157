"""The simulated room: plausible ranges, overrides, speed and seeded determinism."""

import time
from dataclasses import replace

import pytest
from p2mfw.bme280 import BME280

from hwsim.chips.bme280 import BME280Model
from hwsim.environment import (
    INDOOR_HUMIDITY,
    INDOOR_TEMPERATURE,
    Environment,
    speed_from_env,
)
from hwsim.i2c import SimI2C

START = 1_750_000_000.0  # a fixed epoch instant, so the daily phase is the same every run


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _week(env: Environment, clock: FakeClock, step_s: float = 600.0) -> list[tuple[float, float, float]]:
    out = []
    for _ in range(int(7 * 86400 / step_s)):
        clock.now += step_s
        out.append(env.sample())
    return out


def test_environment_stays_in_plausible_indoor_ranges() -> None:
    for seed in range(5):
        clock = FakeClock()
        env = Environment(seed=seed, speed=1.0, clock=clock, start=START)
        samples = _week(env, clock)
        temps = [s[0] for s in samples]
        rhs = [s[1] for s in samples]
        pressures = [s[2] for s in samples]
        assert 19.0 <= min(temps) and max(temps) <= 23.0
        assert 35.0 <= min(rhs) and max(rhs) <= 55.0
        assert 1008.0 <= min(pressures) and max(pressures) <= 1018.0
        assert max(temps) - min(temps) > 0.5  # it does move


def test_environment_is_deterministic_with_a_seed() -> None:
    runs = []
    for _ in range(2):
        clock = FakeClock()
        env = Environment(seed=42, speed=1.0, clock=clock, start=START)
        runs.append(_week(env, clock, step_s=3600.0))
    assert runs[0] == runs[1]
    clock = FakeClock()
    other = Environment(seed=43, speed=1.0, clock=clock, start=START)
    assert _week(other, clock, step_s=3600.0) != runs[0]


def test_environment_overrides_pin_values_until_auto() -> None:
    clock = FakeClock()
    env = Environment(seed=1, speed=1.0, clock=clock, start=START)
    env.set_temperature(30.5)
    env.set_humidity(80.0)
    env.set_pressure(990.0)
    clock.now += 3600.0
    assert env.sample() == (30.5, 80.0, 990.0)
    env.auto("humidity")
    t, rh, p = env.sample()
    assert t == 30.5 and p == 990.0 and 35.0 <= rh <= 55.0
    assert env.overrides() == {"temperature": 30.5, "humidity": None, "pressure": 990.0}
    env.auto()
    t, rh, p = env.sample()
    assert 19.0 <= t <= 23.0 and 1008.0 <= p <= 1018.0


def test_environment_refuses_impossible_values() -> None:
    env = Environment(seed=1, speed=1.0)
    with pytest.raises(ValueError, match="humidity"):
        env.set_humidity(120.0)
    with pytest.raises(ValueError, match="unknown quantity"):
        env.auto("wind")


def test_environment_speed_scales_simulated_time(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    env = Environment(seed=1, speed=60.0, clock=clock, start=START)
    clock.now += 10.0
    assert env.elapsed() == pytest.approx(600.0)
    monkeypatch.setenv("HWSIM_SPEED", "3600")
    assert speed_from_env() == 3600.0
    assert Environment(seed=1).speed == 3600.0
    monkeypatch.setenv("HWSIM_SPEED", "fast")
    with pytest.raises(ValueError, match="HWSIM_SPEED"):
        speed_from_env()
    monkeypatch.delenv("HWSIM_SPEED")
    assert speed_from_env() == 1.0


def test_environment_daily_cycle_warms_in_the_afternoon() -> None:
    # With the walk silenced, the curve alone must put 15:00 above 03:00 local time.
    clock = FakeClock()
    env = Environment(
        seed=1, speed=1.0, clock=clock, start=START,
        temperature=replace(INDOOR_TEMPERATURE, walk_sigma=0.0),
        humidity=replace(INDOOR_HUMIDITY, walk_sigma=0.0),
    )
    lt = time.localtime(START)
    to_3am = ((3 - lt.tm_hour) % 24) * 3600.0 - lt.tm_min * 60.0 - lt.tm_sec
    clock.now += to_3am
    night = env.sample()
    clock.now += 12 * 3600.0
    afternoon = env.sample()
    assert afternoon[0] > night[0] + 1.5
    assert afternoon[1] < night[1] - 5.0


def test_environment_feeds_the_chip_model_through_the_driver() -> None:
    env = Environment(seed=3, speed=1.0)
    env.set_temperature(24.25)
    bus = SimI2C()
    bus.attach(0x77, BME280Model(env.source(), noise=False))
    t, p, h = BME280(bus, 0x77).read()
    _, want_h, want_p = env.sample()
    assert abs(t / 100 - 24.25) <= 0.05
    assert abs(p / 256 - want_p * 100) <= 5.0
    assert abs(h / 1024 - want_h) <= 0.5
