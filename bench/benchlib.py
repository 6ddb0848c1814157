"""Shared pieces of the benchmarks: a private broker, a recording subscriber, /proc figures."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from device.app.localbroker import Mosquitto, find_mosquitto  # noqa: E402

PI2MQTT = [sys.executable, "-m", "device"]


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def broker(workdir: Path, nodelay: bool = True) -> Mosquitto:
    binary = find_mosquitto()
    if binary is None:
        raise SystemExit("the benchmarks need the mosquitto binary (apt-get install mosquitto)")
    b = Mosquitto(workdir / "broker", binary=binary, nodelay=nodelay)
    b.start()
    return b


class Recorder:
    """A paho subscriber that timestamps every message on arrival (monotonic)."""

    def __init__(self, port: int, topic: str) -> None:
        self.msgs: list[tuple[float, str, bytes]] = []
        self.cond = threading.Condition()
        self.c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"rec-{os.getpid()}-{id(self)}")
        self.c.on_message = self._on
        ready = threading.Event()
        self.c.on_subscribe = lambda *a: ready.set()
        self.c.connect("127.0.0.1", port, 60)
        self.c.loop_start()
        self.c.subscribe(topic, 1)
        if not ready.wait(10):
            raise RuntimeError("subscribe timed out")

    def _on(self, c: Any, u: Any, m: mqtt.MQTTMessage) -> None:
        t = time.perf_counter()
        with self.cond:
            self.msgs.append((t, m.topic, bytes(m.payload)))
            self.cond.notify_all()

    def wait(self, pred: Any, timeout: float) -> tuple[float, str, bytes] | None:
        deadline = time.monotonic() + timeout
        with self.cond:
            start = 0
            while True:
                for i in range(start, len(self.msgs)):
                    if pred(self.msgs[i]):
                        return self.msgs[i]
                start = len(self.msgs)
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def count(self, pred: Any) -> int:
        with self.cond:
            return sum(1 for m in self.msgs if pred(m))

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


class SubCounter:
    """`mosquitto_sub` (C) counting what it receives on `topic`; lines kept when `keep`.

    A C subscriber in its own process keeps up with thousands of messages a second on a
    loaded machine, where a Python subscriber inside the bench would fall behind and let
    the broker drop messages (then every publisher looks costlier per reading). Each line
    is the receipt time (`%U`, Unix seconds with nanoseconds) and, when kept, the payload.
    """

    def __init__(self, port: int, topic: str, keep: bool = False) -> None:
        self.n = 0
        self.lines: list[str] = []
        self.keep = keep
        self._first = threading.Event()
        fmt = "%U %p" if keep else "%U"
        self.proc = subprocess.Popen(["stdbuf", "-oL", "mosquitto_sub", "-h", "127.0.0.1", "-p", str(port),
                                      "-t", topic, "-q", "1", "-F", fmt],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.n += 1
            if self.keep:
                self.lines.append(line)
            self._first.set()

    def wait_first(self, timeout: float) -> bool:
        return self._first.wait(timeout)

    def count(self) -> int:
        return self.n

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (and its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    k = min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))
    return s[k]


def compile_bytecode() -> None:
    """Byte-compile the project, as an installed daemon has it (pip compiles on install)."""
    import compileall

    for d in ("device", "hwsim", "firmware"):
        compileall.compile_dir(str(ROOT / d), quiet=1)


def spawn_daemon(config: Path, broker_url: str, state: Path, *extra: str, sim: bool = True,
                 wrapper: list[str] | None = None) -> subprocess.Popen[bytes]:
    env = dict(os.environ, STATE_DIRECTORY=str(state), PYTHONUNBUFFERED="1")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return subprocess.Popen([*(wrapper or []), *PI2MQTT, "run", *(["--sim"] if sim else []), "--config", str(config), "--broker", broker_url,
                             "--log-level", "warning", *extra],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def tempdir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="pi2mqtt-bench-")


__all__ = [
    "ROOT",
    "Recorder",
    "SubCounter",
    "broker",
    "compile_bytecode",
    "cpu_seconds",
    "machine",
    "pct",
    "peak_rss_mb",
    "spawn_daemon",
    "statistics",
    "stop",
    "tempdir",
]
