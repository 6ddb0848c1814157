"""The simulated world behind the GPIO pins: physics, no threads, no pins.

Theory of operation
-------------------
Every model here is a small state object that reads time from an injected
`EventClock` (``now()`` and ``call_at(when, fn)``; `hwsim.timebase`) and acts on
the outside only through a `Line` (``set_external(level, ts)``): the electrical level some
part drives onto a GPIO, or ``None`` when it lets go and the pull resistor
decides. `hwsim.sim` gives the models a threaded clock and `hwsim.gpio` gives
them real gpiozero pins; tests give them a `ManualClock` and a recording line,
so everything below runs deterministically (randomness comes from a seeded
`random.Random` per model).

What is modelled:

- `Contact` — a push button or a reed switch between a GPIO and a rail. Closing
  and opening bounce: a few random toggles within a few milliseconds before the
  contact settles. Debounce is the reader's job, so every toggle reaches the pin.
- `Pir` — an HC-SR501: a trigger drives the output HIGH and holds it for the
  hold time; a new trigger while HIGH extends the hold (retriggerable mode).
- `Daylight` — illuminance from a day curve (sped up by ``speed``) times a
  cloud factor (an Ornstein-Uhlenbeck process), turned into the charge time of
  the LDR + capacitor circuit gpiozero's LightSensor times.
- `RangeTarget` — the reflector in front of an HC-SR04: a slow sinusoid plus a
  few millimetres of noise, turned into the echo pulse width 2·d/c.
- `Mcp3008` — eight channel voltages, 10-bit conversion with noise, and the
  chip's serial protocol bit by bit (start bit, SGL/DIFF, D2..D0, a sample
  clock, a null bit, B9..B0 MSB first, then B1..B9 LSB first).
- `ThermalModel` — a SoC temperature that follows the host's load with a
  first-order lag (thermal inertia).
- `OutputRecord` — what the daemon did to an output pin, with its history.

Every analog quantity follows its natural curve until a value is set, and goes
back to the curve with ``auto()``.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from hwsim.timebase import Cancellable, EventClock, Line

SPEED_OF_SOUND = 343.26  # m/s, the figure gpiozero's DistanceSensor divides by
HCSR04_MAX_RANGE = 4.0  # m; beyond this the sensor hears no echo
HCSR04_MIN_RANGE = 0.02  # m
HCSR04_NO_ECHO_PULSE = 0.038  # s; the echo pulse the HC-SR04 gives when nothing answers
HCSR04_ECHO_DELAY = 0.00045  # s from trigger fall to echo rise (8 x 40 kHz burst + setup)
HCSR04_NOISE = 0.003  # m, one sigma
LDR_R10 = 10_000.0  # ohm at 10 lux (GL5528 class)
LDR_GAMMA = 0.7
LDR_R_DARK = 1_000_000.0  # ohm
LDR_R_MIN = 100.0  # ohm
LDR_CAPACITOR = 1e-6  # farad
LOGIC_THRESHOLD = 0.485  # fraction of 3.3 V where a Pi input reads HIGH (~1.6 V)
ADC_BITS = 10
ADC_NOISE_LSB = 0.3  # one sigma, in LSB


# ---------------------------------------------------------------- contacts


@dataclass(frozen=True)
class BounceProfile:
    """How a contact bounces: `pairs` extra open/close toggles within `span` seconds."""

    min_pairs: int = 1
    max_pairs: int = 3
    min_span: float = 0.001
    max_span: float = 0.005

    def offsets(self, rng: random.Random) -> list[float]:
        """Times (from the first touch) of the toggles; an even count, so it ends settled."""
        pairs = rng.randint(self.min_pairs, self.max_pairs)
        if pairs == 0:
            return []
        span = rng.uniform(self.min_span, self.max_span)
        return sorted(rng.uniform(0.0, span) for _ in range(2 * pairs))


BUTTON_BOUNCE = BounceProfile(1, 3, 0.001, 0.005)
REED_BOUNCE = BounceProfile(0, 1, 0.0002, 0.0008)


class Contact:
    """A button or reed contact that pulls a GPIO to `closed_level` while closed."""

    def __init__(
        self,
        line: Line,
        clock: EventClock,
        rng: random.Random,
        *,
        closed_level: bool,
        bounce: BounceProfile = BUTTON_BOUNCE,
        closed: bool = False,
    ) -> None:
        self.line = line
        self.clock = clock
        self.rng = rng
        self.closed_level = closed_level
        self.bounce = bounce
        self.closed = closed
        self.last_edges = 0  # edges the last press/release puts on the pin, bounces included
        self._pending: list[Cancellable] = []
        self.line.set_external(closed_level if closed else None)

    def _drive(self, closed: bool) -> None:
        self.line.set_external(self.closed_level if closed else None)

    def set_closed(self, closed: bool) -> None:
        """Close or open the contact, bouncing on the way; the last level wins."""
        for call in self._pending:
            call.cancel()
        self._pending = []
        self.closed = closed
        t0 = self.clock.now()
        offsets = self.bounce.offsets(self.rng)
        self.last_edges = 1 + len(offsets)
        self._pending.append(self.clock.call_at(t0, lambda: self._drive(closed)))
        for i, offset in enumerate(offsets):
            state = closed if i % 2 else not closed

            def toggle(state: bool = state) -> None:
                self._drive(state)

            self._pending.append(self.clock.call_at(t0 + offset, toggle))

    def click(self, hold: float = 0.1) -> None:
        """Close, then open again after `hold` seconds."""
        self.set_closed(True)
        self.clock.call_at(self.clock.now() + hold, lambda: self.set_closed(False))


class Pir:
    """An HC-SR501 in retriggerable mode: HIGH from a trigger until the hold runs out."""

    def __init__(self, line: Line, clock: EventClock, *, hold: float = 2.0) -> None:
        self.line = line
        self.clock = clock
        self.hold = hold
        self.until = -math.inf
        self.line.set_external(False)

    @property
    def active(self) -> bool:
        return self.clock.now() < self.until

    def trigger(self, hold: float | None = None) -> None:
        hold = self.hold if hold is None else hold
        if not (hold > 0 and math.isfinite(hold)):
            raise ValueError(f"hold must be a positive number of seconds, not {hold!r}")
        now = self.clock.now()
        self.until = max(self.until, now + hold)
        self.clock.call_at(now, lambda: self.line.set_external(True))
        self.clock.call_at(self.until, self._expire)

    def _expire(self) -> None:
        if self.clock.now() >= self.until:
            self.line.set_external(False)


# ---------------------------------------------------------------- light


def day_lux(hour: float) -> float:
    """Clear-sky illuminance (lux) at a fixed outdoor spot for an hour of the day."""
    hour %= 24.0
    night = 0.5
    if 6.0 < hour < 20.0:
        return night + 20_000.0 * math.sin(math.pi * (hour - 6.0) / 14.0) ** 1.5
    return night


def ldr_resistance(lux: float) -> float:
    """An LDR's resistance at `lux`: R10·(lux/10)^-gamma, between R_MIN and R_DARK."""
    if lux <= 0:
        return LDR_R_DARK
    r = LDR_R10 * (lux / 10.0) ** -LDR_GAMMA
    return min(LDR_R_DARK, max(LDR_R_MIN, r))


