"""Band plans: which frequencies a tuner chip may be tuned to, and how it encodes them.

Theory of operation
-------------------
Frequencies are integer kHz everywhere inside the daemon (87.5 MHz is 87500), so no
float ever drifts off the channel raster.

Three tables describe the hardware and the world:

* ``CHIP_BANDS`` — the bands each chip has in silicon, with the register code that
  selects them.  The two chips number their bands differently (fm-radio.md): the
  Si4703 has 00 = 87.5-108, 01 = 76-108, 10 = 76-90 MHz; the RDA5807M has
  00 = 87.0-108, 01 = 76-91, 10 = 76-108, 11 = 65-76 MHz.
* ``CHIP_SPACINGS`` — the channel spacings each chip has, with their codes
  (Si4703: 00 = 200, 01 = 100, 10 = 50 kHz; RDA5807M: 00 = 100, 01 = 200,
  10 = 50, 11 = 25 kHz).
* ``REGIONS`` — what a user asks for: a named frequency range with a default step
  (the raster stations sit on) and de-emphasis, mapped per chip onto one chip band.

``band_plan(chip, region, spacing_khz)`` joins them into a ``BandPlan``: the user's
raster (``first_khz`` .. ``last_khz`` in ``step_khz`` steps), the chip band and
spacing codes to program, and channel <-> frequency conversion in the chip's own
numbering (``channel = (f - chip bottom) / chip spacing``).

The user's step and the chip's spacing are usually the same.  They differ only when
the chip cannot hit the raster with the step: the US raster (87.5, 87.7 … 107.9,
odd tenths) on the RDA5807M, whose band starts at 87.0, is not a multiple of
200 kHz from the band bottom, so the chip runs at 100 kHz spacing and the daemon
only offers every other channel.  ``chip_spacing_khz`` is always the largest
spacing the chip has that divides both the step and the offset of the raster from
the chip's band bottom.

Channel numbers are 10 bits on both chips (0..1023); a plan that would need more
(76-108 MHz at 25 kHz) is refused as UNSUPPORTED.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from device.errors import CommandError

Chip = Literal["rda5807m", "si4703"]
CHIPS: Final[tuple[str, ...]] = ("rda5807m", "si4703")

MAX_CHANNEL: Final = 1023
"""Both chips hold the channel number in a 10-bit field."""

DEEMPHASIS_US: Final[tuple[int, ...]] = (50, 75)


@dataclass(frozen=True)
class ChipBand:
    """One band a chip has in silicon and the register code that selects it."""

    chip: str
    code: int
    bottom_khz: int
    top_khz: int


@dataclass(frozen=True)
class ChipSpacing:
    """One channel spacing a chip has and the register code that selects it."""

    chip: str
    khz: int
    code: int


@dataclass(frozen=True)
class RegionBand:
    """A region's range on one chip: the user's limits and the chip band they sit in."""

    lower_khz: int
    upper_khz: int
    chip_band_code: int


@dataclass(frozen=True)
class Region:
    """A named frequency plan a user can choose, per chip where the chips differ."""

    name: str
    description: str
    default_step_khz: int
    deemphasis_us: int
    per_chip: dict[str, RegionBand]

    def __hash__(self) -> int:
        return hash(self.name)


CHIP_BANDS: Final[dict[str, tuple[ChipBand, ...]]] = {
    "si4703": (
        ChipBand("si4703", 0b00, 87_500, 108_000),
        ChipBand("si4703", 0b01, 76_000, 108_000),
        ChipBand("si4703", 0b10, 76_000, 90_000),
    ),
    "rda5807m": (
        ChipBand("rda5807m", 0b00, 87_000, 108_000),
        ChipBand("rda5807m", 0b01, 76_000, 91_000),
        ChipBand("rda5807m", 0b10, 76_000, 108_000),
        ChipBand("rda5807m", 0b11, 65_000, 76_000),
    ),
}

CHIP_SPACINGS: Final[dict[str, tuple[ChipSpacing, ...]]] = {
    "si4703": (
        ChipSpacing("si4703", 200, 0b00),
        ChipSpacing("si4703", 100, 0b01),
        ChipSpacing("si4703", 50, 0b10),
    ),
    "rda5807m": (
        ChipSpacing("rda5807m", 100, 0b00),
        ChipSpacing("rda5807m", 200, 0b01),
        ChipSpacing("rda5807m", 50, 0b10),
        ChipSpacing("rda5807m", 25, 0b11),
    ),
}

REGIONS: Final[dict[str, Region]] = {
    r.name: r
    for r in (
        Region(
            "europe",
            "Europe, Africa, Asia: 87.5-108 MHz, 100 kHz raster, 50 us",
            100,
            50,
            {
                "si4703": RegionBand(87_500, 108_000, 0b00),
                "rda5807m": RegionBand(87_500, 108_000, 0b00),
            },
        ),
        Region(
            "us",
            "Americas: 87.5-108 MHz band, 200 kHz raster on odd tenths (87.5 ... 107.9), 75 us",
            200,
            75,
            {
                "si4703": RegionBand(87_500, 108_000, 0b00),
                "rda5807m": RegionBand(87_500, 108_000, 0b00),
            },
        ),
        Region(
            # Japanese FM has run 76-95 MHz since 2014 (the 90-95 MHz "wide FM" relays of
            # AM stations). Neither chip has a 76-95 band, so both run their 76-108 band and
            # the plan holds the upper limit; a seek stop above 95 is fixed up (sweep.py).
            "japan",
            "Japan: 76-95 MHz (the chips' 76-108 MHz bands, limited by the plan), 100 kHz raster, 50 us",
            100,
            50,
            {
                "si4703": RegionBand(76_000, 95_000, 0b01),
                "rda5807m": RegionBand(76_000, 95_000, 0b10),
            },
        ),
        Region(
            "wide",
            "Wide: 76-108 MHz, 100 kHz raster, 50 us",
            100,
            50,
            {
                "si4703": RegionBand(76_000, 108_000, 0b01),
                "rda5807m": RegionBand(76_000, 108_000, 0b10),
            },
        ),
        Region(
            "rda_87",
            "RDA5807M's own 87.0-108 MHz band (reaches 87.0-87.4), 100 kHz raster, 50 us",
            100,
            50,
            {"rda5807m": RegionBand(87_000, 108_000, 0b00)},
        ),
        Region(
            # The OIRT band (Russia, Belarus, Ukraine, parts of Eastern Europe): stations on a
            # 30 kHz raster from 65.0 MHz. The RDA5807M's band 11 (with 0x07 65M_50M_MODE at
            # its reset value 1) covers it; its finest spacing, 25 kHz, is never more than
            # 10 kHz from an OIRT channel. The Si4703 has no such band.
            "oirt",
            "OIRT: 65-76 MHz (RDA5807M only), 25 kHz raster, 50 us",
            25,
            50,
            {"rda5807m": RegionBand(65_000, 76_000, 0b11)},
        ),
    )
}


def khz_to_mhz_text(khz: int) -> str:
    """87500 -> "87.5", 101150 -> "101.15", 76000 -> "76.0" (no float rounding)."""
    whole, frac = divmod(khz, 1000)
    digits = f"{frac:03d}".rstrip("0") or "0"
    return f"{whole}.{digits}"


def khz_to_mhz(khz: int) -> float:
    """kHz as MHz for JSON (the nearest float to the exact decimal value)."""
    return float(khz_to_mhz_text(khz))


def chip_band(chip: str, code: int) -> ChipBand:
    """The chip's band with register code `code`; UNSUPPORTED if it has none."""
    for band in CHIP_BANDS[_known_chip(chip)]:
        if band.code == code:
            return band
    raise CommandError(
        "UNSUPPORTED", f"{chip} has no band with code {code}", chip=chip, band_code=code
    )


