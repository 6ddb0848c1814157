"""A stand-in for the co-processor's tuner methods and the daemon's ServiceContext (no threads of their own)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from device.errors import CommandError, LinkError

STATIONS = {88400: 63, 91700: 57, 99900: 60}


class FakeTunerLink:
    """Answers the tuner.* link methods like the firmware would (a LinkPort look-alike)."""

    def __init__(self) -> None:
        self.state = "up"
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.khz = 87500
        self.powered = False
        self.fail: dict[str, CommandError] = {}
        self.rssi_override: int | None = None

    def status(self) -> dict[str, Any]:
        rssi = STATIONS.get(self.khz, 8) if self.rssi_override is None else self.rssi_override
        return {"powered": self.powered, "khz": self.khz, "rssi": rssi, "snr": None, "stereo": rssi >= 30,
                "station": rssi >= 25, "busy": None}

    def request(self, method: str, args: dict[str, Any] | None = None, timeout: float = 0.5,
                retries: int = 3) -> dict[str, Any]:
        if self.state != "up":
            raise LinkError("link is down")
        args = dict(args or {})
        self.calls.append((method, args))
        if method in self.fail:
            raise self.fail[method]
        if method == "tuner.info":
            return {"chip": "rda5807m"}
        if method == "tuner.power":
            self.powered = bool(args.get("on", True))
            return self.status()
        if method == "tuner.tune":
            self.khz = int(args["khz"])
            return self.status()
        if method in ("tuner.status", "tuner.cancel"):
            return self.status()
        if method == "tuner.seek":
            return {"started": True}
        return {}

    def hardware_calls(self) -> list[str]:
        return [m for m, _ in self.calls if m not in ("tuner.status", "tuner.info")]


class FakeContext:
    """Records what the service publishes; lets tests wait for it."""

    def __init__(self, link: Any, state_dir: Path | None) -> None:
        self.device_id = "test"
        self.state_dir = state_dir
        self.pin_factory = None
        self.link = link
        self.published: list[tuple[str, Any, dict[str, Any]]] = []
        self.events: list[dict[str, Any]] = []
        self.link_event: Callable[[str, Any], None] | None = None
        self.link_state: Callable[[str], None] | None = None
        self._cond = threading.Condition()

    def publish(self, entity: str, value: Any, *, extra: dict[str, Any] | None = None,
                unit: str | None = None, ts: float | None = None) -> None:
        with self._cond:
            self.published.append((entity, value, dict(extra or {})))
            self._cond.notify_all()

    def publish_event(self, subtopic: str, doc: dict[str, Any]) -> None:
        with self._cond:
            self.events.append(dict(doc))
            self._cond.notify_all()

    def on_link_event(self, callback: Callable[[str, Any], None]) -> None:
        self.link_event = callback

    def on_link_state(self, callback: Callable[[str], None]) -> None:
        self.link_state = callback

    def states(self, entity: str = "radio") -> list[tuple[Any, dict[str, Any]]]:
        with self._cond:
            return [(v, e) for n, v, e in self.published if n == entity]

    def wait(self, pred: Callable[[], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not pred():
                left = deadline - time.monotonic()
                assert left > 0, "timed out waiting"
                self._cond.wait(left)