def charge_time(lux: float, capacitance: float = LDR_CAPACITOR) -> float:
    """Seconds for the capacitor behind the LDR to reach the Pi's logic threshold."""
    return ldr_resistance(lux) * capacitance * -math.log(1.0 - LOGIC_THRESHOLD)


class OrnsteinUhlenbeck:
    """A mean-reverting random walk, clamped to [lo, hi]; advanced lazily by `at(t)`."""

    def __init__(
        self, rng: random.Random, *, mean: float, sigma: float, tau: float, lo: float, hi: float
    ) -> None:
        self.rng = rng
        self.mean, self.sigma, self.tau, self.lo, self.hi = mean, sigma, tau, lo, hi
        self.value = mean
        self._t: float | None = None

    def at(self, t: float) -> float:
        if self._t is not None and t > self._t:
            dt = t - self._t
            decay = math.exp(-dt / self.tau)
            spread = self.sigma * math.sqrt(1.0 - decay * decay)
            self.value = self.mean + (self.value - self.mean) * decay + spread * self.rng.gauss(0, 1)
            self.value = min(self.hi, max(self.lo, self.value))
        if self._t is None or t > self._t:
            self._t = t
        return self.value


class Daylight:
    """Illuminance at the LDR: day curve x clouds, or a set value."""

    def __init__(
        self,
        clock: EventClock,
        rng: random.Random,
        *,
        speed: float = 1.0,
        start_hour: float = 12.0,
        capacitance: float = LDR_CAPACITOR,
    ) -> None:
        self.clock = clock
        self.speed = speed
        self.start_hour = start_hour
        self.capacitance = capacitance
        self.override: float | None = None
        self._t0 = clock.now()
        self._clouds = OrnsteinUhlenbeck(rng, mean=0.75, sigma=0.2, tau=1800.0, lo=0.2, hi=1.0)

    def sim_hour(self) -> float:
        return (self.start_hour + (self.clock.now() - self._t0) * self.speed / 3600.0) % 24.0

    def lux(self) -> float:
        if self.override is not None:
            return self.override
        sim_seconds = (self.clock.now() - self._t0) * self.speed
        return day_lux(self.sim_hour()) * self._clouds.at(sim_seconds)

    def set_lux(self, lux: float) -> None:
        if not (lux >= 0 and math.isfinite(lux)):
            raise ValueError(f"lux must be a number >= 0, not {lux!r}")
        self.override = float(lux)

    def auto(self) -> None:
        self.override = None

    def charge_time(self) -> float:
        return charge_time(self.lux(), self.capacitance)


