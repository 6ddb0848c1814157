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
from collections.abc import Callable
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
    `read_number` also shares the number parsed from that text.
    """

    _all: dict[str, SharedFile] = {}
    _all_lock = threading.Lock()

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._text = ""
        self._at = -1e9
        self.reads = 0
        self._parsed: tuple[str, Callable[[str], float], float] | None = None  # text, parse, number

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

    def read_number(self, max_age: float, parse: Callable[[str], float]) -> float:
        """`parse(read_text(max_age))`, parsed once per read of the file whoever asks."""
        text = self.read_text(max_age)
        parsed = self._parsed  # replaced whole: a consistent triple without the lock
        if parsed is not None and parsed[0] is text and parsed[1] is parse:
            return parsed[2]
        number = parse(text)  # (a ValueError is not remembered, as a failed read is not)
        self._parsed = (text, parse, number)
        return number
