"""End-to-end fixtures: `pi2mqtt run --sim` as a subprocess against a real Mosquitto."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.mosquitto import Mosquitto

ROOT = Path(__file__).resolve().parents[2]


class DaemonProcess:
    """One `pi2mqtt run --sim` process with its own state directory."""

    def __init__(self, config: Path, broker: Mosquitto, state: Path, *extra: str) -> None:
        self.config = config
        self.state = state
        self.log_path = state.parent / f"{state.name}.log"
        env = dict(os.environ, STATE_DIRECTORY=str(state), PYTHONUNBUFFERED="1", HWSIM_SEED="7")
        env.pop("HWSIM_AUTO", None)
        self._log = open(self.log_path, "wb")  # closed in wait() and stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "device", "run", "--sim", "--config", str(config),
             "--broker", broker.url, *extra],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float = 10.0) -> int:
        try:
            return self.proc.wait(timeout)
        finally:
            self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


@pytest.fixture
def spawn(broker: Mosquitto, tmp_path: Path) -> Iterator[Callable[..., DaemonProcess]]:
    procs: list[DaemonProcess] = []

    def make(config: Path | str, *extra: str, state: str = "state") -> DaemonProcess:
        p = DaemonProcess(Path(config), broker, tmp_path / state, *extra)
        procs.append(p)
        return p

    yield make
    for p in procs:
        p.stop()


def write_config(tmp_path: Path, body: str, device_id: str = "e2e") -> Path:
    p = tmp_path / "e2e.toml"
    p.write_text(f'[device]\nid = "{device_id}"\n[diagnostics]\ninterval = "1s"\n' + body)
    return p
