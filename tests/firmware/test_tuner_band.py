"""The tuner's band-table arithmetic (`p2mfw.tuner_band`), on the chips' own tables.

Runs under CPython (pytest) and MicroPython (tests/test_micropython.py).
"""

from p2mfw import tuner_band
from p2mfw.rda5807m import Rda5807m
from p2mfw.si4703 import Si4703
from p2mfw.tuner_bus import TunerError


def _code(fn, *args):
    try:
        fn(*args)
    except TunerError as e:
        return e.code
    return None


def test_tuner_band_khz_to_channel_on_the_raster():
    assert tuner_band.khz_to_channel(87000, 108000, 100, 87000) == 0
    assert tuner_band.khz_to_channel(87000, 108000, 100, 100000) == 130
    assert tuner_band.khz_to_channel(87000, 108000, 100, 108000) == 210


def test_tuner_band_khz_to_channel_refusals():
    assert _code(tuner_band.khz_to_channel, 87000, 108000, 100, 86900) == "OUT_OF_BAND"
    assert _code(tuner_band.khz_to_channel, 87000, 108000, 100, 108100) == "OUT_OF_BAND"
    assert _code(tuner_band.khz_to_channel, 87000, 108000, 100, 100050) == "MISALIGNED"
    assert _code(tuner_band.khz_to_channel, 65000, 108000, 25, 108000) == "UNSUPPORTED"


def test_tuner_band_misaligned_names_the_nearest_channels():
    try:
        tuner_band.khz_to_channel(87000, 108000, 200, 87100)
    except TunerError as e:
        assert "87000 or 87200" in e.message, e.message
    else:
        raise AssertionError("no refusal")


def test_tuner_band_landing_keeps_a_valid_frequency_else_the_bottom():
    assert tuner_band.landing_khz(100000, 87000, 108000, 100) == 100000
    assert tuner_band.landing_khz(None, 87000, 108000, 100) == 87000
    assert tuner_band.landing_khz(80000, 87000, 108000, 100) == 87000
    assert tuner_band.landing_khz(100050, 87000, 108000, 100) == 87000


def test_tuner_band_codes_from_khz_on_both_chips():
    for chip in (Rda5807m, Si4703):
        for code in chip.BANDS:
            lo, hi = chip.BANDS[code]
            found = tuner_band.band_code(chip.CHIP, chip.BANDS, [lo, hi])
            assert chip.BANDS[found] == (lo, hi), (chip.CHIP, code)
        for code in chip.SPACINGS:
            assert tuner_band.spacing_code(chip.CHIP, chip.SPACINGS, chip.SPACINGS[code]) == code
        assert _code(tuner_band.band_code, chip.CHIP, chip.BANDS, [1, 2]) == "UNSUPPORTED"
        assert _code(tuner_band.spacing_code, chip.CHIP, chip.SPACINGS, 7) == "UNSUPPORTED"
        assert _code(tuner_band.check_codes, chip.CHIP, chip.BANDS, chip.SPACINGS, 99, None) == "UNSUPPORTED"
        assert _code(tuner_band.check_codes, chip.CHIP, chip.BANDS, chip.SPACINGS, None, 99) == "UNSUPPORTED"
        assert _code(tuner_band.check_codes, chip.CHIP, chip.BANDS, chip.SPACINGS, None, None) is None


def test_tuner_band_too_many_channels_is_unsupported():
    # RDA5807M band 2 (76-108 MHz) at 25 kHz: 1280 channels, more than the 10-bit field.
    assert _code(tuner_band.check_fits, Rda5807m.BANDS, Rda5807m.SPACINGS, 2, 3) == "UNSUPPORTED"
    assert _code(tuner_band.check_fits, Rda5807m.BANDS, Rda5807m.SPACINGS, 0, 0) is None
