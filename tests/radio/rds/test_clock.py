"""RDS clock time (4A): the fm-radio.md vectors, the date rollover, MJD round trips."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from device.radio.rds.clock import (
    MJD_MAX,
    MJD_MIN,
    ClockTime,
    date_to_mjd,
    decode_4a,
    mjd_to_date,
)
from device.radio.rds.decoder import ClockTimeReceived, RdsDecoder
from hwsim.chips.rds_groups import group_4a_at

MJD_EPOCH = date(1858, 11, 17)


def group_4a(pi: int, utc: datetime, offset_minutes: int) -> tuple[int, int, int, int]:
    """hwsim's 4A encoder (the project's one RDS encoder) for a datetime."""
    return group_4a_at(pi, int(utc.timestamp()), offset_minutes // 30)


def encode_4a(utc: datetime, offset_minutes: int) -> tuple[int, int, int]:
    """The 4A payload: (block B low 2 bits, block C, block D)."""
    _a, b, c, d = group_4a(0, utc, offset_minutes)
    return b & 0x3, c, d


def test_clock_vector_2155_utc_plus_2() -> None:
    clock = decode_4a(0x441D, 0xD299, 0x5DC4)
    assert clock == ClockTime(datetime(2022, 5, 25, 21, 55, tzinfo=UTC), 120)
    assert clock.local.replace(tzinfo=None) == datetime(2022, 5, 25, 23, 55)
    assert clock.isoformat() == "2022-05-25T23:55:00+02:00"


def test_clock_vector_date_rollover_into_next_local_day() -> None:
    clock = decode_4a(0x441D, 0xD299, 0x6004)
    assert clock is not None
    assert clock.utc == datetime(2022, 5, 25, 22, 0, tzinfo=UTC)
    assert clock.local.replace(tzinfo=None) == datetime(2022, 5, 26, 0, 0)
    assert clock.local.utcoffset() == timedelta(hours=2)


def test_clock_negative_offset_rolls_back_a_day() -> None:
    b_low, c, d = encode_4a(datetime(2024, 3, 1, 2, 30, tzinfo=UTC), -300)
    clock = decode_4a(0x4000 | b_low, c, d)
    assert clock is not None and clock.offset_minutes == -300
    assert clock.local.replace(tzinfo=None) == datetime(2024, 2, 29, 21, 30)


def test_clock_mjd_59724_is_2022_05_25() -> None:
    assert mjd_to_date(59724) == date(2022, 5, 25)
    assert date_to_mjd(date(2022, 5, 25)) == 59724


def test_clock_mjd_formulas_agree_with_the_calendar_everywhere() -> None:
    for mjd in range(MJD_MIN, MJD_MAX + 1, 7):
        day = MJD_EPOCH + timedelta(days=mjd)
        assert mjd_to_date(mjd) == day
        assert date_to_mjd(day) == mjd
    for mjd in (MJD_MIN, MJD_MAX, 51603, 51604, 59638, 59639):  # ends, 2000 and 2022 Feb/Mar
        assert mjd_to_date(mjd) == MJD_EPOCH + timedelta(days=mjd)


def test_clock_sanity_checks_reject_impossible_fields() -> None:
    _, c, d = encode_4a(datetime(2022, 5, 25, 21, 55, tzinfo=UTC), 120)
    assert decode_4a(0x4001, c | 1, (d & 0x0FFF) | 0x8000) is None  # hour 24
    assert decode_4a(0x4001, c, (d & ~0x0FC0) | (60 << 6)) is None  # minute 60
    assert decode_4a(0x4001, c, (d & ~0x1F) | 29) is None  # offset 14.5 h
    assert decode_4a(0x4000, 0x0000, 0x0000) is None  # MJD 0: "no clock"
    assert decode_4a(0x4003, 0xFFFE, 0x0000) is None  # MJD past 2100


def test_clock_14_hour_offset_is_accepted() -> None:
    b_low, c, d = encode_4a(datetime(2030, 1, 1, 0, 0, tzinfo=UTC), 14 * 60)
    clock = decode_4a(0x4000 | b_low, c, d)
    assert clock is not None and clock.offset_minutes == 840


@given(
    st.datetimes(min_value=datetime(1901, 1, 1), max_value=datetime(2100, 2, 28, 23, 59)),
    st.integers(min_value=-28, max_value=28),
)
def test_clock_encode_decode_round_trip(when: datetime, half_hours: int) -> None:
    utc = when.replace(second=0, microsecond=0, tzinfo=UTC)
    b_low, c, d = encode_4a(utc, half_hours * 30)
    assert decode_4a(0x4000 | b_low, c, d) == ClockTime(utc, half_hours * 30)


def test_clock_decoder_publishes_each_good_4a_group() -> None:
    dec = RdsDecoder()
    utc = datetime(2022, 5, 25, 21, 55, tzinfo=UTC)
    events = dec.feed(*group_4a(0xD3C2, utc, 120), errors=(0, 0, 0, 0))
    assert events == [ClockTimeReceived(ClockTime(utc, 120))]
    assert dec.state.clock == ClockTime(utc, 120)


def test_clock_decoder_needs_clean_blocks_when_strict() -> None:
    utc = datetime(2022, 5, 25, 21, 55, tzinfo=UTC)
    group = group_4a(0xD3C2, utc, 120)
    strict = RdsDecoder()
    assert strict.feed(*group, errors=(0, 0, 1, 0)) == []
    assert strict.stats.clock_rejected == 1
    assert strict.feed(*group, errors=(None, None, None, None)) != []  # RDA: unknown grades
    lenient = RdsDecoder(strict_clock=False)
    assert lenient.feed(*group, errors=(0, 0, 1, 0)) == [ClockTimeReceived(ClockTime(utc, 120))]
    events = lenient.feed(*group, errors=(0, 0, 2, 0))
    assert not any(isinstance(e, ClockTimeReceived) for e in events)


def test_clock_decoder_rejects_insane_time() -> None:
    dec = RdsDecoder()
    assert dec.feed(0xD3C2, 0x4001, 0xD299, 0xF004, errors=(0, 0, 0, 0)) == []  # hour 31
    assert dec.state.clock is None
