"""Choosing gpiozero's pin factory by name, through gpiozero's own entry points.

The daemon never imports hwsim: `--sim` (or `gpio.pin_factory = "hwsim"`) names
the factory, and the `gpiozero_pin_factories` entry point that hwsim registers
does the rest — exactly how gpiozero finds lgpio, rpigpio or mock. Under `--sim`
the factory is made with `place=`: each configured kind places its simulated
device from the validated config (`device.components.assemble.place_all`), so
hwsim never reads the config file itself.

gpiozero announces each backend it skips with a `PinFactoryFallback` warning
(two lines each on stderr). Those are caught here: when a backend finally loads,
the skipped ones go to the log at INFO; when none does, their reasons are folded
into the one error line. A config without any GPIO device needs no backend at all:
its internal devices (the CPU temperature) get `NoGpioFactory`, which keeps time
and has no pins, and nothing is printed.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import warnings
from collections.abc import Callable
from functools import partial
from importlib.metadata import entry_points

from gpiozero import Device, Factory
from gpiozero.exc import PinUnsupported

from device.app.startup import simulated_config
from device.config import Config
from device.errors import DeviceError

log = logging.getLogger("pi2mqtt.gpio")


class NoGpioFactory(Factory):
    """A pin factory for a config with no GPIO device: it keeps time, and has no pins."""

    def ticks(self) -> float:
        return time.monotonic()

    @staticmethod
    def ticks_diff(later: float, earlier: float) -> float:
        return later - earlier

    def pin(self, spec: object, **kwargs: object) -> object:
        raise PinUnsupported(f"GPIO{spec}: no GPIO device is configured, so no GPIO backend was loaded")


def configured_pins(cfg: Config) -> dict[int, str]:
    """Every GPIO the config uses -> who uses it ("button 'doorbell'", "radio.mute_pin", …)."""
    pins: dict[int, str] = {}
    for kind, e in cfg.entities():
        for field in ("pin", "echo", "trigger"):
            pin = getattr(e, field, None)
            if isinstance(pin, int):
                pins[pin] = f"{kind} {e.name!r}" + ("" if field == "pin" else f" {field}")
    for m in cfg.mcp3008:
        for pin in (11, 10, 9, 8 if m.select == 0 else 7):  # SCLK, MOSI, MISO, CE
            pins.setdefault(pin, f"mcp3008 {m.name!r} (SPI0)")
    if cfg.coprocessor is not None and cfg.coprocessor.reset_pin is not None:
        pins[cfg.coprocessor.reset_pin] = "the co-processor reset line"
    if cfg.radio is not None:
        for key, pin in cfg.radio.control_pins().items():
            pins[pin] = f"radio.{key}"
    if cfg.status_led is not None:
        pins[cfg.status_led.pin] = "the status LED"
    return pins


def available_factories() -> list[str]:
    return sorted(ep.name for ep in entry_points(group="gpiozero_pin_factories"))


def load_pin_factory(name: str | None, *, needs_gpio: bool = True) -> Factory:
    """Make the named pin factory the process default and return it.

    With no name, `$GPIOZERO_PIN_FACTORY` is honoured, else gpiozero picks. With
    `needs_gpio` false and nothing named, no backend is tried: `NoGpioFactory`.
    """
    name = name or os.environ.get("GPIOZERO_PIN_FACTORY") or None
    if name is None:
        if not needs_gpio:
            Device.pin_factory = NoGpioFactory()
            return Device.pin_factory
        with warnings.catch_warnings(record=True) as skipped:
            warnings.simplefilter("always")
            try:
                factory = Device._default_pin_factory()
            except Exception as e:  # gpiozero raises BadPinFactory after trying every backend
                why = "; ".join(str(w.message) for w in skipped) or str(e)
                raise DeviceError(f"no GPIO backend works here ({why}); on a machine without GPIO "
                                  "use --sim, and on a Pi see docs/hardware.md") from None
        for w in skipped:
            log.info("gpiozero: %s", w.message)
        Device.pin_factory = factory
        return factory
    for ep in entry_points(group="gpiozero_pin_factories"):
        if ep.name == name.lower():
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    factory = _make(ep.load(), simulated_config() if ep.name == "hwsim" else None)
            except DeviceError:
                raise
            except Exception as e:
                raise DeviceError(f"pin factory {name!r} failed to start: {e}") from None
            Device.pin_factory = factory
            return factory
    raise DeviceError(f"unknown pin factory {name!r}; installed: {', '.join(available_factories())}")


def _make(factory_class: Callable[..., Factory], simulated: Config | None) -> Factory:
    """The factory; hwsim's with every configured device placed when `--sim` prepared a config."""
    if simulated is None:
        return factory_class()
    from device.components.assemble import place_all

    return factory_class(place=partial(place_all, simulated))


def release_pin_factory(after: threading.Event | None = None, timeout: float = 10.0) -> None:
    """Close the default factory once every device is closed (`after` set).

    A device's own threads (gpiozero's sampling queues) read their pin until the device
    is closed; closing the pins under them would end those threads with a traceback. If
    the devices do not close within `timeout`, the factory is left as it is (the process
    is on its way out).
    """
    if after is not None and not after.wait(timeout):
        return
    factory = Device.pin_factory
    Device.pin_factory = None
    if factory is not None:
        try:
            factory.close()
        except Exception:
            pass
