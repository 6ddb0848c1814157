"""`pi2mqtt doctor`: the first command to run on a new Pi — one line per check, with the fix.

The order follows the path a reading takes: the GPIO backend and the configured pins
(`doctor_local`), the serial link to the co-processor, its firmware and the I2C chips
behind it, the broker with TLS verified (`doctor_link`), and the clock that stamps every
reading (`doctor_local`). Exit status 0 when nothing failed (warnings allowed), else 1.

Nothing here changes the hardware: pins are claimed and released at once, the
co-processor is never reset, and the broker sees one connection that publishes nothing.
docs/doctor.md describes every line.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

from gpiozero import Factory

from device.app.doctor_link import check_broker, check_coprocessor
from device.app.doctor_local import (
    Finding,
    check_clock,
    check_gpio,
    check_service,
    ntp_synchronized,
)
from device.config import Config


def run_doctor(cfg: Config, source: str, *, out: TextIO | None = None, factory: Factory | None = None,
               clock: Callable[[], bool | None] = ntp_synchronized, link_timeout: float = 3.0,
               broker_timeout: float = 5.0, password: str | None = None) -> int:
    """Print every check's line(s) to `out`; 0 when nothing failed, else 1.

    `factory` is a pin factory already made (tests give hwsim's); otherwise the one the
    daemon would load is loaded here and released at the end.
    """
    out = out or sys.stdout
    findings: list[Finding] = []

    def emit(fs: list[Finding]) -> None:
        for f in fs:
            findings.append(f)
            for line in f.lines():
                print(line, file=out, flush=True)

    owned = factory is None
    if owned:
        emit(check_service())
    gpio, factory = check_gpio(cfg, source, factory)
    emit(gpio)
    try:
        emit(check_coprocessor(cfg, timeout=link_timeout))
        emit(check_broker(cfg, password=password, timeout=broker_timeout))
        emit([check_clock(clock)])
    finally:
        if owned and factory is not None:
            from device.app.pinfactory import release_pin_factory

            release_pin_factory()
    failed = sum(f.status == "fail" for f in findings)
    warned = sum(f.status == "warn" for f in findings)
    print(f"{failed} failed, {warned} warnings, {len(findings) - failed - warned} ok", file=out)
    return 1 if failed else 0