# ---------------------------------------------------------------- distance


def echo_pulse(distance: float) -> float:
    """The HC-SR04 echo pulse width for a reflector `distance` metres away."""
    if distance > HCSR04_MAX_RANGE:
        return HCSR04_NO_ECHO_PULSE
    return 2.0 * max(HCSR04_MIN_RANGE, distance) / SPEED_OF_SOUND


class RangeTarget:
    """The reflector in front of an HC-SR04: a slow sinusoid plus noise, or a set distance."""

    def __init__(
        self,
        clock: EventClock,
        rng: random.Random,
        *,
        base: float = 0.8,
        amplitude: float = 0.4,
        period: float = 90.0,
        noise: float = HCSR04_NOISE,
    ) -> None:
        self.clock = clock
        self.rng = rng
        self.base, self.amplitude, self.period, self.noise = base, amplitude, period, noise
        self.override: float | None = None
        self._t0 = clock.now()

    def distance(self) -> float:
        """The true distance now (no measurement noise)."""
        if self.override is not None:
            return self.override
        phase = 2 * math.pi * (self.clock.now() - self._t0) / self.period
        return self.base + self.amplitude * math.sin(phase)

    def set_distance(self, metres: float) -> None:
        if not (metres >= 0 and math.isfinite(metres)):
            raise ValueError(f"distance must be a number of metres >= 0, not {metres!r}")
        self.override = float(metres)

    def auto(self) -> None:
        self.override = None

    def pulse(self) -> float:
        """One measurement's echo pulse width, with the sensor's noise."""
        d = self.distance()
        if d <= HCSR04_MAX_RANGE:
            d = max(0.0, d + self.rng.gauss(0.0, self.noise))
        return echo_pulse(d)


# ---------------------------------------------------------------- MCP3008


