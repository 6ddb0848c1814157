"""End-to-end fixtures: `pi2mqtt run --sim` as a subprocess against a real Mosquitto."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.mosquitto import Mosquitto
from tests.procs import DaemonProcess

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def spawn(broker: Mosquitto, tmp_path: Path) -> Iterator[Callable[..., DaemonProcess]]:
    procs: list[DaemonProcess] = []

    def make(config: Path | str, *extra: str, state: str = "state") -> DaemonProcess:
        env = {"STATE_DIRECTORY": str(tmp_path / state), "HWSIM_SEED": "7"}
        p = DaemonProcess(Path(config), tmp_path / f"{state}.log", env=env, args=("--broker", broker.url, *extra))
        procs.append(p)
        return p

    yield make
    for p in procs:
        p.stop()


def write_config(tmp_path: Path, body: str, device_id: str = "e2e") -> Path:
    p = tmp_path / "e2e.toml"
    p.write_text(f'[device]\nid = "{device_id}"\n[diagnostics]\ninterval = "1s"\n' + body)
    return p
