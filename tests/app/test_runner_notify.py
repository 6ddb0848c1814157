"""`pi2mqtt run` under a fake systemd: READY, STATUS, WATCHDOG, STOPPING, SIGHUP reloads.

The daemon runs as a subprocess (`pi2mqtt run --sim`); `$NOTIFY_SOCKET` is a datagram
socket the test binds in a temporary directory, as systemd would.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.mosquitto import Mosquitto, free_port
from tests.mqttwait import Subscriber
from tests.procs import DaemonProcess, NotifySocket, Tally, write_config


@pytest.fixture
def notify(tmp_path: Path) -> Iterator[NotifySocket]:
    s = NotifySocket(tmp_path / "notify")
    yield s
    s.close()


def start(tmp_path: Path, url: str, notify: NotifySocket, **env: str) -> tuple[DaemonProcess, Path]:
    conf = write_config(tmp_path / "p.toml", "rtest", url, tmp_path / "state", interval="100ms")
    return DaemonProcess(conf, tmp_path / "d.log", env={"NOTIFY_SOCKET": str(notify.path), **env}), conf


def test_runner_ready_watchdog_and_stopping_without_a_broker(tmp_path: Path, notify: NotifySocket) -> None:
    # READY does not wait for the broker; the watchdog is fed although the broker is away.
    p, _ = start(tmp_path, f"mqtt://127.0.0.1:{free_port()}", notify, WATCHDOG_USEC="300000")
    try:
        ready = notify.wait_for(lambda m: m.get("READY") == "1", 20, "READY=1")
        assert "unreachable" in ready.get("STATUS", "") or "connecting" in ready.get("STATUS", "")
        for _ in range(3):
            notify.wait_for(lambda m: m.get("WATCHDOG") == "1", 5, "WATCHDOG=1")
        p.signal(signal.SIGTERM)
        notify.wait_for(lambda m: m.get("STOPPING") == "1", 10, "STOPPING=1")
        assert p.wait(10) == 0
    finally:
        p.stop()


def test_runner_no_watchdog_pings_without_watchdog_usec(tmp_path: Path, notify: NotifySocket) -> None:
    p, _ = start(tmp_path, f"mqtt://127.0.0.1:{free_port()}", notify)
    try:
        notify.wait_for(lambda m: m.get("READY") == "1", 20, "READY=1")
        p.signal(signal.SIGTERM)
        notify.wait_for(lambda m: m.get("STOPPING") == "1", 10, "STOPPING=1")
        assert p.wait(10) == 0
    finally:
        p.stop()
    assert not [m for m in notify.received if "WATCHDOG" in m]


@pytest.mark.broker
def test_runner_status_says_connected(broker: Mosquitto, tmp_path: Path, notify: NotifySocket) -> None:
    p, _ = start(tmp_path, broker.url, notify)
    try:
        notify.wait_for(lambda m: "connected to" in m.get("STATUS", ""), 20, "STATUS connected")
    finally:
        assert p.stop() == 0


@pytest.mark.broker
def test_runner_sighup_with_a_broken_config_keeps_running_and_says_so(
    broker: Mosquitto, tmp_path: Path, notify: NotifySocket
) -> None:
    sub = Subscriber(broker.port).connect()
    sub.subscribe("pi2mqtt/rtest/cpu")
    t = Tally(sub)
    p, conf = start(tmp_path, broker.url, notify)
    try:
        notify.wait_for(lambda m: m.get("READY") == "1", 20, "READY=1")
        t.wait(lambda t: len(t.of("pi2mqtt/rtest/cpu")) >= 3, 20, "readings")
        conf.write_text(conf.read_text() + "\n[mqtt.bogus]\nx = 1\n")
        p.signal(signal.SIGHUP)
        status = notify.wait_for(lambda m: "reload failed" in m.get("STATUS", ""), 10, "STATUS reload failed")
        assert "bogus" in status["STATUS"]
        assert "reload refused" in p.log()
        # Still running on the old config: readings keep coming, no RELOADING was sent.
        n = len(t.update().of("pi2mqtt/rtest/cpu"))
        t.wait(lambda t: len(t.of("pi2mqtt/rtest/cpu")) >= n + 5, 10, "more readings")
        assert p.alive()
        assert not [m for m in notify.received if "RELOADING" in m]
    finally:
        assert p.stop() == 0
        sub.close()


@pytest.mark.broker
def test_runner_sighup_with_a_good_config_applies_it(
    broker: Mosquitto, tmp_path: Path, notify: NotifySocket
) -> None:
    sub = Subscriber(broker.port).connect()
    sub.subscribe("pi2mqtt/rtest/+")
    t = Tally(sub)
    p, conf = start(tmp_path, broker.url, notify)
    try:
        notify.wait_for(lambda m: m.get("READY") == "1", 20, "READY=1")
        t.wait(lambda t: len(t.of("pi2mqtt/rtest/cpu")) >= 3, 20, "readings")
        conf.write_text(conf.read_text() + '\n[[cpu_temperature]]\nname = "cpu2"\ninterval = "100ms"\n')
        p.signal(signal.SIGHUP)
        reloading = notify.wait_for(lambda m: m.get("RELOADING") == "1", 10, "RELOADING=1")
        assert int(reloading["MONOTONIC_USEC"]) > 0
        ready = notify.wait_for(lambda m: m.get("READY") == "1", 10, "READY=1 after the reload")
        assert "reloaded" in ready.get("STATUS", "")
        t.wait(lambda t: len(t.of("pi2mqtt/rtest/cpu2")) >= 3, 15, "readings of the new entity")
        # The old entity goes on with its seq (clean stop: no gap, no reuse).
        cpu = list(t.update().of("pi2mqtt/rtest/cpu"))
        t.wait(lambda t: len(t.of("pi2mqtt/rtest/cpu")) >= len(cpu) + 3, 10, "cpu after the reload")
        cpu = t.of("pi2mqtt/rtest/cpu")
        assert cpu == list(range(cpu[0], cpu[0] + len(cpu)))
    finally:
        assert p.stop() == 0
        sub.close()


def test_runner_password_from_systemd_credential(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from device.app.runner import read_password
    from device.config import parse_config

    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "mqtt-password").write_text("s3cret\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    assert read_password(parse_config({"mqtt": {"username": "u"}})) == "s3cret"
    monkeypatch.delenv("CREDENTIALS_DIRECTORY")
    assert read_password(parse_config({"mqtt": {"username": "u"}})) is None


def test_runner_outbox_follows_the_config(tmp_path: Path) -> None:
    from device.app.runner import open_configured_outbox
    from device.config import parse_config
    from device.outbox import MemoryOutbox
    from device.outbox.sqlite import SqliteOutbox

    mem = open_configured_outbox(parse_config({"outbox": {"durability": "memory", "max_rows": 123}}), tmp_path)
    assert isinstance(mem, MemoryOutbox) and mem.max_rows == 123
    db = open_configured_outbox(parse_config({"outbox": {"durability": "reading", "max_rows": 456,
                                                         "max_bytes": 200_000, "max_age": "1h"}}), tmp_path)
    try:
        assert isinstance(db, SqliteOutbox)
        assert (db.durability, db.max_rows, db.max_bytes, db.max_age_s) == ("reading", 456, 200_000, 3600.0)
        assert db.path == tmp_path / "outbox.db"
    finally:
        db.close()


