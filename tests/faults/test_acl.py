"""Passwords + the example ACL on a real Mosquitto: the daemon works in its own tree; a
publish outside it is denied, counted, reported, and the daemon carries on (issue 5, §3)."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from device.config import parse_config
from device.core.daemon import Daemon
from tests.mosquitto import Mosquitto
from tests.mqttwait import Subscriber

pytestmark = pytest.mark.broker

ROOT = Path(__file__).resolve().parents[2]
ACL = ROOT / "examples" / "mosquitto-acl.conf"
DEVICE = "acltest"
BASE = f"pi2mqtt/{DEVICE}"


def mosquitto_passwd(path: Path, users: dict[str, str]) -> None:
    binary = "/usr/bin/mosquitto_passwd"
    if not Path(binary).exists():
        pytest.skip("mosquitto_passwd is not installed")
    for i, (user, pw) in enumerate(users.items()):
        args = [binary, "-b", *(["-c"] if i == 0 else []), str(path), user, pw]
        subprocess.run(args, check=True, capture_output=True, timeout=30)
    path.chmod(0o644)  # a Mosquitto that dropped privileges must read it


@pytest.fixture
def acl_broker(mosquitto_factory: Callable[..., Mosquitto], tmp_path: Path) -> Mosquitto:
    pw = tmp_path / "passwd"
    mosquitto_passwd(pw, {DEVICE: "device-secret", "homeassistant": "ha-secret", "intruder": "x"})
    extra = f"password_file {pw}\nacl_file {ACL}\n"
    return mosquitto_factory("acl", extra=extra, allow_anonymous=False)


@pytest.fixture
def ha(acl_broker: Mosquitto) -> Iterator[Subscriber]:
    sub = Subscriber(acl_broker.port, username="homeassistant", password="ha-secret",
                     protocol=5).connect()
    yield sub
    sub.close()


def start_daemon(broker: Mosquitto, factory: MockFactory, tmp_path: Path, protocol: str) -> Daemon:
    secret = tmp_path / "mqtt-password"
    secret.write_text("device-secret\n")
    secret.chmod(0o600)
    cpu = tmp_path / "cpu_temp"
    cpu.write_text("45000\n")
    from device.app.runner import read_password

    cfg = parse_config({
        "device": {"id": DEVICE},
        "mqtt": {"url": broker.url, "username": DEVICE, "password_file": str(secret), "protocol": protocol},
        "diagnostics": {"interval": "1s"},
        "cpu_temperature": [{"name": "cpu", "sensor_file": str(cpu), "interval": "100ms"}],
        "led": [{"name": "lamp", "pin": 17}],
    })
    (tmp_path / "state").mkdir(exist_ok=True)
    d = Daemon(cfg, pin_factory=factory, state_dir=tmp_path / "state", password=read_password(cfg))
    d.start()
    assert d.client.wait_connected(10), d.client.last_error
    return d


def command(sub: Subscriber, payload: bytes, response_topic: str | None = None) -> None:
    props = None
    if response_topic:
        props = Properties(PacketTypes.PUBLISH)
        props.ResponseTopic = response_topic
        props.CorrelationData = b"c1"
    sub.publish(f"{BASE}/lamp/set", payload, properties=props)


def test_acl_device_works_in_its_own_tree_and_a_denied_publish_is_counted(
    acl_broker: Mosquitto, ha: Subscriber, mock_factory: MockFactory, tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ha.subscribe(f"{BASE}/#")
    ha.subscribe(f"homeassistant/device/{DEVICE}/config")
    with caplog.at_level(logging.ERROR, logger="pi2mqtt.mqtt"):
        d = start_daemon(acl_broker, mock_factory, tmp_path, "5")
        try:
            # Its own tree works: readings, discovery, a command and its reply.
            ha.wait_count(lambda m: m.topic == f"{BASE}/cpu" and not m.retain, 3, timeout=10)
            ha.wait_topic(f"homeassistant/device/{DEVICE}/config", timeout=10)
            command(ha, b'{"value": true, "id": 1}')
            assert ha.wait_topic(f"{BASE}/lamp/set/reply", timeout=10).json()["ok"] is True
            # A reply sent outside its tree (a Response Topic it may not write): denied.
            command(ha, b'{"value": false, "id": 2}', response_topic="elsewhere/inbox")
            ha.wait_for(lambda m: m.topic == f"{BASE}/lamp/set/reply" and m.json().get("id") == 2, 10)
            from tests.procs import poll

            poll(lambda: d.client.denied >= 1, 10, "the denial")
            d.publish_diagnostics()  # what Daemon.run() does every diagnostics.interval
            diag = ha.wait_topic(f"{BASE}/diagnostics", timeout=10,
                                 where=lambda m: m.json()["mqtt"]["denied"] >= 1)
            assert diag.json()["mqtt"]["last_denied"] == "elsewhere/inbox"
            command(ha, b'{"value": false, "id": 3}', response_topic="elsewhere/inbox")
            # ... and it carries on: commands and readings still flow, still connected once.
            command(ha, b'{"value": true, "id": 4}')
            ha.wait_for(lambda m: m.topic == f"{BASE}/lamp/set/reply" and m.json().get("id") == 4, 10)
            n = sum(1 for m in ha.messages if m.topic == f"{BASE}/cpu")
            ha.wait_count(lambda m: m.topic == f"{BASE}/cpu", n + 3, timeout=10)
            poll(lambda: d.client.denied >= 2, 10, "the second denial")
            assert d.client.connects == 1 and d.client.denied == 2
            assert mock_factory.pin(17).state
        finally:
            d.stop()
    denied_logs = [r for r in caplog.records if "refused a publish to elsewhere/inbox" in r.getMessage()]
    assert len(denied_logs) == 1  # logged once, counted every time
    assert "device-secret" not in caplog.text


def test_acl_mqtt311_denied_publish_is_dropped_silently(
    acl_broker: Mosquitto, ha: Subscriber, mock_factory: MockFactory, tmp_path: Path,
) -> None:
    # The documented limitation: MQTT 3.1.1 has no reason code in PUBACK. Mosquitto drops
    # the publish and acknowledges it; the daemon cannot know. (Use protocol = "5".)
    ha.subscribe("#")
    d = start_daemon(acl_broker, mock_factory, tmp_path, "3.1.1")
    try:
        d.client.publish_now("elsewhere/inbox", b"{}", qos=1)
        d.client.publish_now(f"{BASE}/marker", b"{}", qos=1)
        ha.wait_topic(f"{BASE}/marker", timeout=10)
        assert not ha.on("elsewhere/inbox")
        assert d.client.denied == 0
    finally:
        d.stop()


def test_acl_wrong_password_is_refused_clearly(acl_broker: Mosquitto, mock_factory: MockFactory,
                                               tmp_path: Path) -> None:
    cfg = parse_config({"device": {"id": DEVICE},
                        "mqtt": {"url": acl_broker.url, "username": DEVICE, "protocol": "5"}})
    d = Daemon(cfg, pin_factory=mock_factory, state_dir=None, password="wrong")
    d.client.reconnect_min = d.client.reconnect_max = 0.1
    d.start()
    try:
        from tests.procs import poll

        poll(lambda: d.client.last_error is not None and "refused" in d.client.last_error, 10, "refusal")
        assert d.client.state == "error" and d.client.connects == 0
        assert "wrong" not in str(d.diagnostics())
    finally:
        d.stop()
