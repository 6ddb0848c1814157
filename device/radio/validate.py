"""Validation of radio command arguments, with errors a user can act on.

Every function here takes what arrived in a command (JSON values: numbers, strings,
booleans, null, lists) and either returns a clean typed value or raises
``device.errors.CommandError`` with one of the codes below, a message that says
what to send instead, and ``details`` for programs.

Codes (also listed in docs/radio.md):

* ``BAD_VALUE``   — not a usable value at all: wrong type, NaN/inf, a bool where a
  number belongs, unparsable text, more precision than 1 kHz.
* ``OUT_OF_BAND`` — a frequency outside the current band (details: min_mhz, max_mhz).
* ``MISALIGNED``  — a frequency inside the band but off the raster
  (details: below_mhz, above_mhz, step_khz).
* ``UNSUPPORTED`` — the chip lacks this band, region, spacing or setting
  (details: supported).
* ``RANGE``       — a number outside its allowed range (details: min, max).

Frequencies in MHz are parsed exactly (``decimal.Decimal`` from the text, or from
the shortest repr of a float), so ``101.1``, ``"101.1"`` and ``"101.10"`` are all
exactly 101100 kHz.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Final

from device.errors import CommandError
from device.radio.band import (
    DEEMPHASIS_US,
    BandPlan,
    chip_spacings,
    khz_to_mhz,
    khz_to_mhz_text,
)

VOLUME_MIN: Final = 0
VOLUME_MAX: Final = 15

ERROR_CODES: Final[tuple[str, ...]] = (
    "BAD_VALUE",
    "OUT_OF_BAND",
    "MISALIGNED",
    "UNSUPPORTED",
    "RANGE",
)

_MAX_TEXT: Final = 32
_MAX_DIGITS: Final = 12
"""No radio argument has more than 12 integer digits; bigger numbers are garbage."""


def _bad(name: str, value: object, want: str) -> CommandError:
    shown = repr(value)
    if len(shown) > 40:
        shown = shown[:37] + "..."
    return CommandError("BAD_VALUE", f"{name} must be {want}; got {shown}", field=name)


def _decimal(value: object, name: str, want: str) -> Decimal:
    """A finite Decimal from an int, float or numeric string; BAD_VALUE otherwise."""
    if isinstance(value, bool) or value is None:
        raise _bad(name, value, want)
    if isinstance(value, int):
        if abs(value) >= 10**_MAX_DIGITS:
            raise _bad(name, value, want)
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value) or abs(value) >= 10.0**_MAX_DIGITS:
            raise _bad(name, value, want)
        return Decimal(repr(value))
    if isinstance(value, str):
        text = value.strip()
        if len(text) > _MAX_TEXT or not text or not text.isascii() or "_" in text:
            raise _bad(name, value, want)
        try:
            number = Decimal(text)
        except InvalidOperation:
            hint = " (use a decimal point, not a comma)" if "," in text else ""
            raise _bad(name, value, want + hint) from None
        if not number.is_finite() or number.adjusted() > _MAX_DIGITS:
            raise _bad(name, value, want)
        return number
    raise _bad(name, value, want)


def _mhz_as_khz(value: object, name: str) -> Decimal:
    want = 'a frequency in MHz, such as 101.1 or "101.1"'
    if isinstance(value, str):
        text = value.strip()
        if text.lower().endswith("mhz"):
            value = text[:-3]
    return _decimal(value, name, want) * 1000


def parse_mhz(value: object, name: str = "frequency") -> int:
    """A frequency given in MHz (number or text, optional "MHz" suffix) as integer kHz.

    Only the value is checked here, not the band: see `frequency_khz`.
    """
    khz = _mhz_as_khz(value, name)
    if khz != khz.to_integral_value():
        raise CommandError(
            "BAD_VALUE",
            f"{name} {value} MHz has more precision than 1 kHz",
            field=name,
        )
    return int(khz)


def parse_khz(value: object, name: str = "frequency_khz") -> int:
    """A frequency given as whole kHz (int or digit string), e.g. 101100."""
    want = "a whole number of kHz, such as 101100"
    number = _decimal(value, name, want)
    if number != number.to_integral_value():
        raise _bad(name, value, want)
    return int(number)


def frequency_khz(plan: BandPlan, *, mhz: object = None, khz: object = None) -> int:
    """Validate a tune target given as `mhz` or `khz` (exactly one) against `plan`."""
    if (mhz is None) == (khz is None):
        raise CommandError(
            "BAD_VALUE", "give the frequency as exactly one of mhz or khz", field="frequency"
        )
    if khz is not None:
        return plan.check(parse_khz(khz))
    exact = _mhz_as_khz(mhz, "frequency")
    if exact == exact.to_integral_value():
        return plan.check(int(exact))
    # Finer than 1 kHz: never on a raster, but the user still deserves the neighbours.
    lo, hi = math.floor(exact), math.ceil(exact)
    if hi < plan.first_khz or lo > plan.last_khz:
        plan.check(lo if lo > plan.last_khz else hi)
    below, above = plan.nearest(lo)[0], plan.nearest(hi)[1]
    shown = f"{exact / 1000}"
    options = " or ".join(khz_to_mhz_text(k) for k in (below, above) if k is not None)
    raise CommandError(
        "MISALIGNED",
        f"{shown} MHz is not on the {plan.step_khz} kHz raster; nearest: {options} MHz",
        below_mhz=None if below is None else khz_to_mhz(below),
        above_mhz=None if above is None else khz_to_mhz(above),
        step_khz=plan.step_khz,
    )


def integer_in_range(value: object, name: str, lo: int, hi: int) -> int:
    """A whole number in lo..hi; accepts ints, integral floats and digit strings."""
    want = f"a whole number from {lo} to {hi}"
    number = _decimal(value, name, want)
    if number != number.to_integral_value():
        raise _bad(name, value, want)
    result = int(number)
    if not lo <= result <= hi:
        raise CommandError(
            "RANGE", f"{name} {result} is outside {lo}..{hi}", field=name, min=lo, max=hi
        )
    return result


def volume(value: object) -> int:
    """An absolute volume, 0 (silent) .. 15 (loudest)."""
    return integer_in_range(value, "volume", VOLUME_MIN, VOLUME_MAX)


def volume_change(current: int, delta: object) -> int:
    """`current` moved by `delta` (-15..15), clamped to 0..15 (a knob turns past its end)."""
    step = integer_in_range(delta, "volume step", -VOLUME_MAX, VOLUME_MAX)
    return min(max(current + step, VOLUME_MIN), VOLUME_MAX)


def spacing_khz(chip: str, value: object) -> int:
    """A channel spacing the chip has, in kHz (25, 50, 100 or 200)."""
    have = chip_spacings(chip)
    number = _decimal(value, "spacing", "a spacing in kHz: " + ", ".join(str(s) for s in have))
    khz = int(number) if number == number.to_integral_value() else -1
    if khz not in have:
        raise CommandError(
            "UNSUPPORTED",
            f"the {chip} has no {value} kHz spacing; it has: {', '.join(str(s) for s in have)} kHz",
            field="spacing",
            supported=list(have),
        )
    return khz


def deemphasis_us(value: object) -> int:
    """De-emphasis time constant: 50 (Europe, Japan) or 75 µs (Americas)."""
    number = _decimal(value, "deemphasis", "50 or 75 (microseconds)")
    if number not in (Decimal(v) for v in DEEMPHASIS_US):
        raise CommandError(
            "UNSUPPORTED",
            f"de-emphasis must be 50 or 75 µs; got {value}",
            field="deemphasis",
            supported=list(DEEMPHASIS_US),
        )
    return int(number)


def boolean(value: object, name: str) -> bool:
    """A JSON boolean, or the words on/off, true/false, 1/0 (for hand-typed commands)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in ("on", "true", "1", "yes"):
            return True
        if word in ("off", "false", "0", "no"):
            return False
    raise _bad(name, value, "true or false")
