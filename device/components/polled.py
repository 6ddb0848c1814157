"""What the polled sensors share (light.py, distance.py, mcp3008.py, cpu_temperature.py).

Each wraps one gpiozero device or file; `read()` returns the value to publish,
rounded to what the sensor can really resolve.

The light and distance sensors average a queue of samples that gpiozero fills
on its own thread. Built with `partial=True`, gpiozero answers 0.0 while that
queue is still empty — a value the sensor never measured. `read()` raises
`NoSample` (`require_sample`) instead until the first real sample is in, and the
poller publishes nothing for that slot. The daemon calls `read()` on the
component's own thread with a timeout, so a read that hangs or raises degrades
this entity only.

File-backed sensors (the CPU temperature) read their file through `SharedFile`:
however many entities share one file, it is read once per poll tick.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from device.errors import NoSample


def require_sample(dev: object) -> None:
    """Raise NoSample while a smoothed gpiozero device's sample queue is still empty."""
    queue = getattr(getattr(dev, "_queue", None), "queue", None)
    if queue is not None and len(queue) == 0:
        raise NoSample("no sample measured yet")


class SharedFile:
    """One small file (sysfs) read at most once per poll tick, whoever asks.

    Entities sharing the file usually share a poll group, so they ask within a few
    milliseconds of each other: a text read less than `max_age` seconds ago (half the
    asking entity's interval) is handed out again instead of opening the file anew.
    A failed read is not remembered: the next entity tries the file itself.
    """

    _all: dict[str, SharedFile] = {}
    _all_lock = threading.Lock()

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._text = ""
        self._at = -1e9
        self.reads = 0

    @classmethod
    def of(cls, path: Path) -> SharedFile:
        key = os.path.abspath(path)
        with cls._all_lock:
            shared = cls._all.get(key)
            if shared is None:
                shared = cls._all[key] = SharedFile(key)
            return shared

    def read_text(self, max_age: float) -> str:
        with self._lock:
            now = time.monotonic()
            if now - self._at < max_age:
                return self._text
            fd = os.open(self.path, os.O_RDONLY)
            try:
                data = os.read(fd, 256)
            finally:
                os.close(fd)
            self._text, self._at = data.decode("ascii", "replace"), now
            self.reads += 1
            return self._text
