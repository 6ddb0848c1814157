"""Fleet fixtures: a 3-node NATS cluster (tests/nats.py) per test, daemons as subprocesses."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import IN_CI
from tests.nats import NatsCluster, find_nats_server
from tests.procs import DaemonProcess


def require_nats_server() -> str:
    """The nats-server binary, or skip (fail under CI=true) when it is missing."""
    binary = find_nats_server()
    if binary is None:
        if IN_CI:
            pytest.fail("nats-server is required under CI=true but is not installed")
        pytest.skip("nats-server is not installed (apt-get install nats-server)")
    return binary


@pytest.fixture
def nats_cluster(tmp_path: Path) -> Iterator[NatsCluster]:
    """Three NATS nodes, routed to each other, each with an MQTT listener on a free port."""
    cluster = NatsCluster(tmp_path / "nats", binary=require_nats_server())
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def spawn_daemon(tmp_path: Path) -> Iterator[Callable[..., DaemonProcess]]:
    """`pi2mqtt run --sim --config FILE [args]`, each with its own STATE_DIRECTORY."""
    procs: list[DaemonProcess] = []

    def make(config: Path, *args: str, name: str = "d") -> DaemonProcess:
        env = {"STATE_DIRECTORY": str(tmp_path / f"state-{name}"), "HWSIM_SEED": "7"}
        p = DaemonProcess(config, tmp_path / f"{name}.log", env=env, args=args)
        procs.append(p)
        return p

    yield make
    for p in procs:
        p.stop()


def fleet_config(path: Path, device_id: str, urls: list[str], body: str, *, ha: bool = False,
                 interval: str = "1s") -> Path:
    """A config whose [mqtt] url is a TOML list of URLs."""
    url_list = ", ".join(f'"{u}"' for u in urls)
    path.write_text(
        f'[device]\nid = "{device_id}"\n\n[mqtt]\nurl = [{url_list}]\n\n'
        f'[homeassistant]\nenabled = {"true" if ha else "false"}\n\n'
        f'[diagnostics]\ninterval = "{interval}"\n\n{body}'
    )
    return path
