"""The world models on a manual clock: bounce, PIR hold, LDR, echo, MCP3008 protocol, heat."""

from __future__ import annotations

import itertools
import random

import pytest

from hwsim.timebase import ManualClock
from hwsim.world import (
    BUTTON_BOUNCE,
    HCSR04_NO_ECHO_PULSE,
    REED_BOUNCE,
    SPEED_OF_SOUND,
    Contact,
    Daylight,
    Mcp3008,
    OutputRecord,
    Pir,
    RangeTarget,
    ThermalModel,
    charge_time,
    day_lux,
    echo_pulse,
)


class Line:
    """Records what a model drives, with the clock's time."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.log: list[tuple[float, bool | None]] = []

    def set_external(self, level: bool | None, ts: float | None = None) -> None:
        self.log.append((self.clock.now() if ts is None else ts, level))


def press_log(seed: int, bounce=BUTTON_BOUNCE) -> list[tuple[float, bool | None]]:
    clock = ManualClock()
    line = Line(clock)
    contact = Contact(line, clock, random.Random(seed), closed_level=False, bounce=bounce)
    line.log.clear()
    contact.set_closed(True)
    clock.advance(0.1)
    return [(t - 1000.0, level) for t, level in line.log]


def test_contact_press_bounces_within_a_few_ms_then_settles_closed() -> None:
    for seed in range(20):
        log = press_log(seed)
        levels = [level for _, level in log]
        assert len(levels) >= 3 and len(levels) % 2 == 1
        assert levels[0] is False and levels[-1] is False  # pull-up wiring: closed = LOW
        assert all(a != b for a, b in itertools.pairwise(levels))  # every entry toggles
        assert log[-1][0] <= 0.005


def test_contact_release_bounces_and_lets_the_pull_decide() -> None:
    clock = ManualClock()
    line = Line(clock)
    contact = Contact(line, clock, random.Random(3), closed_level=False)
    contact.set_closed(True)
    clock.advance(0.05)
    line.log.clear()
    contact.set_closed(False)
    clock.advance(0.05)
    assert len(line.log) >= 3 and line.log[-1][1] is None
    assert contact.last_edges == len(line.log)


def test_contact_bounce_is_reproducible_with_a_seed() -> None:
    assert press_log(42) == press_log(42)
    assert any(press_log(1) != press_log(s) for s in range(2, 6))


def test_reed_contact_bounces_less_than_a_button() -> None:
    reed = [len(press_log(s, REED_BOUNCE)) for s in range(30)]
    button = [len(press_log(s, BUTTON_BOUNCE)) for s in range(30)]
    assert max(reed) <= 3 and min(button) >= 3 and sum(reed) < sum(button)


def test_contact_click_presses_then_releases_after_hold() -> None:
    clock = ManualClock()
    line = Line(clock)
    contact = Contact(line, clock, random.Random(1), closed_level=True, bounce=REED_BOUNCE)
    contact.click(0.25)
    clock.advance(0.2)
    assert contact.closed and line.log[-1][1] is True
    clock.advance(0.1)
    assert not contact.closed and line.log[-1][1] is None


def test_pir_holds_high_for_the_hold_time_and_retriggers() -> None:
    clock = ManualClock()
    line = Line(clock)
    pir = Pir(line, clock, hold=2.0)
    pir.trigger()
    clock.advance(1.5)
    assert pir.active and line.log[-1] == (1000.0, True)
    pir.trigger()  # at t=1.5: now held until t=3.5
    clock.advance(1.0)
    assert pir.active and line.log[-1][1] is True
    clock.advance(1.1)
    assert not pir.active and line.log[-1] == (1003.5, False)


def test_pir_rejects_a_bad_hold() -> None:
    clock = ManualClock()
    with pytest.raises(ValueError):
        Pir(Line(clock), clock).trigger(hold=-1)


def test_light_more_lux_charges_faster() -> None:
    assert charge_time(1000) < charge_time(100) < charge_time(10) < charge_time(0.1)
    assert charge_time(0) == pytest.approx(1e6 * 1e-6 * 0.664, rel=0.01)  # dark: ~0.66 s


def test_light_day_curve_is_dark_at_night_and_bright_at_noon() -> None:
    assert day_lux(2) < 1 < 10_000 < day_lux(13)
    clock = ManualClock()
    light = Daylight(clock, random.Random(1), speed=3600.0, start_hour=0.0)
    night = light.lux()
    clock.advance(13)  # 13 simulated hours
    assert light.sim_hour() == pytest.approx(13.0)
    assert light.lux() > 1000 * night
    light.set_lux(42)
    assert light.lux() == 42
    light.auto()
    assert light.lux() > 1000


def test_echo_pulse_is_the_round_trip_time() -> None:
    assert echo_pulse(0.42) == pytest.approx(2 * 0.42 / SPEED_OF_SOUND)
    assert echo_pulse(9.0) == HCSR04_NO_ECHO_PULSE


def test_range_target_moves_by_itself_until_set() -> None:
    clock = ManualClock()
    target = RangeTarget(clock, random.Random(1), base=1.0, amplitude=0.5, period=40.0)
    d0 = target.distance()
    clock.advance(10)
    assert target.distance() == pytest.approx(1.5) and d0 == pytest.approx(1.0)
    target.set_distance(0.3)
    clock.advance(7)
    assert target.distance() == 0.3
    assert abs(target.pulse() * SPEED_OF_SOUND / 2 - 0.3) < 0.02


def exchange(chip: Mcp3008, words: list[int]) -> list[int]:
    """Play gpiozero's SPI master (mode 0, MSB first) against the chip."""
    chip.select(True)
    out = []
    for word in words:
        read = 0
        for bit in range(7, -1, -1):
            miso = chip.sclk(bool(word >> bit & 1))
            read = read << 1 | (1 if miso else 0)
        out.append(read)
    chip.select(False)
    return out


