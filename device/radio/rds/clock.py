"""RDS clock time (group 4A): Modified Julian Date, UTC hour and minute, local offset.

Theory of operation
-------------------
Group 4A carries the time at the start of the minute the group is sent in:

* MJD, 17 bits: block B bits 1-0 are the top two, block C bits 15-1 the rest;
* UTC hour: block C bit 0, then block D bits 15-12;
* UTC minute: block D bits 11-6;
* local offset: block D bit 5 the sign (1 = west of Greenwich, minus), bits 4-0
  the size in half hours.

The date is computed from the MJD with the formulas of EN 50067 Annex G (valid from
1900-03-01 to 2100-02-28) and re-encoded as a check.  The time is sent as UTC and
the offset applies on top, so local time is ``utc + offset`` with an ordinary
datetime addition: 21:55 UTC on 25 May with +2 h is 23:55 local on 25 May, and
22:00 UTC with +2 h is 00:00 on **26** May (adding the offset to the hour alone and
keeping the MJD's date is a known bug in other decoders).

A group is rejected (``decode_4a`` returns None) when the hour is over 23, the
minute over 59, the offset over 14 hours, or the MJD outside the formula's range
(this also catches stations that send MJD 0 for "no clock").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Final

MJD_MIN: Final = 15079
"""1900-03-01, the first day the EN 50067 formulas are valid for."""
MJD_MAX: Final = 88127
"""2100-02-28, the last day the EN 50067 formulas are valid for."""
MAX_OFFSET_HALF_HOURS: Final = 28
"""Offsets beyond 14 hours do not exist on Earth; bigger values are corruption."""


@dataclass(frozen=True)
class ClockTime:
    """A decoded clock-time group: the UTC instant and the station's local offset."""

    utc: datetime
    offset_minutes: int

    @property
    def local(self) -> datetime:
        """The same instant in the station's local time, with its offset as tzinfo."""
        tz = timezone(timedelta(minutes=self.offset_minutes))
        return self.utc.astimezone(tz)

    def isoformat(self) -> str:
        """Local time in ISO-8601 with its offset, e.g. "2022-05-25T23:55:00+02:00"."""
        return self.local.isoformat()


def mjd_to_date(mjd: int) -> date:
    """The calendar date of Modified Julian Date `mjd` (EN 50067 Annex G formulas)."""
    if not MJD_MIN <= mjd <= MJD_MAX:
        raise ValueError(f"MJD {mjd} is outside {MJD_MIN}..{MJD_MAX} (1900-03-01..2100-02-28)")
    y1 = int((mjd - 15078.2) / 365.25)
    m1 = int((mjd - 14956.1 - int(y1 * 365.25)) / 30.6001)
    day = mjd - 14956 - int(y1 * 365.25) - int(m1 * 30.6001)
    k = 1 if m1 in (14, 15) else 0
    return date(1900 + y1 + k, m1 - 1 - 12 * k, day)


def date_to_mjd(d: date) -> int:
    """The Modified Julian Date of calendar date `d` (EN 50067 Annex G formulas)."""
    leap = 1 if d.month <= 2 else 0
    return (
        14956
        + d.day
        + int((d.year - 1900 - leap) * 365.25)
        + int((d.month + 1 + 12 * leap) * 30.6001)
    )


def decode_4a(b: int, c: int, d: int) -> ClockTime | None:
    """Decode the clock time in a 4A group's blocks B, C, D; None when it fails a sanity check."""
    mjd = ((b & 0x3) << 15) | ((c >> 1) & 0x7FFF)
    hour = ((c & 0x1) << 4) | ((d >> 12) & 0xF)
    minute = (d >> 6) & 0x3F
    negative = bool(d & 0x20)
    half_hours = d & 0x1F
    if hour > 23 or minute > 59 or half_hours > MAX_OFFSET_HALF_HOURS:
        return None
    if not MJD_MIN <= mjd <= MJD_MAX:
        return None
    try:
        day = mjd_to_date(mjd)
    except ValueError:
        return None
    if date_to_mjd(day) != mjd:
        return None
    utc = datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)
    offset = half_hours * 30
    return ClockTime(utc=utc, offset_minutes=-offset if negative else offset)


def encode_4a(utc: datetime, offset_minutes: int = 0) -> tuple[int, int, int]:
    """The 4A payload for `utc` (seconds dropped): (block B low 2 bits, block C, block D).

    `offset_minutes` must be a whole number of half hours within +-14 h.
    """
    if utc.tzinfo is not None:
        utc = utc.astimezone(UTC)
    if offset_minutes % 30 or abs(offset_minutes) > MAX_OFFSET_HALF_HOURS * 30:
        raise ValueError(f"offset {offset_minutes} min is not a half-hour multiple within 14 h")
    mjd = date_to_mjd(utc.date())
    b_low = (mjd >> 15) & 0x3
    c = ((mjd & 0x7FFF) << 1) | ((utc.hour >> 4) & 0x1)
    sign = 0x20 if offset_minutes < 0 else 0
    d = ((utc.hour & 0xF) << 12) | (utc.minute << 6) | sign | (abs(offset_minutes) // 30)
    return b_low, c, d