def chip_spacings(chip: str) -> tuple[int, ...]:
    """The channel spacings the chip has, in kHz, ascending."""
    return tuple(sorted(s.khz for s in CHIP_SPACINGS[_known_chip(chip)]))


def regions_for(chip: str) -> tuple[str, ...]:
    """The region names available on `chip`."""
    chip = _known_chip(chip)
    return tuple(name for name, r in REGIONS.items() if chip in r.per_chip)


def _known_chip(chip: str) -> str:
    if chip not in CHIP_BANDS:
        raise CommandError(
            "UNSUPPORTED",
            f"unknown tuner chip {chip!r}; known: {', '.join(CHIPS)}",
            chip=chip,
            supported=list(CHIPS),
        )
    return chip


@dataclass(frozen=True)
class BandPlan:
    """A chip programmed for a region and step: the raster a user may tune to.

    Valid frequencies are ``first_khz + n * step_khz`` up to ``last_khz``.
    """

    chip: str
    region: str
    first_khz: int
    last_khz: int
    step_khz: int
    band_code: int
    chip_bottom_khz: int
    chip_spacing_khz: int
    spacing_code: int
    deemphasis_us: int

    @property
    def first_mhz(self) -> float:
        """Lowest valid frequency in MHz."""
        return khz_to_mhz(self.first_khz)

    @property
    def last_mhz(self) -> float:
        """Highest valid frequency in MHz."""
        return khz_to_mhz(self.last_khz)

    @property
    def channel_count(self) -> int:
        """How many raster frequencies the plan has."""
        return (self.last_khz - self.first_khz) // self.step_khz + 1

    def contains(self, khz: int) -> bool:
        """True when `khz` is inside the plan's limits (on the raster or not)."""
        return self.first_khz <= khz <= self.last_khz

    def on_raster(self, khz: int) -> bool:
        """True when `khz` is a frequency a user may tune to."""
        return self.contains(khz) and (khz - self.first_khz) % self.step_khz == 0

    def frequencies(self) -> range:
        """Every valid frequency, ascending, in kHz."""
        return range(self.first_khz, self.last_khz + 1, self.step_khz)

    def channel(self, khz: int) -> int:
        """The chip's channel number for `khz` (checked: OUT_OF_BAND / MISALIGNED)."""
        self.check(khz)
        return (khz - self.chip_bottom_khz) // self.chip_spacing_khz

    def frequency(self, channel: int) -> int:
        """The frequency in kHz of the chip's channel number (as READCHAN reports it).

        Every channel the chip can report is converted, even one off the user's raster
        or outside the region's limits (the chip may be left there by a seek).
        """
        if not 0 <= channel <= MAX_CHANNEL:
            raise CommandError(
                "RANGE",
                f"channel {channel} is outside 0..{MAX_CHANNEL}",
                min=0,
                max=MAX_CHANNEL,
            )
        return self.chip_bottom_khz + channel * self.chip_spacing_khz

    def nearest(self, khz: int) -> tuple[int | None, int | None]:
        """The valid frequencies at or below and at or above `khz` (None past the ends)."""
        if khz < self.first_khz:
            return None, self.first_khz
        if khz > self.last_khz:
            return self.last_khz, None
        below = self.first_khz + (khz - self.first_khz) // self.step_khz * self.step_khz
        above = below if below == khz else below + self.step_khz
        return below, above

    def step(self, khz: int, steps: int, *, wrap: bool = True) -> int:
        """The raster frequency `steps` steps from `khz` (snapped first), wrapping or clamped."""
        below, above = self.nearest(khz)
        if steps >= 0:
            start = below if below is not None else self.first_khz
        else:
            start = above if above is not None else self.last_khz
        index = (start - self.first_khz) // self.step_khz + steps
        count = self.channel_count
        index = index % count if wrap else min(max(index, 0), count - 1)
        return self.first_khz + index * self.step_khz

    def check(self, khz: int) -> int:
        """Return `khz` when valid, else raise CommandError OUT_OF_BAND or MISALIGNED."""
        if not self.contains(khz):
            raise CommandError(
                "OUT_OF_BAND",
                f"{khz_to_mhz_text(khz)} MHz is outside the {self.region} band on the "
                f"{self.chip} ({khz_to_mhz_text(self.first_khz)}-"
                f"{khz_to_mhz_text(self.last_khz)} MHz)",
                min_mhz=self.first_mhz,
                max_mhz=self.last_mhz,
                region=self.region,
            )
        if not self.on_raster(khz):
            below, above = self.nearest(khz)
            assert below is not None and above is not None  # inside the limits
            raise CommandError(
                "MISALIGNED",
                f"{khz_to_mhz_text(khz)} MHz is not on the {self.step_khz} kHz raster; "
                f"nearest: {khz_to_mhz_text(below)} or {khz_to_mhz_text(above)} MHz",
                below_mhz=khz_to_mhz(below),
                above_mhz=khz_to_mhz(above),
                step_khz=self.step_khz,
            )
        return khz


