"""`pi2mqtt doctor`'s checks on the Pi itself: the GPIO backend, the configured pins, the clock.

A check returns `Finding`s: ok / warn / fail, what was found, and how to fix it.
Pins are claimed (as inputs, by the backend) and released at once; a simulated
factory has nothing to claim.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
import shutil
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from gpiozero import Factory
from gpiozero.pins.mock import MockFactory

from device.app.pinfactory import configured_pins
from device.config import Config
from device.errors import DeviceError

Status = Literal["ok", "warn", "fail"]

PI_MACHINES = ("aarch64", "armv7l", "armv6l")
BACKEND_FIX = ("install the GPIO backend: sudo apt install python3-lgpio, in a venv made with "
               "--system-site-packages (systemd/install.sh does both; docs/hardware.md)")
# gpiozero's factory classes by the name its entry points (and our config) use.
FACTORY_NAMES = {
    "LGPIOFactory": "lgpio", "RPiGPIOFactory": "rpigpio", "PiGPIOFactory": "pigpio",
    "NativeFactory": "native", "MockFactory": "mock", "SimFactory": "hwsim",
}


@dataclass(frozen=True)
class Finding:
    """One line of the report."""

    status: Status
    topic: str
    text: str
    fix: str = ""
    more: tuple[str, ...] = ()  # lines printed under it (commands to run)

    def lines(self) -> list[str]:
        head = f"{self.status:<4} {self.topic:<9} {self.text}"
        if self.fix:
            head += f" — fix: {self.fix}"
        return [head, *(f"       {m}" for m in self.more)]


# -- GPIO -------------------------------------------------------------------------------
def factory_reason(cfg: Config, source: str) -> str:
    if cfg.gpio.pin_factory:
        return f"gpio.pin_factory in {source}"
    if os.environ.get("GPIOZERO_PIN_FACTORY"):
        return "$GPIOZERO_PIN_FACTORY"
    return "gpiozero's backends (lgpio, rpigpio, pigpio, native)"


def factory_name(factory: object) -> str:
    return FACTORY_NAMES.get(type(factory).__name__, type(factory).__name__)


def open_factory(cfg: Config, source: str) -> tuple[Finding, Factory | None]:
    """Load the pin factory the daemon would use; a Finding says which and why."""
    from device.app.pinfactory import load_pin_factory

    reason = factory_reason(cfg, source)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # gpiozero's fallback chatter: we say it in one line
            factory = load_pin_factory(cfg.gpio.pin_factory)
    except DeviceError as e:
        on_pi = platform.machine() in PI_MACHINES
        fix = BACKEND_FIX if on_pi else "this machine has no GPIO: check the config with --sim (the simulator)"
        named = bool(cfg.gpio.pin_factory or os.environ.get("GPIOZERO_PIN_FACTORY"))
        text = str(e) if named else f"no pin factory: none of {reason} works here"
        return Finding("fail", "gpio", text, fix), None
    name = factory_name(factory)
    how = reason if reason.startswith(("gpio.", "$")) else "the first of gpiozero's backends that works"
    if name == "native":
        return Finding("warn", "gpio", f"pin factory native ({how}): no edge timestamps, "
                       "and it does not work on a Pi 5", BACKEND_FIX), factory
    if name == "mock":
        return Finding("warn", "gpio", f"pin factory mock ({how}): the pins go nowhere",
                       "unset gpio.pin_factory (or $GPIOZERO_PIN_FACTORY) to use the Pi's GPIO"), factory
    return Finding("ok", "gpio", f"pin factory {name} ({how})"), factory


def check_pins(cfg: Config, factory: Factory, spi_dir: Path = Path("/dev")) -> Iterator[Finding]:
    """Each configured pin can be claimed now (then released at once).

    With hardware SPI on (`/dev/spidev0.N`), the MCP3008's pins belong to the kernel's
    SPI driver and gpiozero talks to them through spidev: they are not claimed.
    """
    pins = configured_pins(cfg)
    if isinstance(factory, MockFactory):
        yield Finding("ok", "pins", f"{len(pins)} configured; simulated pins, nothing to claim")
        return
    spi = [spi_dir / f"spidev0.{m.select}" for m in cfg.mcp3008]
    hardware_spi = bool(spi) and all(dev.exists() for dev in spi)
    claim = {p: o for p, o in pins.items() if not (hardware_spi and o.endswith("(SPI0)"))}
    busy = []
    for pin, owner in sorted(claim.items()):
        try:
            claimed = factory.pin(pin)
            claimed.close()
        except Exception as e:  # the backend's own error: lgpio says "GPIO busy"
            busy.append(Finding("fail", "pins", f"GPIO{pin} ({owner}) cannot be claimed: {e}",
                                "another process holds it — is pi2mqtt already running "
                                "(sudo systemctl stop pi2mqtt)? `gpioinfo` names the holder"))
    yield from busy
    if not busy:
        yield Finding("ok", "pins", f"{len(claim)} configured, all free: "
                      + ", ".join(f"GPIO{p}" for p in sorted(claim)))
    if hardware_spi:
        yield Finding("ok", "spi", "hardware SPI for the MCP3008: " + ", ".join(str(d) for d in spi))
    elif spi:
        missing = ", ".join(str(d) for d in spi if not d.exists())
        yield Finding("warn", "spi", f"{missing} missing: the MCP3008 falls back to software SPI",
                      "enable SPI: sudo raspi-config nonint do_spi 0, then reboot")


def check_gpio(cfg: Config, source: str, factory: Factory | None) -> tuple[list[Finding], Factory | None]:
    if not configured_pins(cfg):
        return [Finding("ok", "gpio", "no GPIO devices configured: no pin factory needed")], None
    if factory is None:
        first, factory = open_factory(cfg, source)
    else:
        first = Finding("ok", "gpio", f"pin factory {factory_name(factory)} (given)")
    found = [first]
    if factory is not None:
        found.extend(check_pins(cfg, factory))
    return found, factory


# -- the service ----------------------------------------------------------------------
def check_service(unit: str = "pi2mqtt.service") -> list[Finding]:
    """A warning when the daemon runs now: it holds the pins and the port doctor checks."""
    tool = shutil.which("systemctl")
    if tool is None:
        return []
    try:
        running = subprocess.run([tool, "is-active", "--quiet", unit], capture_output=True,
                                 timeout=5).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return []
    if not running:
        return []
    return [Finding("warn", "service", f"{unit} is running: it holds the pins and the serial port, "
                    "so those checks fail", "sudo systemctl stop pi2mqtt, run doctor, start it again")]


# -- clock ------------------------------------------------------------------------------
def ntp_synchronized() -> bool | None:
    """systemd's view (timedatectl), else the kernel's (adjtimex); None when neither answers."""
    tool = shutil.which("timedatectl")
    if tool:
        try:
            r = subprocess.run([tool, "show", "-p", "NTPSynchronized", "--value"],
                               capture_output=True, text=True, timeout=5)
            if r.returncode == 0 and r.stdout.strip() in ("yes", "no"):
                return r.stdout.strip() == "yes"
        except (OSError, subprocess.TimeoutExpired):
            pass
    return adjtimex_synchronized()


def adjtimex_synchronized() -> bool | None:
    """adjtimex(2) with modes = 0 only reads: TIME_ERROR (5) means "not synchronised"."""
    name = ctypes.util.find_library("c")
    if not sys.platform.startswith("linux") or not name:
        return None
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        buf = ctypes.create_string_buffer(512)  # struct timex is ~208 bytes; modes (first field) = 0
        state = int(libc.adjtimex(buf))
    except (OSError, AttributeError):
        return None
    if state < 0:
        return None
    return state != 5


def check_clock(probe: Callable[[], bool | None] = ntp_synchronized) -> Finding:
    synced = probe()
    if synced is None:
        return Finding("warn", "clock", "cannot tell whether the clock is synchronised",
                       "check `timedatectl timesync-status`; readings carry this clock's time")
    if not synced:
        return Finding("fail", "clock", "the clock is not synchronised: readings would carry a wrong time",
                       "give the Pi network access to an NTP server (timedatectl timesync-status; "
                       "sudo systemctl restart systemd-timesyncd)")
    return Finding("ok", "clock", "synchronised (NTP)")
