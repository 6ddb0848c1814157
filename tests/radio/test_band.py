"""Band plans, chip encodings and the validation of radio command arguments."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from device.errors import CommandError
from device.radio import validate
from device.radio.band import (
    CHIP_BANDS,
    CHIPS,
    REGIONS,
    band_plan,
    chip_band,
    chip_spacings,
    khz_to_mhz_text,
    regions_for,
)

ALL_PLANS = [
    (chip, region, spacing)
    for chip in CHIPS
    for region in regions_for(chip)
    for spacing in chip_spacings(chip)
    if not (chip == "rda5807m" and region == "wide" and spacing == 25)
]


def _error(fn: object, *args: object, **kwargs: object) -> CommandError:
    assert callable(fn)
    with pytest.raises(CommandError) as info:
        fn(*args, **kwargs)
    return info.value


def test_band_chip_band_codes_match_the_datasheets() -> None:
    si = {b.code: (b.bottom_khz, b.top_khz) for b in CHIP_BANDS["si4703"]}
    rda = {b.code: (b.bottom_khz, b.top_khz) for b in CHIP_BANDS["rda5807m"]}
    assert si == {0: (87_500, 108_000), 1: (76_000, 108_000), 2: (76_000, 90_000)}
    assert rda == {
        0: (87_000, 108_000),
        1: (76_000, 91_000),
        2: (76_000, 108_000),
        3: (65_000, 76_000),
    }


@pytest.mark.parametrize(
    ("chip", "region", "band_code", "spacing_code", "first", "last", "step", "deemph"),
    [
        ("si4703", "europe", 0b00, 0b01, 87_500, 108_000, 100, 50),
        ("si4703", "us", 0b00, 0b00, 87_500, 107_900, 200, 75),
        ("si4703", "japan", 0b01, 0b01, 76_000, 95_000, 100, 50),
        ("si4703", "wide", 0b01, 0b01, 76_000, 108_000, 100, 50),
        ("rda5807m", "europe", 0b00, 0b00, 87_500, 108_000, 100, 50),
        ("rda5807m", "us", 0b00, 0b00, 87_500, 107_900, 200, 75),
        ("rda5807m", "japan", 0b10, 0b00, 76_000, 95_000, 100, 50),
        ("rda5807m", "wide", 0b10, 0b00, 76_000, 108_000, 100, 50),
        ("rda5807m", "rda_87", 0b00, 0b00, 87_000, 108_000, 100, 50),
        ("rda5807m", "oirt", 0b11, 0b11, 65_000, 76_000, 25, 50),
    ],
)
def test_band_plan_encodes_each_chip_and_region(
    chip: str,
    region: str,
    band_code: int,
    spacing_code: int,
    first: int,
    last: int,
    step: int,
    deemph: int,
) -> None:
    plan = band_plan(chip, region)
    assert (plan.band_code, plan.spacing_code) == (band_code, spacing_code)
    assert (plan.first_khz, plan.last_khz, plan.step_khz) == (first, last, step)
    assert plan.deemphasis_us == deemph


@pytest.mark.parametrize(
    ("chip", "spacing", "code"),
    [
        ("si4703", 200, 0b00),
        ("si4703", 100, 0b01),
        ("si4703", 50, 0b10),
        ("rda5807m", 100, 0b00),
        ("rda5807m", 200, 0b01),
        ("rda5807m", 50, 0b10),
        ("rda5807m", 25, 0b11),
    ],
)
def test_band_spacing_codes_differ_between_chips(chip: str, spacing: int, code: int) -> None:
    plan = band_plan(chip, "japan", spacing)  # raster starts at the chip band bottom
    assert plan.chip_spacing_khz == spacing
    assert plan.spacing_code == code


@pytest.mark.parametrize(("chip", "region", "spacing"), ALL_PLANS)
def test_band_channel_frequency_round_trip(chip: str, region: str, spacing: int) -> None:
    plan = band_plan(chip, region, spacing)
    freqs = list(plan.frequencies())
    assert freqs[0] == plan.first_khz and freqs[-1] == plan.last_khz
    assert len(freqs) == plan.channel_count
    for khz in freqs:
        channel = plan.channel(khz)
        assert 0 <= channel <= 1023
        assert plan.frequency(channel) == khz
        assert channel == (khz - plan.chip_bottom_khz) // plan.chip_spacing_khz


def test_band_channel_numbers_follow_the_chip_bottom() -> None:
    assert band_plan("si4703", "europe").channel(87_500) == 0
    assert band_plan("rda5807m", "europe").channel(87_500) == 5  # RDA band starts at 87.0
    assert band_plan("si4703", "europe").channel(101_100) == 136
    assert band_plan("si4703", "japan").channel(76_000) == 0
    assert band_plan("si4703", "us").channel(107_900) == 102


def test_band_us_raster_on_rda_uses_100_khz_chip_spacing() -> None:
    plan = band_plan("rda5807m", "us")
    assert plan.step_khz == 200 and plan.chip_spacing_khz == 100
    assert plan.channel(87_900) == 9
    assert list(plan.frequencies())[:3] == [87_500, 87_700, 87_900]
    err = _error(plan.check, 88_000)
    assert err.code == "MISALIGNED"
    assert err.details["below_mhz"] == 87.9 and err.details["above_mhz"] == 88.1


def test_band_87_0_allowed_on_rda_band_but_not_si4703_europe() -> None:
    assert band_plan("rda5807m", "rda_87").check(87_000) == 87_000
    err = _error(band_plan("si4703", "europe").check, 87_000)
    assert err.code == "OUT_OF_BAND"
    assert err.details["min_mhz"] == 87.5 and err.details["max_mhz"] == 108.0
    err = _error(band_plan, "si4703", "rda_87")
    assert err.code == "UNSUPPORTED"
    assert "europe" in err.details["supported"]  # type: ignore[operator]


def test_band_japan_is_76_to_95_mhz_on_both_chips() -> None:
    """Issue 10, bug 5: japan stopped at 90 (Si4703) / 91 MHz (RDA5807M); Japanese FM has
    covered 76-95 MHz since 2014 (wide-FM relays of AM stations), so 93.0 was refused."""
    for chip in ("si4703", "rda5807m"):
        plan = band_plan(chip, "japan")
        assert plan.check(93_000) == 93_000 and plan.check(95_000) == 95_000
        assert (plan.first_khz, plan.last_khz) == (76_000, 95_000)
        assert plan.chip_bottom_khz == 76_000  # the chip's 76-108 band: channel = (f - 76) / step
        assert plan.channel(93_000) == 170
        err = _error(plan.check, 95_100)
        assert err.code == "OUT_OF_BAND" and err.details["max_mhz"] == 95.0
        assert _error(plan.check, 75_900).details["min_mhz"] == 76.0


def test_band_oirt_is_the_rda5807m_65_to_76_mhz_band() -> None:
    """Issue 10, bug 5: the RDA5807M's band 11 (65-76 MHz, RDA5807M datasheet reg 0x03
    BAND[3:2] = 11 with 0x07 bit 9 = 1) was not offered. OIRT stations sit on a 30 kHz
    raster from 65.0 MHz (e.g. 66.44, 72.14); the 25 kHz raster is within 10 kHz of each."""
    plan = band_plan("rda5807m", "oirt")
    assert (plan.first_khz, plan.last_khz, plan.step_khz) == (65_000, 76_000, 25)
    assert (plan.band_code, plan.spacing_code) == (0b11, 0b11)
    assert plan.channel(66_450) == 58 and plan.frequency(58) == 66_450
    for oirt_khz in (66_440, 67_220, 68_840, 70_430, 72_140, 73_400):
        below, above = plan.nearest(oirt_khz)
        assert below is not None and above is not None
        assert min(oirt_khz - below, above - oirt_khz) <= 10
    err = _error(band_plan, "si4703", "oirt")
    assert err.code == "UNSUPPORTED"


def test_band_out_of_band_message_names_the_limits() -> None:
    err = _error(band_plan("si4703", "europe").check, 108_100)
    assert err.code == "OUT_OF_BAND"
    assert "87.5-108.0 MHz" in err.message
    assert "108.1 MHz" in err.message


def test_band_misaligned_names_the_neighbours() -> None:
    plan = band_plan("si4703", "europe")
    err = _error(validate.frequency_khz, plan, mhz="101.15")
    assert err.code == "MISALIGNED"
    assert err.details == {"below_mhz": 101.1, "above_mhz": 101.2, "step_khz": 100}
    assert err.message == "101.15 MHz is not on the 100 kHz raster; nearest: 101.1 or 101.2 MHz"


def test_band_us_top_is_107_9() -> None:
    plan = band_plan("si4703", "us")
    err = _error(plan.check, 108_000)
    assert err.code == "OUT_OF_BAND" and err.details["max_mhz"] == 107.9
    assert _error(plan.check, 88_000).code == "MISALIGNED"


def test_band_unsupported_spacing_and_region() -> None:
    err = _error(band_plan, "si4703", "europe", 25)
    assert err.code == "UNSUPPORTED" and err.details["supported"] == [50, 100, 200]
    assert _error(band_plan, "si4703", "mars").code == "UNSUPPORTED"
    assert _error(band_plan, "tea5767", "europe").code == "UNSUPPORTED"
    err = _error(band_plan, "rda5807m", "wide", 25)
    assert err.code == "UNSUPPORTED" and "1023" in err.message
    assert _error(chip_band, "si4703", 3).code == "UNSUPPORTED"


def test_band_frequency_of_any_chip_channel() -> None:
    plan = band_plan("rda5807m", "us")
    assert plan.frequency(10) == 88_000  # a seek may stop off the user's raster
    assert _error(plan.frequency, 1024).code == "RANGE"


def test_band_step_wraps_and_clamps() -> None:
    plan = band_plan("si4703", "europe")
    assert plan.step(108_000, 1) == 87_500
    assert plan.step(87_500, -1) == 108_000
    assert plan.step(108_000, 1, wrap=False) == 108_000
    assert plan.step(101_150, 1) == 101_200
    assert plan.step(101_150, -1) == 101_100
    assert plan.step(101_100, 0) == 101_100


def test_band_nearest_past_the_ends() -> None:
    plan = band_plan("si4703", "europe")
    assert plan.nearest(80_000) == (None, 87_500)
    assert plan.nearest(110_000) == (108_000, None)
    assert plan.nearest(101_100) == (101_100, 101_100)


def test_band_every_region_is_documented() -> None:
    for region in REGIONS.values():
        assert region.description
        assert region.deemphasis_us in (50, 75)


@pytest.mark.parametrize(
    ("value", "khz"),
    [
        (101.1, 101_100),
        ("101.1", 101_100),
        ("101.10", 101_100),
        (" 101.1 ", 101_100),
        ("101.1 MHz", 101_100),
        ("101.1mhz", 101_100),
        (101, 101_000),
        ("87.5", 87_500),
        (87.5, 87_500),
        (107.9, 107_900),
        ("1.011e2", 101_100),
        (88.8, 88_800),
    ],
)
def test_validate_mhz_input_forms(value: object, khz: int) -> None:
    assert validate.parse_mhz(value) == khz
    assert validate.frequency_khz(band_plan("si4703", "europe"), mhz=value) == khz


def test_validate_float_mhz_has_no_drift() -> None:
    plan = band_plan("si4703", "europe")
    for khz in plan.frequencies():
        mhz = khz / 1000
        assert validate.frequency_khz(plan, mhz=mhz) == khz
        assert validate.frequency_khz(plan, mhz=khz_to_mhz_text(khz)) == khz


@pytest.mark.parametrize(
    "value",
    [
        math.nan,
        math.inf,
        -math.inf,
        True,
        False,
        None,
        "",
        "abc",
        "NaN",
        "inf",
        [101.1],
        {"mhz": 1},
        "101,1",
        "1e999999999",
        10**40,
        "101.1.1",
        "10_1.1",
        "\u0661\u0660\u0661",
    ],
)
def test_validate_rejects_non_numbers_with_bad_value(value: object) -> None:
    err = _error(validate.frequency_khz, band_plan("si4703", "europe"), mhz=value)
    assert err.code == "BAD_VALUE"
    assert err.details["field"] == "frequency"


def test_validate_comma_gets_a_hint() -> None:
    err = _error(validate.parse_mhz, "101,1")
    assert "decimal point" in err.message


def test_validate_sub_khz_input_is_misaligned_with_neighbours() -> None:
    plan = band_plan("si4703", "europe")
    err = _error(validate.frequency_khz, plan, mhz=101.1234)
    assert err.code == "MISALIGNED"
    assert (err.details["below_mhz"], err.details["above_mhz"]) == (101.1, 101.2)
    assert _error(validate.frequency_khz, plan, mhz=108.0001).code == "MISALIGNED"
    assert _error(validate.frequency_khz, plan, mhz=108.1001).code == "OUT_OF_BAND"
    assert _error(validate.parse_mhz, 101.1234).code == "BAD_VALUE"


def test_validate_khz_input() -> None:
    plan = band_plan("si4703", "europe")
    assert validate.frequency_khz(plan, khz=101_100) == 101_100
    assert validate.frequency_khz(plan, khz="101100") == 101_100
    assert _error(validate.frequency_khz, plan, khz=101_100.5).code == "BAD_VALUE"
    assert _error(validate.frequency_khz, plan, khz=101_150).code == "MISALIGNED"
    assert _error(validate.frequency_khz, plan).code == "BAD_VALUE"
    assert _error(validate.frequency_khz, plan, mhz=101.1, khz=101_100).code == "BAD_VALUE"


def test_validate_volume_range_and_types() -> None:
    assert validate.volume(0) == 0
    assert validate.volume(15) == 15
    assert validate.volume("7") == 7
    assert validate.volume(7.0) == 7
    err = _error(validate.volume, 16)
    assert err.code == "RANGE" and (err.details["min"], err.details["max"]) == (0, 15)
    assert _error(validate.volume, -1).code == "RANGE"
    assert _error(validate.volume, 7.5).code == "BAD_VALUE"
    assert _error(validate.volume, True).code == "BAD_VALUE"
    assert _error(validate.volume, math.nan).code == "BAD_VALUE"


def test_validate_volume_change_clamps() -> None:
    assert validate.volume_change(14, 3) == 15
    assert validate.volume_change(1, -3) == 0
    assert validate.volume_change(5, "+2") == 7
    assert _error(validate.volume_change, 5, 16).code == "RANGE"


def test_validate_spacing_deemphasis_boolean() -> None:
    assert validate.spacing_khz("rda5807m", 25) == 25
    assert validate.spacing_khz("si4703", "100") == 100
    err = _error(validate.spacing_khz, "si4703", 25)
    assert err.code == "UNSUPPORTED" and err.details["supported"] == [50, 100, 200]
    assert _error(validate.spacing_khz, "si4703", 100.5).code == "UNSUPPORTED"
    assert _error(validate.spacing_khz, "si4703", "x").code == "BAD_VALUE"
    assert validate.deemphasis_us(75) == 75
    assert validate.deemphasis_us("50") == 50
    assert _error(validate.deemphasis_us, 60).code == "UNSUPPORTED"
    assert validate.boolean("on", "mute") is True
    assert validate.boolean(0, "mute") is False
    assert _error(validate.boolean, "maybe", "mute").code == "BAD_VALUE"


def test_validate_error_codes_are_listed() -> None:
    assert set(validate.ERROR_CODES) == {
        "BAD_VALUE",
        "OUT_OF_BAND",
        "MISALIGNED",
        "UNSUPPORTED",
        "RANGE",
    }


@given(
    st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(),
        st.text(max_size=40),
        st.booleans(),
        st.none(),
    )
)
def test_validate_any_input_gives_a_value_or_a_command_error(value: object) -> None:
    plan = band_plan("rda5807m", "wide")
    try:
        khz = validate.frequency_khz(plan, mhz=value)
    except CommandError as err:
        assert err.code in validate.ERROR_CODES
        assert err.message
    else:
        assert plan.on_raster(khz)
