"""One daemon per state directory (issue 13.4): a second `pi2mqtt run` on the same state
directory refuses with exit 2, naming the directory and the process that holds it; the
first carries on, untouched."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.mosquitto import Mosquitto
from tests.mqttwait import Subscriber
from tests.procs import PI2MQTT, ROOT, DaemonProcess, write_config


def test_second_daemon_on_one_state_dir_refuses_and_first_carries_on(
    broker: Mosquitto, subscriber: Subscriber, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    cfg = write_config(tmp_path / "a.toml", "locked", broker.url, state)
    subscriber.subscribe("pi2mqtt/locked/#")
    first = DaemonProcess(cfg, tmp_path / "a.log")
    try:
        subscriber.wait_topic("pi2mqtt/locked/cpu", timeout=30)
        # The same state directory through another config file (another device id, even).
        other = write_config(tmp_path / "b.toml", "intruder", broker.url, state)
        r = subprocess.run([*PI2MQTT, "run", "--sim", "--config", str(other)], cwd=ROOT,
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 2, r.stderr
        assert str(state) in r.stderr and f"PID {first.pid}" in r.stderr
        assert "Traceback" not in r.stderr
        assert not subscriber.on("pi2mqtt/intruder/status")
        # The first one is untouched: still online, still publishing, in order.
        n = len(subscriber.on("pi2mqtt/locked/cpu"))
        subscriber.wait_count(lambda m: m.topic == "pi2mqtt/locked/cpu", n + 5, timeout=15)
        seqs = [m.json()["seq"] for m in subscriber.on("pi2mqtt/locked/cpu")]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        assert first.alive()
    finally:
        assert first.stop() == 0


def test_lock_is_released_when_the_holder_is_killed(broker: Mosquitto, subscriber: Subscriber, tmp_path: Path) -> None:
    """The kernel drops a flock with its process: after SIGKILL a new daemon starts at once."""
    state = tmp_path / "state"
    cfg = write_config(tmp_path / "a.toml", "relock", broker.url, state)
    subscriber.subscribe("pi2mqtt/relock/cpu")
    first = DaemonProcess(cfg, tmp_path / "a.log")
    subscriber.wait_topic("pi2mqtt/relock/cpu", timeout=30)
    first.kill()
    second = DaemonProcess(cfg, tmp_path / "b.log")
    try:
        n = len(subscriber.on("pi2mqtt/relock/cpu"))
        subscriber.wait_count(lambda m: m.topic == "pi2mqtt/relock/cpu", n + 3, timeout=30)
    finally:
        assert second.stop() == 0
