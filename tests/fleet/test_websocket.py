"""`ws://` and `wss://` broker URLs (paho's WebSocket transport) against Mosquitto's own
WebSocket listener (`protocol websockets`), started by the test next to its TCP listener.

(Mosquitto 2.0's WebSocket listener, through libwebsockets, binds every interface
whatever address its `listener` line names; the tests only ever connect to 127.0.0.1.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from device.config import parse_config
from device.core.daemon import Daemon
from device.outbox import MemoryOutbox
from tests.certs import Pki, find_openssl, make_pki
from tests.mosquitto import Mosquitto, free_port
from tests.mqttwait import Subscriber

pytestmark = pytest.mark.broker


@dataclass
class WsBroker:
    broker: Mosquitto
    ws_port: int


def ws_listener(port: int, tls: str = "") -> str:
    return f"listener {port} 127.0.0.1\nprotocol websockets\n{tls}"


@pytest.fixture
def ws_broker(mosquitto_factory: Callable[..., Mosquitto]) -> WsBroker:
    """A Mosquitto with a TCP listener (for the test's subscriber) and a WebSocket one."""
    ws_port = free_port()
    return WsBroker(mosquitto_factory("ws", extra=ws_listener(ws_port)), ws_port)


def start_daemon(url: str, mock_factory: MockFactory, tmp_path: Path, **mqtt: object) -> Daemon:
    cfg = parse_config({
        "device": {"id": "wsdev"}, "mqtt": {"url": url, **mqtt}, "homeassistant": {"enabled": False},
        "diagnostics": {"interval": "1s"},
        "led": [{"name": "lamp", "pin": 5}],
    })
    d = Daemon(cfg, pin_factory=mock_factory, state_dir=tmp_path / "state", outbox=MemoryOutbox())
    d.start()
    return d


def test_websocket_ws_url_publishes_and_takes_commands(
    ws_broker: WsBroker, mock_factory: MockFactory, tmp_path: Path
) -> None:
    sub = Subscriber(ws_broker.broker.port).connect()  # a plain TCP client of the same broker
    sub.subscribe("pi2mqtt/wsdev/#")
    d = start_daemon(f"ws://127.0.0.1:{ws_broker.ws_port}/mqtt", mock_factory, tmp_path)
    try:
        assert d.client.wait_connected(15), d.client.last_error
        sub.wait_topic("pi2mqtt/wsdev/status", where=lambda m: m.text == "online")
        sub.publish("pi2mqtt/wsdev/lamp/set", '{"value": "on", "id": 3}')
        assert sub.wait_topic("pi2mqtt/wsdev/lamp/set/reply").json() == {"ok": True, "value": True, "id": 3}
        figures = d.client.counters()
        assert figures["broker"] == f"ws://127.0.0.1:{ws_broker.ws_port}/mqtt"
        assert figures["protocol"] == "5" and figures["protocol_fallbacks"] == 0
    finally:
        d.stop()
    sub.wait_topic("pi2mqtt/wsdev/status", where=lambda m: m.text == "offline")
    sub.close()


def test_websocket_failover_from_a_dead_tcp_url_to_a_ws_url(
    ws_broker: WsBroker, mock_factory: MockFactory, tmp_path: Path
) -> None:
    dead = free_port()
    d = start_daemon(f"mqtt://127.0.0.1:{dead},ws://127.0.0.1:{ws_broker.ws_port}", mock_factory, tmp_path)
    d.client.reconnect_min, d.client.reconnect_max = 0.05, 0.2
    try:
        assert d.client.wait_connected(15), d.client.last_error
        assert d.client.broker.websocket and d.client.broker.path == "/mqtt"
    finally:
        d.stop()


@pytest.fixture
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    if find_openssl() is None:
        pytest.skip("openssl is not installed")
    return make_pki(tmp_path_factory.mktemp("pki"))


def test_websocket_wss_url_verifies_the_certificate(
    mosquitto_factory: Callable[..., Mosquitto], pki: Pki, mock_factory: MockFactory, tmp_path: Path
) -> None:
    wss_port = free_port()
    mosquitto_factory("wss", extra=ws_listener(wss_port, pki.mosquitto_tls()))
    d = start_daemon(f"wss://127.0.0.1:{wss_port}/mqtt", mock_factory, tmp_path,
                     tls={"ca_file": str(pki.ca.cert)})
    try:
        assert d.client.wait_connected(15), d.client.last_error
        assert d.client.broker.tls and d.client.broker.websocket
    finally:
        d.stop()


def test_websocket_wss_refuses_an_untrusted_certificate(
    mosquitto_factory: Callable[..., Mosquitto], pki: Pki, mock_factory: MockFactory, tmp_path: Path
) -> None:
    wss_port = free_port()
    mosquitto_factory("wss", extra=ws_listener(wss_port, pki.mosquitto_tls(pki.untrusted_server)))
    d = start_daemon(f"wss://127.0.0.1:{wss_port}/mqtt", mock_factory, tmp_path,
                     tls={"ca_file": str(pki.ca.cert)})
    try:
        assert not d.client.wait_connected(3)
        assert d.client.last_error is not None and "not trusted" in d.client.last_error
    finally:
        d.stop()
