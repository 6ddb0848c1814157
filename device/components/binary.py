"""The common base of the binary inputs (button.py, door.py, motion.py), published on the edge.

The first edge is published at once; further edges within the debounce time
are ignored, and when the window closes the level is read again, so the final
state is always published even if it settled inside the window. (gpiozero's
`bounce_time` is not used: it is ignored by mock pins and drops the final edge.)
Values are booleans: button pressed, door open, motion detected.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from device.components.base import Emit, EventComponent, close_quietly
from device.config.fragments import Binary

if TYPE_CHECKING:
    from gpiozero import DigitalInputDevice, Factory


class BinaryInput(EventComponent):
    """A two-state input with our own debounce."""

    platform = "binary_sensor"

    def __init__(self, cfg: Binary, pin_factory: Factory | None = None) -> None:
        super().__init__(cfg, pin_factory)
        self.bcfg = cfg
        self._dev: DigitalInputDevice | None = None
        self._emit: Emit | None = None
        self._lock = threading.Lock()
        self._published: bool | None = None
        self._locked = False
        self._timer: threading.Timer | None = None

    def _make(self) -> DigitalInputDevice:
        raise NotImplementedError

    def _value(self, active: bool) -> bool:
        return active

    def open(self) -> None:
        self._dev = self._make()

    def current(self) -> bool:
        assert self._dev is not None
        return self._value(bool(self._dev.is_active))

    def start(self, emit: Emit) -> None:
        assert self._dev is not None
        self._emit = emit
        with self._lock:
            self._published = self.current()
        self._dev.when_activated = self._on_edge
        self._dev.when_deactivated = self._on_edge

    def _on_edge(self) -> None:
        with self._lock:
            if self._locked:
                return
            self._publish_if_changed()

    def _publish_if_changed(self) -> None:
        # Called with the lock held.
        level = self.current()
        if level == self._published:
            return
        self._published = level
        if self._emit is not None:
            self._emit(level)
        if self.bcfg.debounce > 0:
            self._locked = True
            self._timer = threading.Timer(self.bcfg.debounce, self._window_closed)
            self._timer.daemon = True
            self._timer.start()

    def _window_closed(self) -> None:
        with self._lock:
            self._locked = False
            if self._dev is None or self._dev.closed:
                return
            self._publish_if_changed()

    def close(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            dev, self._dev = self._dev, None
        close_quietly(dev)