def band_plan(chip: str, region: str, spacing_khz: int | None = None) -> BandPlan:
    """The plan for `chip` in `region` at `spacing_khz` (the region's default when None).

    Raises CommandError UNSUPPORTED for an unknown chip or region, a region the
    chip lacks, a spacing the chip lacks, or a plan needing more than 1024 channels.
    """
    chip = _known_chip(chip)
    reg, rb = _region_band(chip, region)
    step = _user_step(chip, reg.default_step_khz if spacing_khz is None else spacing_khz)
    cb = chip_band(chip, rb.chip_band_code)
    spacing = _chip_raster(chip, step, rb.lower_khz - cb.bottom_khz)
    last = rb.lower_khz + (rb.upper_khz - rb.lower_khz) // step * step
    top_channel = (last - cb.bottom_khz) // spacing.khz
    if top_channel > MAX_CHANNEL:
        raise CommandError(
            "UNSUPPORTED",
            f"the {region} band at {step} kHz needs channel numbers up to {top_channel}; "
            f"the {chip} holds at most {MAX_CHANNEL}. Choose a wider spacing.",
            spacing_khz=step,
            chip=chip,
        )
    return BandPlan(
        chip=chip,
        region=region,
        first_khz=rb.lower_khz,
        last_khz=last,
        step_khz=step,
        band_code=cb.code,
        chip_bottom_khz=cb.bottom_khz,
        chip_spacing_khz=spacing.khz,
        spacing_code=spacing.code,
        deemphasis_us=reg.deemphasis_us,
    )


