"""Timestamps as pi2mqtt publishes them: UTC, ISO-8601, milliseconds, `Z`."""

from __future__ import annotations

import time

# The date and time of day change once a second, the milliseconds every reading:
# the formatted second is kept (one tuple, replaced whole, so threads may share it).
_last: tuple[int, str] = (-1, "")
_MS = tuple(f"{ms:03d}Z" for ms in range(1000))  # the tail of every stamp, formatted once


def iso_ms(ts: float) -> str:
    """Format a Unix time as `2026-11-21T10:00:00.123Z` (milliseconds truncated)."""
    global _last
    secs, ms = divmod(int(ts * 1000), 1000)
    last_secs, prefix = _last
    if secs != last_secs:
        t = time.gmtime(secs)
        prefix = (f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T"
                  f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}.")
        _last = (secs, prefix)
    return prefix + _MS[ms]
