"""The radio's physical controls: push buttons and a rotary encoder on the Pi's GPIO.

Configured under `[radio]` (`seek_up_pin`, `seek_down_pin`, `preset_next_pin`,
`preset_prev_pin`, `mute_pin`, `encoder_a_pin` + `encoder_b_pin`). Buttons are
gpiozero `Button`s (to ground, internal pull-up by default, debounced by
`bounce_time`); the encoder is a gpiozero `RotaryEncoder` whose detents step
the volume by one.

A control does exactly what the matching MQTT command does: each press or
detent becomes a command document (`{"cmd": "seek", "dir": "up"}`, mute as
`"toggle"`, volume as a delta) handed to the service's `command()`, so the
same validation, BUSY rules, state and events apply. gpiozero calls back on
its pin thread; the commands run on this module's own thread so a slow tune
never holds up the pins. Encoder detents that arrive while a volume command
is running are added up into one delta.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable
from typing import Protocol

from device.core.values import JsonDoc
from device.radio.config import RadioConfig

log = logging.getLogger("pi2mqtt.radio")


class _Device(Protocol):
    """A gpiozero device (Button, RotaryEncoder): all this module does with one is close it."""

    def close(self) -> None: ...


BUTTONS: dict[str, JsonDoc] = {
    "seek_up_pin": {"cmd": "seek", "dir": "up"},
    "seek_down_pin": {"cmd": "seek", "dir": "down"},
    "preset_next_pin": {"cmd": "preset_next"},
    "preset_prev_pin": {"cmd": "preset_prev"},
    "mute_pin": {"cmd": "mute", "on": "toggle"},
}


class RadioControls:
    """Buttons and an encoder that send radio commands; `close()` releases the pins."""

    def __init__(self, cfg: RadioConfig, pin_factory: object | None, command: Callable[[bytes], bytes]) -> None:
        from gpiozero import Button, RotaryEncoder

        self._command = command
        self._queue: queue.Queue[JsonDoc | None] = queue.Queue(maxsize=64)
        self._delta = 0
        self._lock = threading.Lock()
        self.devices: list[_Device] = []
        self.sent = 0
        try:
            for key, doc in BUTTONS.items():
                pin = getattr(cfg, key)
                if pin is None:
                    continue
                button = Button(pin, pull_up=cfg.buttons_pull_up, bounce_time=cfg.bounce_time or None,
                                pin_factory=pin_factory)
                button.when_pressed = self._sender(doc)
                self.devices.append(button)
            if cfg.encoder_a_pin is not None and cfg.encoder_b_pin is not None:
                enc = RotaryEncoder(cfg.encoder_a_pin, cfg.encoder_b_pin, max_steps=0, pin_factory=pin_factory)
                enc.when_rotated_clockwise = lambda: self._turn(+1)
                enc.when_rotated_counter_clockwise = lambda: self._turn(-1)
                self.devices.append(enc)
        except Exception:
            self.close()
            raise
        self._thread = threading.Thread(target=self._run, name=f"{cfg.name}-controls", daemon=True)
        self._thread.start()

    def _sender(self, doc: JsonDoc) -> Callable[[], None]:
        def send() -> None:
            self._put(dict(doc))

        return send

    def _put(self, doc: JsonDoc) -> None:
        try:
            self._queue.put_nowait(doc)
        except queue.Full:
            log.warning("radio: control %s dropped (too many presses queued)", doc.get("cmd"))

    def _turn(self, step: int) -> None:
        with self._lock:
            self._delta += step
            first = self._delta == step
        if first:
            self._put({"cmd": "volume", "delta": None})

    def _run(self) -> None:
        while True:
            doc = self._queue.get()
            if doc is None:
                return
            if doc.get("cmd") == "volume" and doc.get("delta") is None:
                with self._lock:
                    delta, self._delta = self._delta, 0
                if delta == 0:
                    continue
                doc["delta"] = max(-15, min(15, delta))
            try:
                reply = json.loads(self._command(json.dumps(doc).encode()))
                self.sent += 1
                if not reply.get("ok"):
                    log.info("radio: control %s: %s", doc["cmd"], reply.get("message"))
            except Exception:
                log.exception("radio: control %s failed", doc.get("cmd"))

    def close(self) -> None:
        try:
            self._queue.put_nowait(None)
        except queue.Full:
            pass
        for dev in self.devices:
            try:
                dev.close()
            except Exception:
                log.exception("radio: closing %r", dev)
        self.devices = []
