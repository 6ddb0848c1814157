"""`pi2mqtt run` validates its config in a child process: the daemon never maps pydantic (issue 14).

Each daemon here tells a fake systemd READY=1 once it runs; then its `/proc/<pid>/maps`
must name no `pydantic_core` (the extension module pydantic loads) and its child must be
gone. The daemons run without a broker: READY does not wait for one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from device.app.configload import Pending, start
from device.app.localbroker import terminate
from device.errors import ConfigError, Pi2MqttError
from tests.mosquitto import free_port
from tests.procs import ROOT, DaemonProcess, NotifySocket


@pytest.fixture
def notify(tmp_path: Path) -> Iterator[NotifySocket]:
    s = NotifySocket(tmp_path / "notify")
    yield s
    s.close()


def _no_pydantic_once_ready(pid: int, notify: NotifySocket) -> None:
    notify.wait_for(lambda m: m.get("READY") == "1", 30, "READY=1")
    maps = Path(f"/proc/{pid}/maps").read_text()
    assert "pydantic_core" not in maps
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    assert children == [], "the validating child is still there"


def test_no_pydantic_in_a_one_entity_daemon(tmp_path: Path, notify: NotifySocket) -> None:
    temp = tmp_path / "cpu_temp"
    temp.write_text("45000\n")
    conf = tmp_path / "one.toml"
    conf.write_text(f'[device]\nid = "one"\n[gpio]\npin_factory = "mock"\n'
                    f'[[cpu_temperature]]\nname = "t"\ninterval = "1s"\nsensor_file = "{temp}"\n')
    env = dict(os.environ, STATE_DIRECTORY=str(tmp_path / "state"), NOTIFY_SOCKET=str(notify.path))
    env.pop("WATCHDOG_USEC", None)
    with open(tmp_path / "d.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "device", "run", "--config", str(conf),
                                 "--broker", f"mqtt://127.0.0.1:{free_port()}"],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _no_pydantic_once_ready(proc.pid, notify)
    finally:
        terminate(proc, 10)


def test_no_pydantic_in_the_demo_config_on_the_simulator(tmp_path: Path, notify: NotifySocket) -> None:
    p = DaemonProcess(ROOT / "examples" / "demo.toml", tmp_path / "d.log",
                      env={"NOTIFY_SOCKET": str(notify.path), "STATE_DIRECTORY": str(tmp_path / "state")},
                      args=("--broker", f"mqtt://127.0.0.1:{free_port()}"))
    try:
        _no_pydantic_once_ready(p.pid, notify)
    finally:
        p.stop()


def test_no_pydantic_child_gives_the_config_or_the_same_problems(tmp_path: Path) -> None:
    from device.config import load_config

    good = tmp_path / "good.toml"
    good.write_text('[[led]]\nname = "l"\npin = 5\n')
    assert start(good, {"mqtt.url": "mqtt://h:1884"}).result() == load_config(good, {"mqtt.url": "mqtt://h:1884"})
    bad = tmp_path / "bad.toml"
    bad.write_text('[mqtt]\nkeepalive = "10s"\nclient_idd = "x"\n[[led]]\nname = "L"\npin = 5\n')
    with pytest.raises(ConfigError) as in_child:
        start(bad).result()
    with pytest.raises(ConfigError) as here:
        load_config(bad)
    assert in_child.value.problems == here.value.problems and len(here.value.problems) == 2


def test_no_pydantic_a_child_that_dies_is_one_clear_error(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import sys; sys.stderr.write('boom\\n'); sys.exit(1)"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with pytest.raises(Pi2MqttError) as ei:
        Pending(tmp_path / "c.toml", proc).result()
    assert not isinstance(ei.value, ConfigError)
    assert str(ei.value) == f"{tmp_path / 'c.toml'}: the config could not be validated (in a child process: boom)"
