"""The simulated room: temperature, relative humidity and air pressure over time.

Each quantity is `base + limit(daily sine + slow walk) + drift * days`, unless an
override pins it:

- the daily sine peaks mid-afternoon for temperature (15:00) and is inverted for
  humidity (warm air holds more water, so indoor RH dips when it is warm);
  pressure gets the twice-daily atmospheric tide (peaks near 10:00 and 22:00);
- the slow walk is an Ornstein-Uhlenbeck process (mean-reverting random walk with
  time constant tau, 1-6 h), advanced with its exact discretisation so the step
  size does not matter;
- `limit` is a soft clip (span * tanh(x / span)) that keeps the wandering part
  inside base +/- span, so a long run stays plausible;
- drift is linear per simulated day (0 by default).

Simulated time runs at `speed` times wall time (env HWSIM_SPEED, default 1) from
the wall-clock instant the environment was made, so the daily curve follows the
real local hour at speed 1. The clock and the start instant can be injected, and
with a seed the same sequence of clock readings gives the same values.
`sample()` is what the BME280 model's source calls; it is thread-safe.
"""

import math
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

SECONDS_PER_DAY = 86400.0


@dataclass(frozen=True)
class Quantity:
    """How one quantity behaves: base, daily swing, random walk and hard bounds."""

    base: float
    daily_amplitude: float
    peak_hour: float  # local hour of the maximum of the daily component
    period_hours: float  # 24 for a daily cycle, 12 for the pressure tide
    walk_sigma: float  # stationary standard deviation of the slow walk
    walk_tau_s: float  # its time constant
    span: float  # the wandering part stays within base +/- span
    drift_per_day: float = 0.0
    lo: float = -math.inf
    hi: float = math.inf


INDOOR_TEMPERATURE = Quantity(21.0, 1.2, 15.0, 24.0, 0.6, 2 * 3600.0, 2.0, lo=-40.0, hi=85.0)
INDOOR_HUMIDITY = Quantity(45.0, -5.0, 15.0, 24.0, 3.5, 3 * 3600.0, 10.0, lo=0.0, hi=100.0)
INDOOR_PRESSURE = Quantity(1013.0, 0.6, 10.0, 12.0, 2.0, 6 * 3600.0, 5.0, lo=300.0, hi=1100.0)

NAMES = ("temperature", "humidity", "pressure")


def speed_from_env(default: float = 1.0) -> float:
    """The HWSIM_SPEED factor (simulated seconds per wall second)."""
    raw = os.environ.get("HWSIM_SPEED", "").strip()
    if not raw:
        return default
    try:
        speed = float(raw)
    except ValueError:
        raise ValueError(f"HWSIM_SPEED must be a positive number, got {raw!r}") from None
    if not speed > 0 or math.isinf(speed):
        raise ValueError(f"HWSIM_SPEED must be a positive number, got {raw!r}")
    return speed


class Environment:
    """Temperature (degC), relative humidity (%RH) and pressure (hPa) of the simulated room."""

    def __init__(
        self,
        seed: int | None = None,
        speed: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        start: float | None = None,
        temperature: Quantity = INDOOR_TEMPERATURE,
        humidity: Quantity = INDOOR_HUMIDITY,
        pressure: Quantity = INDOOR_PRESSURE,
    ) -> None:
        self.speed = speed_from_env() if speed is None else speed
        if not self.speed > 0:
            raise ValueError(f"speed must be positive, got {self.speed!r}")
        self._clock = clock
        self._t0 = clock()
        self._start = time.time() if start is None else start  # epoch seconds at t0
        self._quantities = (temperature, humidity, pressure)
        self._rng = random.Random(seed)
        self._walk = [self._rng.gauss(0.0, q.walk_sigma) for q in self._quantities]
        self._walk_time = 0.0  # simulated seconds since start when _walk was last advanced
        self._override: list[float | None] = [None, None, None]
        self._lock = threading.Lock()

    # -- time ----------------------------------------------------------------
    def elapsed(self) -> float:
        """Simulated seconds since the environment was made."""
        return (self._clock() - self._t0) * self.speed

    def _local_hour(self, elapsed: float) -> float:
        t = self._start + elapsed
        lt = time.localtime(t)
        return lt.tm_hour + lt.tm_min / 60.0 + (lt.tm_sec + (t % 1.0)) / 3600.0

    # -- overrides -----------------------------------------------------------
    def set_temperature(self, celsius: float) -> None:
        self._set(0, celsius)

    def set_humidity(self, rh: float) -> None:
        self._set(1, rh)

    def set_pressure(self, hpa: float) -> None:
        self._set(2, hpa)

    def auto(self, name: str | None = None) -> None:
        """Back to the curve: one quantity ("temperature", "humidity", "pressure") or all."""
        with self._lock:
            if name is None:
                self._override = [None, None, None]
            elif name in NAMES:
                self._override[NAMES.index(name)] = None
            else:
                raise ValueError(f"unknown quantity {name!r}; expected one of {', '.join(NAMES)}")

    def _set(self, i: int, value: float) -> None:
        q = self._quantities[i]
        if not q.lo <= value <= q.hi:
            raise ValueError(f"{NAMES[i]} {value!r} is outside {q.lo}..{q.hi}")
        with self._lock:
            self._override[i] = float(value)

    def overrides(self) -> dict[str, float | None]:
        with self._lock:
            return dict(zip(NAMES, self._override, strict=True))

    # -- values --------------------------------------------------------------
    def sample(self) -> tuple[float, float, float]:
        """(degC, %RH, hPa) now: overrides win, else the curve."""
        with self._lock:
            elapsed = self.elapsed()
            self._advance_walk(elapsed)
            hour = self._local_hour(elapsed)
            out = []
            for i, q in enumerate(self._quantities):
                pinned = self._override[i]
                if pinned is not None:
                    out.append(pinned)
                    continue
                phase = 2.0 * math.pi * (hour - q.peak_hour) / q.period_hours
                wander = q.daily_amplitude * math.cos(phase) + self._walk[i]
                value = q.base + q.span * math.tanh(wander / q.span)
                value += q.drift_per_day * elapsed / SECONDS_PER_DAY
                out.append(min(max(value, q.lo), q.hi))
            return out[0], out[1], out[2]

    def _advance_walk(self, elapsed: float) -> None:
        dt = elapsed - self._walk_time
        if dt <= 0.0:
            return
        self._walk_time = elapsed
        for i, q in enumerate(self._quantities):
            decay = math.exp(-dt / q.walk_tau_s)
            kick = q.walk_sigma * math.sqrt(1.0 - decay * decay)
            self._walk[i] = self._walk[i] * decay + kick * self._rng.gauss(0.0, 1.0)

    def source(self) -> Callable[[], tuple[float, float, float]]:
        """The callable a chip model takes as its `source`."""
        return self.sample
