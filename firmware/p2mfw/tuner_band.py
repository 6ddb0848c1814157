"""A tuner chip's band table: band and spacing codes, kHz limits, channel arithmetic.

Each chip driver declares `BANDS` ({code: (lo_khz, hi_khz)}) and `SPACINGS`
({code: khz}) in its own register codes. These pure functions answer what the
common driver (`p2mfw.tuner`) and the link methods (`p2mfw.tuner_link`) ask of
such a table: which code a kHz range or raster has, whether a band and spacing
fit the 10-bit channel field, which channel a frequency is, and where a tuner
lands after power-up or a band change. They touch no bus and raise `TunerError`
with the daemon's codes (OUT_OF_BAND, MISALIGNED, UNSUPPORTED).

Runs under MicroPython and CPython: no `typing`.
"""

from p2mfw.tuner_bus import TunerError

MAX_CHANNEL = 1023  # the CHAN field is 10 bits on both chips


def check_codes(chip, bands, spacings, band, spacing):
    """UNSUPPORTED unless `band` and `spacing` are codes of this chip (None: not changed)."""
    if band is not None and band not in bands:
        raise TunerError("UNSUPPORTED", f"{chip} has no band code {band!r}")
    if spacing is not None and spacing not in spacings:
        raise TunerError("UNSUPPORTED", f"{chip} has no spacing code {spacing!r}")


def check_fits(bands, spacings, band, spacing):
    """UNSUPPORTED when the band at that spacing has more channels than the field holds."""
    lo, hi = bands[band]
    if (hi - lo) // spacings[spacing] > MAX_CHANNEL:
        raise TunerError("UNSUPPORTED", f"band {band} with spacing {spacing} needs more than 1024 channels")


def band_code(chip, bands, want):
    """The code of the band whose limits are `want` ([lo, hi] in kHz); the last one wins."""
    found = None
    for code in bands:
        lo, hi = bands[code]
        if isinstance(want, (list, tuple)) and len(want) == 2 and want[0] == lo and want[1] == hi:
            found = code
    if found is None:
        raise TunerError("UNSUPPORTED", f"{chip} has no band {want!r} kHz")
    return found


def spacing_code(chip, spacings, want):
    """The code of the `want` kHz raster; the last one wins."""
    found = None
    for code in spacings:
        if spacings[code] == want:
            found = code
    if found is None:
        raise TunerError("UNSUPPORTED", f"{chip} has no {want!r} kHz spacing")
    return found


def khz_to_channel(lo, hi, sp, khz):
    """The channel of `khz` in the band lo..hi at spacing sp (all kHz)."""
    if khz < lo or khz > hi:
        raise TunerError("OUT_OF_BAND", f"{khz} kHz is outside the band {lo}-{hi} kHz")
    off = (khz - lo) % sp
    if off:
        below = khz - off
        above = below + sp if below + sp <= hi else below
        raise TunerError("MISALIGNED", f"{khz} kHz is not on the {sp} kHz raster; nearest {below} or {above} kHz")
    ch = (khz - lo) // sp
    if ch > MAX_CHANNEL:
        raise TunerError("UNSUPPORTED", f"channel {ch} does not fit the 10-bit channel field")
    return ch


def landing_khz(khz, lo, hi, sp):
    """Where a tune after power-up or a band change goes: `khz` if it is on the band's
    raster, else the band's lowest frequency."""
    if khz is None or khz < lo or khz > hi or (khz - lo) % sp:
        return lo
    return khz