class Mcp3008:
    """An MCP3008 ADC: channel voltages, conversions, and its serial protocol.

    Drive it with `select(active)` for /CS and `sclk(mosi)` for each rising
    SCLK edge; `sclk` returns the level DOUT shows for that edge (None: Hi-Z).
    """

    CHANNELS = 8

    def __init__(self, clock: EventClock, rng: random.Random, *, vref: float = 3.3) -> None:
        self.clock = clock
        self.rng = rng
        self.vref = vref
        self.overrides: list[float | None] = [None] * self.CHANNELS
        self.conversions = 0
        self._t0 = clock.now()
        self._state = "idle"
        self._cmd: list[bool] = []
        self._tx: deque[bool | None] = deque()

    # -- analog side
    def voltage(self, channel: int) -> float:
        v = self.overrides[channel]
        if v is not None:
            return v
        period = 120.0 + 17.0 * channel
        phase = 2 * math.pi * (self.clock.now() - self._t0) / period + channel
        return self.vref * (0.5 + 0.3 * math.sin(phase))

    def set_voltage(self, channel: int, volts: float) -> None:
        if not (0.0 <= volts <= self.vref):
            raise ValueError(f"voltage must be between 0 and {self.vref} V, not {volts!r}")
        self.overrides[channel] = float(volts)

    def auto(self, channel: int) -> None:
        self.overrides[channel] = None

    def convert(self, channel: int, single_ended: bool = True) -> int:
        """One 10-bit conversion (code = 1024·Vin/Vref, clamped), with noise."""
        if single_ended:
            vin = self.voltage(channel)
        else:  # pseudo-differential pairs: CH0/CH1, CH2/CH3, ...; odd codes swap IN+ and IN-
            pair = channel & 6
            plus, minus = (pair, pair + 1) if channel % 2 == 0 else (pair + 1, pair)
            vin = self.voltage(plus) - self.voltage(minus)
        lsb = self.vref / (1 << ADC_BITS)
        vin += self.rng.gauss(0.0, ADC_NOISE_LSB * lsb)
        self.conversions += 1
        return max(0, min((1 << ADC_BITS) - 1, round(vin / lsb)))

    # -- serial side
    def select(self, active: bool) -> None:
        self._state = "wait_start" if active else "idle"
        self._cmd = []
        self._tx.clear()

    def sclk(self, mosi: bool) -> bool | None:
        if self._state == "idle":
            return None
        out = self._tx.popleft() if self._tx else None
        if self._state == "wait_start":
            if mosi:
                self._state = "command"
        elif self._state == "command":
            self._cmd.append(mosi)
            if len(self._cmd) == 4:
                single, d2, d1, d0 = self._cmd
                code = self.convert(d2 << 2 | d1 << 1 | d0, single)
                msb_first = [bool(code >> i & 1) for i in range(ADC_BITS - 1, -1, -1)]
                lsb_tail = [bool(code >> i & 1) for i in range(1, ADC_BITS)]
                # edge after D0: sample (Hi-Z); next: null bit; then B9..B0; then B1..B9
                self._tx.extend([None, False, *msb_first, *lsb_tail])
                self._state = "output"
        return out


# ---------------------------------------------------------------- CPU temperature


class ThermalModel:
    """SoC temperature: first-order lag towards ambient + rise·load, or a set value."""

    def __init__(
        self,
        clock: EventClock,
        rng: random.Random,
        load: Callable[[], float],
        *,
        ambient: float = 38.0,
        rise: float = 35.0,
        tau: float = 25.0,
    ) -> None:
        self.clock = clock
        self.rng = rng
        self.load = load
        self.ambient, self.rise, self.tau = ambient, rise, tau
        self.override: float | None = None
        self.temperature = self._target()
        self._t = clock.now()

    def _target(self) -> float:
        return self.ambient + self.rise * min(1.0, max(0.0, self.load()))

    def celsius(self) -> float:
        now = self.clock.now()
        dt = now - self._t
        if dt > 0:
            k = 1.0 - math.exp(-dt / self.tau)
            self.temperature += (self._target() - self.temperature) * k
            self._t = now
        if self.override is not None:
            return self.override
        return self.temperature + self.rng.gauss(0.0, 0.15)

    def set_celsius(self, celsius: float) -> None:
        if not (-40.0 <= celsius <= 125.0):
            raise ValueError(f"temperature must be between -40 and 125 degC, not {celsius!r}")
        self.override = float(celsius)

    def auto(self) -> None:
        self.override = None


# ---------------------------------------------------------------- outputs


@dataclass(frozen=True)
class OutputChange:
    """One change of an output pin: its level (bool, or duty cycle 0..1) at `ts`."""

    ts: float
    level: float


class OutputRecord:
    """An output the daemon drives: current level, logical state and change history."""

    def __init__(self, name: str, kind: str, pin: int, *, active_high: bool = True) -> None:
        self.name = name
        self.kind = kind
        self.pin = pin
        self.active_high = active_high
        self.level: float = 0.0 if active_high else 1.0
        self.history: deque[OutputChange] = deque(maxlen=1000)
        self.listeners: list[Callable[[OutputRecord], None]] = []

    @property
    def state(self) -> bool | float:
        """What the output does: on/off (LED, relay), brightness 0..1 (PWM LED)."""
        value = self.level if self.active_high else 1.0 - self.level
        if self.kind == "pwm_led":
            return round(float(value), 6)
        return bool(value >= 0.5)

    def record(self, level: float, ts: float) -> None:
        if self.history and self.history[-1].level == level:
            return
        self.level = float(level)
        self.history.append(OutputChange(ts, float(level)))
        for listener in list(self.listeners):
            listener(self)
