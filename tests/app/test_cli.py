"""The command line as a user meets it: exit codes, messages, never a traceback."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.mosquitto import Mosquitto
from tests.mqttwait import Subscriber

ROOT = Path(__file__).resolve().parents[2]


def pi2mqtt(*args: str, timeout: float = 60, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "device", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env=env)


@pytest.mark.parametrize(
    ("body", "expect"),
    [
        ('[mqtt]\nkeepalive = "10s"\nclient_idd = "x"\n', "mqtt.client_idd: unknown key; did you mean 'client_id'?"),
        ('[mqtt\nurl = "x"\n', "TOML syntax error: line 1"),
        ('[[led]]\nname = "l"\npin = "five"\n', "led[0].pin: Input should be a valid integer"),
        ('[[led]]\nname = "l"\npin = 5\n[[relay]]\nname = "r"\npin = 5\n', "relay[0].pin: GPIO5 is already wired to led[0] ('l')"),
    ],
)
@pytest.mark.parametrize("command", ["check", "run"])
def test_cli_bad_config_exit_2_with_file_key_and_message(tmp_path: Path, body: str, expect: str, command: str) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text(body)
    r = pi2mqtt(command, "--config", str(cfg))
    assert r.returncode == 2, r.stderr
    assert str(cfg) in r.stderr and expect in r.stderr
    assert "Traceback" not in r.stderr + r.stdout


def test_cli_run_refuses_with_the_very_lines_of_check(tmp_path: Path) -> None:
    # run validates in a child process (device/config/child.py); the user sees no difference.
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[mqtt]\nurl = 5\nkeepalve = "10s"\n[outbox]\nspill_after = "2m"\n'
                   '[[led]]\nname = "L"\npin = 5\n[[relay]]\nname = "r"\npin = 5\n[radio]\nvolume = 16\n')
    env = dict(os.environ, STATE_DIRECTORY=str(tmp_path / "state"))
    checked, ran = pi2mqtt("check", "--config", str(cfg), env=env), pi2mqtt("run", "--config", str(cfg), env=env)
    assert checked.returncode == ran.returncode == 2
    assert ran.stderr == checked.stderr and len(checked.stderr.splitlines()) == 5, checked.stderr
    assert all(line.startswith(f"{cfg}: ") for line in ran.stderr.splitlines())


def test_cli_missing_config_file(tmp_path: Path) -> None:
    r = pi2mqtt("check", "--config", str(tmp_path / "nope.toml"))
    assert r.returncode == 2
    assert r.stderr.strip() == f"{tmp_path / 'nope.toml'}: no such file"


def test_cli_check_good_config() -> None:
    r = pi2mqtt("check", "--config", str(ROOT / "examples" / "demo.toml"))
    assert r.returncode == 0 and "ok" in r.stdout


def test_cli_watch_unreachable_broker_is_one_clear_line() -> None:
    from tests.mosquitto import free_port

    r = pi2mqtt("watch", "--broker", f"mqtt://127.0.0.1:{free_port()}", "--duration", "1", "--plain")
    assert r.returncode == 1
    assert "Traceback" not in r.stderr and r.stderr.strip()


def test_cli_demo_on_amqtt_shows_every_entity(tmp_path: Path) -> None:
    """The fresh-clone path: no Mosquitto, the `demo` extra's broker library instead."""
    from device.app.amqttbroker import amqtt_available
    from device.config import load_config

    if not amqtt_available():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("amqtt (the dev and demo extras) is required under CI=true")
        pytest.skip("amqtt is not installed (pip install 'pi2mqtt[demo]')")
    cfg = load_config(ROOT / "examples" / "demo.toml")
    r = pi2mqtt("demo", "--local-broker", "amqtt", "--duration", "12", "--plain", timeout=90,
                env=dict(os.environ, TERM="dumb", STATE_DIRECTORY=str(tmp_path / "state")))
    assert r.returncode == 0, r.stderr[-2000:]
    assert "(amqtt)" in r.stderr.splitlines()[0]
    summary = r.stdout.split("pi2mqtt demo summary:", 1)[1].splitlines()[1:]
    rows = [re.match(r"\s+(\S+)\s+(\d+) published", line) for line in summary]
    published = {m.group(1): int(m.group(2)) for m in rows if m}
    assert {e.name for _, e in cfg.entities()} <= set(published), summary
    assert all(n > 0 for n in published.values()), summary
    assert "Traceback" not in r.stderr


def test_cli_demo_with_broker_shows_every_entity_and_exits_0(broker: Mosquitto, tmp_path: Path) -> None:
    from device.config import load_config
    from device.view import ViewModel

    cfg = load_config(ROOT / "examples" / "demo.toml")
    names = set()
    for kind, e in cfg.entities():
        names |= {f"{e.name}_temperature", f"{e.name}_humidity", f"{e.name}_pressure"} if kind == "bme280" else {e.name}
    sub = Subscriber(broker.port).connect()
    try:
        sub.subscribe("pi2mqtt/demo/#")
        r = pi2mqtt("demo", "--broker", broker.url, "--duration", "12", "--plain", timeout=60,
                    env=dict(os.environ, TERM="dumb", STATE_DIRECTORY=str(tmp_path / "state")))
        assert r.returncode == 0, r.stderr[-2000:]
        statuses = [m.text for m in sub.on("pi2mqtt/demo/status")]
        assert statuses[0] == "online" and statuses[-1] == "offline"
        seen = {m.topic.split("/")[2] for m in sub.messages if m.topic.count("/") == 2}
        assert names <= seen, f"never published: {sorted(names - seen)}"
        assert "Traceback" not in r.stderr
        # issue 15: the counts agree — at start, in the view, in the summary.
        start = re.search(r"(\d+) simulated devices: (\d+) entities and the radio; log in (\S+)", r.stderr)
        assert start, r.stderr[:500]
        devices, entities = int(start.group(1)), int(start.group(2))
        assert (devices, entities) == (len(cfg.entities()), len(names))
        view = ViewModel()
        for m in sub.messages:
            view.apply(m.topic, m.payload, 0.0)
        assert len(view.devices["demo"].entities) == entities
        total = re.search(r"summary: (\d+) readings in \S+ — (\d+) from (\d+) entities, (\d+) from the radio; "
                          r"(\d+) acknowledged by the broker, (\d+) waiting in the outbox, (\d+) dropped", r.stdout)
        assert total, r.stdout[-1500:]
        readings, from_entities, n, from_radio, acked, waiting, dropped = map(int, total.groups())
        assert n == entities and readings == from_entities + from_radio == acked + waiting + dropped
        rows = [re.match(r"\s+(\S+)\s+(\d+) published", line) for line in r.stdout.splitlines()]
        assert sum(int(m.group(2)) for m in rows if m) == from_entities
        # ... and the log it named is still there after the demo ended.
        log = Path(start.group(3))
        assert log.is_relative_to(tmp_path / "state") and "started" in log.read_text()
    finally:
        sub.close()
