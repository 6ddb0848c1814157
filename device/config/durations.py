"""Durations in config files: `"500ms"`, `"10s"`, `"5m"`, `"1h"`, or a number of seconds."""

from __future__ import annotations

import math
import re
from typing import Annotated

from device.config.rules import Before

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}
_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|min|m|h)\s*$")


def parse_duration(value: object) -> float:
    """Seconds from a duration string or number; ValueError with a usable message otherwise."""
    if isinstance(value, bool):
        raise ValueError("expected a duration like \"500ms\", \"10s\", \"5m\"")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        m = _RE.match(value)
        if not m:
            raise ValueError(
                f"{value!r} is not a duration; use a number with ms, s, m or h (e.g. \"500ms\", \"10s\")"
            )
        seconds = float(m.group(1)) * _UNITS[m.group(2)]
    else:
        raise ValueError("expected a duration like \"500ms\", \"10s\", \"5m\"")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError("a duration must be a finite, non-negative time")
    return seconds


def format_duration(seconds: float) -> str:
    """The shortest exact spelling of a duration, for docs and messages."""
    if seconds and seconds < 1:
        return f"{seconds * 1000:g}ms"
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g}h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g}m"
    return f"{seconds:g}s"


Duration = Annotated[float, Before(parse_duration)]
# A bounded duration puts its bounds before the parser, so that they apply to the seconds
# (and a message shows them): `Annotated[float, Ge(0.2), Le(60.0), Before(parse_duration)]`.
