"""Helpers for the end-to-end and fault-injection tests: `pi2mqtt run` as a subprocess,
a fake systemd notify socket, a persistent subscriber, config files.

Everything here waits with a timeout; nothing sleeps where an event can be awaited
(between processes the only events are files, sockets and the broker, so a few waits
poll them every 20–50 ms).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from device.app.localbroker import terminate
from tests.mqttwait import Msg, Subscriber

ROOT = Path(__file__).resolve().parents[1]
PI2MQTT = [sys.executable, "-m", "device"]


def write_config(path: Path, device_id: str, url: str, state_dir: Path, *, interval: str = "50ms",
                 extra: str = "", entities: str | None = None) -> Path:
    """A config with one cpu_temperature entity `cpu` (for `--sim`) and no HA discovery."""
    ents = entities if entities is not None else f'[[cpu_temperature]]\nname = "cpu"\ninterval = "{interval}"\n'
    path.write_text(
        f'[device]\nid = "{device_id}"\nstate_dir = "{state_dir}"\n\n'
        f'[mqtt]\nurl = "{url}"\n\n[homeassistant]\nenabled = false\n\n'
        f'[diagnostics]\ninterval = "1s"\n\n{extra}\n{ents}'
    )
    return path


class DaemonProcess:
    """`pi2mqtt run --sim --config FILE` in a subprocess, its log in a file."""

    def __init__(self, config: Path, log: Path, env: dict[str, str] | None = None,
                 preexec: Callable[[], None] | None = None, args: tuple[str, ...] = ()) -> None:
        self.log_path = log
        full_env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC")}
        full_env.update(env or {})
        full_env["PYTHONUNBUFFERED"] = "1"
        self._log = open(log, "ab")
        self.proc = subprocess.Popen(
            [*PI2MQTT, "run", "--sim", "--config", str(config), *args],
            cwd=ROOT, env=full_env, stdout=self._log, stderr=subprocess.STDOUT, preexec_fn=preexec,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float) -> int:
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, timeout: float = 10.0) -> int:
        terminate(self.proc, timeout)
        self._log.close()
        return self.proc.returncode

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def wait_log(self, text: str, timeout: float = 10.0) -> str:
        return poll(lambda: text in self.log(), timeout, f"{text!r} in the daemon log") and self.log()


def poll(cond: Callable[[], bool], timeout: float, what: str, every: float = 0.02) -> bool:
    """Wait for a condition another process makes true (no event to block on)."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(every)
    return True


class NotifySocket:
    """A datagram socket standing in for systemd's $NOTIFY_SOCKET, read all the time as
    systemd reads it (the daemon drops a notification its reader's full queue refuses)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.received: list[dict[str, str]] = []
        self._seen = 0  # how many of `received` the waits have looked at
        self._closed = False
        self._arrived = threading.Condition()
        self._reader = threading.Thread(target=self._read, name="notify-socket", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = self.sock.recv(65536).decode()
            except OSError:
                return  # closed
            if self._closed:
                return
            msg = dict(line.split("=", 1) for line in data.splitlines() if "=" in line)
            with self._arrived:
                self.received.append(msg)
                self._arrived.notify_all()

    def wait_for(self, pred: Callable[[dict[str, str]], bool], timeout: float = 10.0,
                 what: str = "notification") -> dict[str, str]:
        """The first notification not yet looked at by a wait that satisfies `pred`."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                while self._seen < len(self.received):
                    msg = self.received[self._seen]
                    self._seen += 1
                    if pred(msg):
                        return msg
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out waiting for {what}; got {self.received[-10:]}")
                self._arrived.wait(left)

    def close(self) -> None:
        self._closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def persistent_subscriber(port: int, client_id: str, topics: list[str], **kw: Any) -> Subscriber:
    """A QoS 1 subscriber with a persistent session that reconnects quickly."""
    sub = Subscriber(port, client_id=client_id, clean_session=False, **kw)
    sub.client.reconnect_delay_set(min_delay=0.1, max_delay=0.5)  # type: ignore[arg-type]
    sub.connect()
    for t in topics:
        sub.subscribe(t, qos=1)
    return sub


def readings(msgs: list[Msg], topic: str) -> list[int]:
    """The seqs received on `topic`, in arrival order (retained replays left out)."""
    return [json.loads(m.payload)["seq"] for m in msgs if m.topic == topic and not m.retain]


def outbox_seqs(db: Path) -> list[int]:
    """The seqs of the readings stored in an outbox database (read-only)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT payload FROM outbox ORDER BY id").fetchall()
    finally:
        conn.close()
    return [json.loads(bytes(p))["seq"] for (p,) in rows]


def persistent_broker_extra(workdir: Path) -> str:
    """Mosquitto lines that keep sessions across a restart (for the persistent subscriber)."""
    workdir.mkdir(parents=True, exist_ok=True)
    return f"persistence true\npersistence_location {workdir}/\nautosave_interval 1\n"


class Tally:
    """Incremental view of a Subscriber's messages: seqs per topic, cheap to re-check.

    `Subscriber.wait()` re-evaluates its condition on every message; re-parsing every
    message each time would be quadratic. `update()` parses only the new ones.
    """

    def __init__(self, sub: Subscriber) -> None:
        self.sub = sub
        self._i = 0
        self.seqs: dict[str, list[int]] = {}

    def update(self) -> Tally:
        msgs = self.sub.messages
        for m in msgs[self._i:]:
            if not m.retain and m.payload[:1] == b"{":
                seq = json.loads(m.payload).get("seq")
                if seq is not None:
                    self.seqs.setdefault(m.topic, []).append(seq)
        self._i = len(msgs)
        return self

    def of(self, topic: str) -> list[int]:
        """A copy of the seqs seen on topic so far."""
        return list(self.seqs.get(topic, []))

    def wait(self, cond: Callable[[Tally], bool], timeout: float, what: str) -> None:
        self.sub.wait(lambda: cond(self.update()), timeout, what)
