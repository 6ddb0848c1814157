"""`pi2mqtt run --sim` with a radio, as a subprocess against a test Mosquitto, and a client for it."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.mqttwait import Subscriber

DEVICE = "radiotest"
BASE = f"pi2mqtt/{DEVICE}"
ROOT = Path(__file__).resolve().parents[2]


def write_config(path: Path, port: int, state_dir: Path, radio: dict[str, Any], baud: int = 115200) -> Path:
    lines = [
        "[device]", f'id = "{DEVICE}"', f'state_dir = "{state_dir}"', "",
        "[mqtt]", f'url = "mqtt://127.0.0.1:{port}"', "",
        "[diagnostics]", 'interval = "60s"', "",
        "[coprocessor]", 'port = "/dev/ttyACM0"', f"baud = {baud}", "",
        "[radio]",
    ]
    for key, value in radio.items():
        lines.append(f"{key} = {json.dumps(value)}")
    path.write_text("\n".join(lines) + "\n")
    return path


class RadioHost:
    """One daemon process and a subscriber on its topics; `cmd()` sends a command and awaits the reply."""

    def __init__(self, port: int, tmp: Path, radio: dict[str, Any], state_dir: Path | None = None,
                 baud: int = 115200, nodelay: bool = True) -> None:
        self.port = port
        self.tmp = tmp
        self.state_dir = state_dir or tmp / "state"
        self.config = write_config(tmp / "radio.toml", port, self.state_dir, radio, baud)
        self.sub = Subscriber(port, nodelay=nodelay).connect()
        self.sub.subscribe(f"{BASE}/#")
        self.sub.subscribe(f"hwsim/{DEVICE}/reply")
        self._ids = itertools.count(1)
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = tmp / "daemon.log"

    def start(self, timeout: float = 15.0) -> dict[str, Any]:
        """Start the daemon; returns the first state with a frequency (the radio is up)."""
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        mark = len(self.sub.messages)
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "device", "run", "--sim", "--config", str(self.config)],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )
        return self.wait_state(lambda s: s.get("value") is not None and s.get("busy") is None,
                               timeout, after=mark)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def close(self) -> None:
        self.stop()
        self.sub.close()

    # -- MQTT helpers
    def states(self, after: int = 0) -> list[dict[str, Any]]:
        return [m.json() for m in self.sub.messages[after:] if m.topic == f"{BASE}/radio"]

    def _wait(self, topic: str, pred: Any, timeout: float, after: int, what: str) -> Any:
        found: list[Any] = []

        def check() -> bool:
            for m in self.sub.messages[after:]:
                if m.topic == topic:
                    doc = m.json()
                    if pred(doc):
                        found.append(doc)
                        return True
            return False

        self.sub.wait(check, timeout, what)
        return found[0]

    def wait_state(self, pred: Any, timeout: float = 10.0, after: int = 0) -> dict[str, Any]:
        return dict(self._wait(f"{BASE}/radio", pred, timeout, after, "a radio state"))

    def wait_rds(self, pred: Any, timeout: float = 10.0, after: int = 0) -> dict[str, Any]:
        return dict(self._wait(f"{BASE}/radio_rds", pred, timeout, after, "an RDS state"))

    def wait_event(self, pred: Any, timeout: float = 10.0, after: int = 0) -> dict[str, Any]:
        return dict(self._wait(f"{BASE}/radio/event", pred, timeout, after, "a radio event"))

    def wait_presets(self, pred: Any, timeout: float = 10.0, after: int = 0) -> list[dict[str, Any]]:
        return list(self._wait(f"{BASE}/radio_presets", lambda d: pred(d["value"]), timeout, after,
                               "presets")["value"])

    def mark(self) -> int:
        return len(self.sub.messages)

    def cmd(self, doc: dict[str, Any] | str | bytes, timeout: float = 10.0) -> dict[str, Any]:
        """Send a command with a fresh id (when it is a dict) and return its reply."""
        if isinstance(doc, dict):
            doc = {**doc, "id": f"t{next(self._ids)}"}
            rid: Any = doc["id"]
            payload: str | bytes = json.dumps(doc)
        else:
            rid, payload = None, doc
        mark = self.mark()
        self.sub.publish(f"{BASE}/radio/set", payload)
        return dict(self._wait(f"{BASE}/radio/set/reply", lambda d: rid is None or d.get("id") == rid,
                               timeout, mark, f"reply to {payload!r}"))

    def control(self, path: str, payload: Any = "") -> dict[str, Any]:
        mark = self.mark()
        text = payload if isinstance(payload, str) else json.dumps(payload)
        self.sub.publish(f"hwsim/{DEVICE}/{path}", text)
        reply = dict(self._wait(f"hwsim/{DEVICE}/reply", lambda d: d.get("path") == path, 10.0, mark,
                                f"hwsim reply for {path}"))
        assert reply.get("ok"), reply
        return reply
