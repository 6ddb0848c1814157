"""Failover between two plain Mosquittos (fast, no cluster): the daemon moves to the second
URL when the first broker dies, stays there, counts it; a late will is answered (issue 12)."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from device.config import parse_config
from device.core.daemon import Daemon
from device.outbox import MemoryOutbox
from tests.mosquitto import Mosquitto
from tests.mqttwait import Subscriber
from tests.procs import poll

pytestmark = pytest.mark.broker


def make_daemon(urls: list[str], mock_factory: MockFactory, tmp_path: Path) -> Daemon:
    cfg = parse_config({"device": {"id": "fo"}, "mqtt": {"url": urls}, "homeassistant": {"enabled": False},
                        "led": [{"name": "lamp", "pin": 5}]})
    d = Daemon(cfg, pin_factory=mock_factory, state_dir=tmp_path / "state", outbox=MemoryOutbox())
    d.client.reconnect_min, d.client.reconnect_max = 0.1, 0.5
    d.start()
    return d


def test_failover_to_the_second_broker_stays_there_and_is_counted(
    mosquitto_factory: Callable[..., Mosquitto], mock_factory: MockFactory, tmp_path: Path
) -> None:
    a, b = mosquitto_factory("a"), mosquitto_factory("b")
    sub_b = Subscriber(b.port).connect()
    sub_b.subscribe("pi2mqtt/fo/#")
    d = make_daemon([a.url, b.url], mock_factory, tmp_path)
    try:
        assert d.client.wait_connected(10)
        assert d.client.broker.port == a.port and d.client.figures.failovers == 0
        assert a.proc is not None
        a.proc.send_signal(signal.SIGKILL)
        a.proc.wait(10)
        sub_b.wait_topic("pi2mqtt/fo/status", where=lambda m: m.text == "online", timeout=15)
        figures = d.client.counters()
        assert figures["broker"] == b.url and figures["failovers"] == 1
        assert figures["last_failover"]["from"] == a.url and figures["last_failover"]["to"] == b.url
        assert figures["last_failover"]["outage_s"] < 10
        # Commands work through the new broker.
        sub_b.publish("pi2mqtt/fo/lamp/set", "on")
        assert sub_b.wait_topic("pi2mqtt/fo/lamp/set/reply").json()["ok"] is True
        # The first broker comes back: the daemon stays where it is.
        a.start()
        sub_b.publish("pi2mqtt/fo/lamp/set", "off")
        sub_b.wait_count(lambda m: m.topic == "pi2mqtt/fo/lamp/set/reply", 2)
        assert d.client.broker.port == b.port and d.client.figures.failovers == 1
    finally:
        d.stop()
        sub_b.close()


def test_a_late_will_is_answered_with_online(
    broker: Mosquitto, mock_factory: MockFactory, tmp_path: Path
) -> None:
    sub = Subscriber(broker.port).connect()
    sub.subscribe("pi2mqtt/fo/status")
    d = make_daemon([broker.url], mock_factory, tmp_path)
    try:
        sub.wait_topic("pi2mqtt/fo/status", where=lambda m: m.text == "online")
        # What a broker the daemon has left would publish, late, as its will:
        sub.publish("pi2mqtt/fo/status", "offline", retain=True)
        sub.wait_count(lambda m: m.topic == "pi2mqtt/fo/status" and m.text == "online", 2, timeout=10)
        poll(lambda: d.client.figures.status_repaired == 1, 5, "status_repaired counted")
    finally:
        d.stop()
    sub.wait_topic("pi2mqtt/fo/status", where=lambda m: m.text == "offline" and m.received > 0)
    sub.close()


def test_hwsim_control_moves_to_the_next_broker_when_its_broker_dies(
    mosquitto_factory: Callable[..., Mosquitto]
) -> None:
    from hwsim.control import ControlRegistry, MqttControl

    a, b = mosquitto_factory("a"), mosquitto_factory("b")
    sub_b = Subscriber(b.port).connect()
    sub_b.subscribe("hwsim/fo/#")
    registry = ControlRegistry()
    registry.register("bell/press", lambda payload: "pressed")
    control = MqttControl(registry, f"{a.url},{b.url}", "fo")
    control.client.reconnect_delay_set(min_delay=1, max_delay=1)
    control.start()
    try:
        assert control.connected.wait(10)
        assert a.proc is not None
        a.proc.send_signal(signal.SIGKILL)
        a.proc.wait(10)
        sub_b.wait_topic("hwsim/fo/status", where=lambda m: m.text == "online", timeout=20)
        sub_b.publish("hwsim/fo/bell/press", "")
        reply = sub_b.wait_topic("hwsim/fo/reply", timeout=10).json()
        assert reply == {"ok": True, "path": "bell/press", "value": "pressed"}
    finally:
        control.close()
        sub_b.close()
