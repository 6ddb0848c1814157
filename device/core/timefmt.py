"""Timestamps as pi2mqtt publishes them: UTC, ISO-8601, milliseconds, `Z`."""

from __future__ import annotations

import time


def iso_ms(ts: float) -> str:
    """Format a Unix time as `2026-11-21T10:00:00.123Z` (milliseconds truncated)."""
    ms_total = int(ts * 1000)
    secs, ms = divmod(ms_total, 1000)
    t = time.gmtime(secs)
    return (
        f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}.{ms:03d}Z"
    )