def test_mcp3008_answers_the_single_ended_command_framing() -> None:
    clock = ManualClock()
    chip = Mcp3008(clock, random.Random(1), vref=3.3)
    chip.set_voltage(2, 1.2)
    rx = exchange(chip, [0x01, 0x80 | 2 << 4, 0x00])
    assert rx[1] & 0b100 == 0  # the null bit
    code = (rx[1] & 0b11) << 8 | rx[2]
    assert abs(code - 1.2 / 3.3 * 1024) <= 2


def test_mcp3008_differential_reads_the_pair_difference() -> None:
    chip = Mcp3008(ManualClock(), random.Random(1), vref=3.3)
    chip.set_voltage(0, 2.0)
    chip.set_voltage(1, 0.5)
    rx = exchange(chip, [0x01, 0x00, 0x00])  # SGL=0, CH0 = IN+
    assert abs(((rx[1] & 0b11) << 8 | rx[2]) - 1.5 / 3.3 * 1024) <= 2
    rx = exchange(chip, [0x01, 0x10, 0x00])  # CH1 = IN+: negative clamps to 0
    assert (rx[1] & 0b11) << 8 | rx[2] == 0


def test_mcp3008_ignores_clocks_while_deselected() -> None:
    chip = Mcp3008(ManualClock(), random.Random(1))
    assert chip.sclk(True) is None and chip.conversions == 0
    with pytest.raises(ValueError):
        chip.set_voltage(0, 4.0)


def test_thermal_model_follows_load_with_inertia() -> None:
    clock = ManualClock()
    load = [0.0]
    model = ThermalModel(clock, random.Random(1), lambda: load[0], ambient=40.0, rise=30.0, tau=20.0)
    assert model.celsius() == pytest.approx(40.0, abs=1)
    load[0] = 1.0
    clock.advance(20)
    assert model.celsius() == pytest.approx(40 + 30 * 0.632, abs=1)  # one time constant
    clock.advance(200)
    assert model.celsius() == pytest.approx(70.0, abs=1)
    model.set_celsius(55)
    assert model.celsius() == 55


def test_output_record_reports_logical_state() -> None:
    relay = OutputRecord("pump", "relay", 6, active_high=False)
    relay.record(0.0, 1.0)
    assert relay.state is True
    lamp = OutputRecord("lamp", "pwm_led", 12)
    lamp.record(0.25, 2.0)
    lamp.record(0.25, 3.0)
    assert lamp.state == 0.25 and len(lamp.history) == 1