def _region_band(chip: str, region: str) -> tuple[Region, RegionBand]:
    """`region` and its range on `chip`; UNSUPPORTED for an unknown region or one the chip lacks."""
    reg = REGIONS.get(region)
    if reg is None:
        raise CommandError(
            "UNSUPPORTED",
            f"unknown region {region!r}; known: {', '.join(REGIONS)}",
            region=region,
            supported=list(REGIONS),
        )
    if chip not in reg.per_chip:
        raise CommandError(
            "UNSUPPORTED",
            f"the {chip} has no {region} band; it has: {', '.join(regions_for(chip))}",
            region=region,
            chip=chip,
            supported=list(regions_for(chip)),
        )
    return reg, reg.per_chip[chip]


def _user_step(chip: str, step: int) -> int:
    """`step` (kHz) if it is one of the chip's spacings, else UNSUPPORTED."""
    have = chip_spacings(chip)
    if isinstance(step, bool) or not isinstance(step, int) or step not in have:
        raise CommandError(
            "UNSUPPORTED",
            f"the {chip} has no {step} kHz spacing; it has: {', '.join(str(s) for s in have)} kHz",
            spacing_khz=step,
            chip=chip,
            supported=list(have),
        )
    return step


def _chip_raster(chip: str, step: int, offset: int) -> ChipSpacing:
    """The widest chip spacing that divides both the user's step and the region's offset
    from the chip band's bottom (so every station of the plan is a channel)."""
    return next(
        s
        for s in sorted(CHIP_SPACINGS[chip], key=lambda s: -s.khz)
        if step % s.khz == 0 and offset % s.khz == 0
    )
