"""Connection handling: jittered exponential backoff, subscriptions restored after a broker
restart, optional persistent session, clear failure messages (issue 5, §2)."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from device.config import parse_config
from device.core.daemon import Daemon
from device.mqtt.client import MqttClient
from device.mqtt.failures import explain_connect_error, explain_early_close
from device.mqtt.topics import Topics
from device.outbox import MemoryOutbox
from tests.mosquitto import Mosquitto
from tests.mqttwait import Subscriber


def client() -> MqttClient:
    cfg = parse_config({"device": {"id": "b"}})
    return MqttClient(cfg.mqtt, Topics("pi2mqtt", "b"), MemoryOutbox())


def test_connection_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    c = client()
    assert (c.reconnect_min, c.reconnect_max) == (1.0, 10.0)  # the defaults
    for attempt, ceiling in [(0, 1), (1, 2), (2, 4), (3, 8), (4, 10), (10, 10), (500, 10)]:
        waits = [c.backoff(attempt) for _ in range(200)]
        assert all(ceiling / 2 <= w <= ceiling for w in waits), (attempt, min(waits), max(waits))
        assert len(set(waits)) > 100  # jittered: two devices do not retry in lockstep


def test_connection_failure_messages_name_the_cause_and_the_key() -> None:
    msg, state = explain_connect_error(ConnectionRefusedError(111, "Connection refused"), "h:1",
                                       tls=False, client_cert=False)
    assert (msg, state) == ("broker h:1 unreachable: Connection refused", "reconnecting")
    e = ssl.SSLCertVerificationError(1, "x")
    e.verify_message = "unable to get local issuer certificate"
    msg, state = explain_connect_error(e, "h:8883", tls=True, client_cert=False)
    assert state == "error" and "not trusted" in msg and "mqtt.tls.ca_file" in msg
    msg, _ = explain_connect_error(ConnectionResetError(104, "Connection reset by peer"), "h:1",
                                   tls=True, client_cert=False)
    assert "TLS port" in msg
    assert "client certificate" in explain_early_close("Unspecified error", "h:8883", tls=True, client_cert=False)
    assert "mqtts://" in explain_early_close("Unspecified error", "h:1883", tls=False, client_cert=False)


def make(broker: Mosquitto, factory: MockFactory, tmp_path: Path, **mqtt: object) -> Daemon:
    cfg = parse_config({"device": {"id": "ctn"}, "mqtt": {"url": broker.url, **mqtt},
                        "homeassistant": {"enabled": False}, "led": [{"name": "lamp", "pin": 17}]})
    (tmp_path / "state").mkdir(exist_ok=True)
    d = Daemon(cfg, pin_factory=factory, state_dir=tmp_path / "state")
    d.client.reconnect_max = 1.0
    d.start()
    assert d.client.wait_connected(10), d.client.last_error
    return d


@pytest.mark.broker
def test_connection_commands_work_again_after_a_broker_restart(
    broker: Mosquitto, mock_factory: MockFactory, tmp_path: Path
) -> None:
    d = make(broker, mock_factory, tmp_path)
    try:
        broker.restart()  # no persistence: every session and subscription is gone
        assert d.client.wait_connected(15)
        sub = Subscriber(broker.port).connect()
        try:
            sub.subscribe("pi2mqtt/ctn/status")
            sub.wait_topic("pi2mqtt/ctn/status", where=lambda m: m.text == "online", timeout=15)
            sub.subscribe("pi2mqtt/ctn/lamp/set/reply")
            sub.publish("pi2mqtt/ctn/lamp/set", b"on")
            assert sub.wait_topic("pi2mqtt/ctn/lamp/set/reply", timeout=10).json()["ok"] is True
        finally:
            sub.close()
        assert d.client.connects == 2 and mock_factory.pin(17).state
    finally:
        d.stop()


@pytest.mark.broker
@pytest.mark.parametrize("protocol", ["3.1.1", "5"])
def test_connection_persistent_session_keeps_commands_sent_while_away(
    broker: Mosquitto, mock_factory: MockFactory, tmp_path: Path, protocol: str
) -> None:
    d = make(broker, mock_factory, tmp_path, clean_session=False, protocol=protocol)
    d.stop()
    sub = Subscriber(broker.port).connect()
    try:
        sub.subscribe("pi2mqtt/ctn/lamp/set/reply")
        sub.publish("pi2mqtt/ctn/lamp/set", b'{"value": true, "id": "while-away"}')
        d2 = make(broker, mock_factory, tmp_path, clean_session=False, protocol=protocol)
        try:
            reply = sub.wait_topic("pi2mqtt/ctn/lamp/set/reply", timeout=10).json()
            assert reply == {"ok": True, "value": True, "id": "while-away"}
        finally:
            d2.stop()
    finally:
        sub.close()


@pytest.mark.broker
def test_connection_clean_session_drops_commands_sent_while_away(
    mosquitto_factory: Callable[..., Mosquitto], mock_factory: MockFactory, tmp_path: Path
) -> None:
    broker = mosquitto_factory("clean")
    d = make(broker, mock_factory, tmp_path)
    d.stop()
    sub = Subscriber(broker.port).connect()
    try:
        sub.subscribe("pi2mqtt/ctn/lamp/set/reply")
        sub.publish("pi2mqtt/ctn/lamp/set", b'{"value": true, "id": "lost"}')
        sub.subscribe("pi2mqtt/ctn/status")
        d2 = make(broker, mock_factory, tmp_path)
        try:
            # `online` goes out just before the command subscription, on the same connection.
            sub.wait_topic("pi2mqtt/ctn/status", where=lambda m: m.text == "online", timeout=10)
            sub.publish("pi2mqtt/ctn/lamp/set", b'{"value": false, "id": "marker"}')
            first = sub.wait_topic("pi2mqtt/ctn/lamp/set/reply", timeout=10).json()
            assert first["id"] == "marker"
        finally:
            d2.stop()
    finally:
        sub.close()
