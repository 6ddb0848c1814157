"""Clock functions that behave the same on MicroPython and CPython.

MicroPython has `time.ticks_ms`/`ticks_diff`/`sleep_ms`; CPython does not.
Ticks wrap on MicroPython, so always compare them with `ticks_diff`.
"""

import time

try:
    ticks_ms = time.ticks_ms  # type: ignore[attr-defined]
    ticks_us = time.ticks_us  # type: ignore[attr-defined]
    ticks_diff = time.ticks_diff  # type: ignore[attr-defined]
    ticks_add = time.ticks_add  # type: ignore[attr-defined]
    sleep_ms = time.sleep_ms  # type: ignore[attr-defined]
    sleep_us = time.sleep_us  # type: ignore[attr-defined]
except AttributeError:

    def ticks_ms():
        return int(time.monotonic() * 1000)

    def ticks_us():
        return int(time.monotonic() * 1000000)

    def ticks_diff(a, b):
        return a - b

    def ticks_add(a, b):
        return a + b

    def sleep_ms(ms):
        time.sleep(ms / 1000)

    def sleep_us(us):
        time.sleep(us / 1000000)
