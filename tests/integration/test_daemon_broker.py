"""The daemon against a real Mosquitto: order, timestamps, status, will, commands, settings."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from gpiozero.pins.mock import MockFactory
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from device.components.base import PolledComponent
from device.config.model import Polled
from device.core.daemon import Daemon
from tests.mosquitto import Mosquitto
from tests.mqttwait import Subscriber

TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def cpu_file(tmp_path: Path, celsius: float = 45.0) -> Path:
    p = tmp_path / "cpu_temp"
    p.write_text(f"{int(celsius * 1000)}\n")
    return p


def test_daemon_publishes_readings_in_order_with_ts_and_seq(
    make_daemon: Callable[..., Daemon], subscriber: Subscriber, tmp_path: Path
) -> None:
    subscriber.subscribe("pi2mqtt/itest/#")
    make_daemon({"cpu_temperature": [{"name": "cpu", "sensor_file": str(cpu_file(tmp_path)), "interval": "50ms"}]})
    msgs = subscriber.wait_count(lambda m: m.topic == "pi2mqtt/itest/cpu", 20, timeout=10)
    docs = [m.json() for m in msgs]
    assert [d["seq"] for d in docs] == list(range(1, len(docs) + 1))
    assert all(TS_RE.match(d["ts"]) for d in docs)
    assert docs[0]["value"] == 45.0 and docs[0]["unit"] == "°C"
    stamps = [d["ts"] for d in docs]
    assert stamps == sorted(stamps)


def test_daemon_status_online_retained_then_offline_on_stop(
    make_daemon: Callable[..., Daemon], broker: Mosquitto
) -> None:
    d = make_daemon({})
    assert d.client.wait_connected(10)
    # Connected means `online` is on its way (QoS 1), not yet at the broker: once a first
    # subscriber has it (live or retained), the broker holds the retained copy.
    first = Subscriber(broker.port).connect()
    first.subscribe("pi2mqtt/itest/status")
    first.wait_topic("pi2mqtt/itest/status", where=lambda m: m.text == "online")
    first.close()
    late = Subscriber(broker.port).connect()
    try:
        late.subscribe("pi2mqtt/itest/status")
        m = late.wait_topic("pi2mqtt/itest/status")
        assert m.text == "online" and m.retain
        d.stop()
        m = late.wait_topic("pi2mqtt/itest/status", where=lambda m: m.text == "offline")
        assert m.text == "offline"
    finally:
        late.close()


def test_daemon_button_edge_published_at_once(
    make_daemon: Callable[..., Daemon], subscriber: Subscriber, mock_factory: MockFactory
) -> None:
    subscriber.subscribe("pi2mqtt/itest/bell")
    d = make_daemon({"button": [{"name": "bell", "pin": 17, "debounce": "30ms"}]})
    subscriber.wait_topic("pi2mqtt/itest/bell", where=lambda m: m.json()["value"] is False)
    assert d.client.wait_connected(10)
    pin = mock_factory.pin(17)
    # A bouncy press: the first edge goes out, the bounce is swallowed, the final level wins.
    for level in (0, 1, 0, 1, 0):
        pin.drive_low() if level == 0 else pin.drive_high()
    m = subscriber.wait_topic("pi2mqtt/itest/bell", where=lambda m: m.json()["value"] is True)
    assert m.json()["seq"] == 2
    pin.drive_high()
    subscriber.wait_topic("pi2mqtt/itest/bell", where=lambda m: m.json()["value"] is False and m.json()["seq"] > 2)
    values = [m.json()["value"] for m in subscriber.on("pi2mqtt/itest/bell")]
    assert values == [False, True, False]


def test_daemon_output_command_round_trip(
    make_daemon: Callable[..., Daemon], subscriber: Subscriber, mock_factory: MockFactory
) -> None:
    subscriber.subscribe("pi2mqtt/itest/#")
    d = make_daemon({"led": [{"name": "lamp", "pin": 5}], "pwm_led": [{"name": "dim", "pin": 12}]})
    assert d.client.wait_connected(10)
    subscriber.publish("pi2mqtt/itest/lamp/set", '{"value": "on", "id": "r1"}')
    reply = subscriber.wait_topic("pi2mqtt/itest/lamp/set/reply")
    assert reply.json() == {"ok": True, "value": True, "id": "r1"}
    assert mock_factory.pin(5).state is True or mock_factory.pin(5).state == 1
    state = subscriber.wait_topic("pi2mqtt/itest/lamp", where=lambda m: m.json()["value"] is True)
    assert state.retain is False or state.retain is True  # delivered live
    subscriber.publish("pi2mqtt/itest/dim/set", "0.25")
    subscriber.wait_topic("pi2mqtt/itest/dim/set/reply", where=lambda m: m.json().get("value") == 0.25)
    assert abs(mock_factory.pin(12).state - 0.25) < 1e-9


def test_daemon_bad_commands_get_errors_and_leave_state(
    make_daemon: Callable[..., Daemon], subscriber: Subscriber, mock_factory: MockFactory, tmp_path: Path
) -> None:
    subscriber.subscribe("pi2mqtt/itest/+/set/reply")
    d = make_daemon({
        "pwm_led": [{"name": "dim", "pin": 12, "initial": 0.5}],
        "cpu_temperature": [{"name": "cpu", "sensor_file": str(cpu_file(tmp_path))}],
    })
    assert d.client.wait_connected(10)
    cases = [
        ("dim", b"1.5", "RANGE"),
        ("dim", b"{broken", "BAD_JSON"),
        ("dim", b'{"value": 0.1, "extra": 1}', "UNKNOWN_FIELD"),
        ("dim", b"\xff", "BAD_ENCODING"),
        ("dim", b"x" * 10_000, "TOO_LARGE"),
        ("cpu", b"on", "READ_ONLY"),
        ("nosuch", b"on", "UNKNOWN_ENTITY"),
    ]
    for entity, payload, _ in cases:
        subscriber.publish(f"pi2mqtt/itest/{entity}/set", payload)
    replies = subscriber.wait_count(lambda m: m.topic.endswith("/set/reply"), len(cases), timeout=10)
    assert [r.json()["code"] for r in replies] == [c for _, _, c in cases]
    assert all(r.json()["ok"] is False and r.json()["message"] for r in replies)
    assert mock_factory.pin(12).state == 0.5


def test_daemon_mqtt5_response_topic_and_correlation(
    make_daemon: Callable[..., Daemon], broker: Mosquitto
) -> None:
    d = make_daemon({"mqtt": {"protocol": "5"}, "led": [{"name": "lamp", "pin": 5}]})
    assert d.client.wait_connected(10)
    sub = Subscriber(broker.port, protocol=mqtt.MQTTv5).connect()
    try:
        sub.subscribe("replies/me")
        props = Properties(PacketTypes.PUBLISH)
        props.ResponseTopic = "replies/me"
        props.CorrelationData = b"\x01\x02corr"
        sub.publish("pi2mqtt/itest/lamp/set", "on", properties=props)
        m = sub.wait_topic("replies/me")
        assert m.json()["ok"] is True
        assert m.properties.CorrelationData == b"\x01\x02corr"
    finally:
        sub.close()


def test_daemon_settings_reach_the_client(make_daemon: Callable[..., Daemon], broker: Mosquitto) -> None:
    # Mosquitto logs each connection as "(p<protocol>, c<clean>, k<keepalive>)".
    d = make_daemon({"mqtt": {"keepalive": "17s", "protocol": "5", "client_id": "kp-test"}})
    assert d.client.wait_connected(10)
    d.stop()
    line = next(ln for ln in broker.log().splitlines() if " as kp-test " in ln)
    assert "p5" in line and "k17" in line
    d2 = make_daemon({"mqtt": {"keepalive": "33s", "protocol": "3.1.1", "client_id": "kp-test2"}})
    assert d2.client.wait_connected(10)
    line = next(ln for ln in broker.log().splitlines() if " as kp-test2 " in ln)
    assert "p2" in line and "k33" in line


def test_daemon_qos_setting_reaches_the_broker(
    make_daemon: Callable[..., Daemon], subscriber: Subscriber, tmp_path: Path
) -> None:
    subscriber.subscribe("pi2mqtt/itest/cpu", qos=2)
    make_daemon({"mqtt": {"qos": 0},
                 "cpu_temperature": [{"name": "cpu", "sensor_file": str(cpu_file(tmp_path)), "interval": "100ms"}]})
    m = subscriber.wait_topic("pi2mqtt/itest/cpu", where=lambda m: not m.retain)
    assert m.qos == 0


class StuckSensor(PolledComponent):
    """A sensor whose read never returns until released."""

    kind = "test_stuck"

    def __init__(self, name: str) -> None:
        super().__init__(Polled(name=name, interval=0.05, timeout=0.2))
        self.release = threading.Event()
        self.calls = 0

    def read(self) -> Any:
        self.calls += 1
        if self.calls >= 2:
            self.release.wait(30)
        return 1.0


class FailingSensor(PolledComponent):
    kind = "test_failing"

    def __init__(self, name: str) -> None:
        super().__init__(Polled(name=name, interval=0.05))

    def read(self) -> Any:
        raise OSError("I2C bus error")


def test_daemon_stuck_and_failing_reads_degrade_only_their_entity(
    make_daemon: Callable[..., Daemon], subscriber: Subscriber, tmp_path: Path
) -> None:
    subscriber.subscribe("pi2mqtt/itest/#")
    d = make_daemon({"cpu_temperature": [{"name": "cpu", "sensor_file": str(cpu_file(tmp_path)), "interval": "50ms"}]},
                    start=False)
    stuck = StuckSensor("stuck")
    d.add_component(stuck)
    d.add_component(FailingSensor("broken"))
    d.start()
    t = threading.Thread(target=d.run, args=(threading.Event(),), daemon=True)
    stop_run = threading.Event()
    t = threading.Thread(target=d.run, args=(stop_run,), daemon=True)
    t.start()
    try:
        m = subscriber.wait_topic("pi2mqtt/itest/stuck", where=lambda m: m.json()["value"] is None)
        assert "timeout" in m.json()["error"]
        m = subscriber.wait_topic("pi2mqtt/itest/broken")
        assert m.json()["value"] is None and "I2C bus error" in m.json()["error"]
        n = len(subscriber.on("pi2mqtt/itest/cpu"))
        subscriber.wait_count(lambda m: m.topic == "pi2mqtt/itest/cpu", n + 5)
        # The failing sensor reported once, not on every failed read.
        assert len(subscriber.on("pi2mqtt/itest/broken")) == 1
        # Stopping does not wait for the stuck read (it is released only after the stop).
        stop_run.set()
        stopper = threading.Thread(target=d.stop, daemon=True)
        stopper.start()
        stopper.join(timeout=15)
        assert not stopper.is_alive(), "stop() waited for a read that never ends"
    finally:
        stuck.release.set()


def test_daemon_starts_without_broker_and_catches_up(
    mosquitto_factory: Callable[..., Mosquitto], make_daemon: Callable[..., Daemon], tmp_path: Path
) -> None:
    b = mosquitto_factory("late")
    b.stop()
    d = make_daemon({"mqtt": {"url": b.url},
                     "cpu_temperature": [{"name": "cpu", "sensor_file": str(cpu_file(tmp_path)), "interval": "50ms"}]})
    sub_ready = threading.Event()
    deadline = time.monotonic() + 10
    while d.outbox.pending() < 5:
        assert time.monotonic() < deadline, "no readings queued while the broker was down"
        sub_ready.wait(0.05)
    b.start()
    sub = Subscriber(b.port).connect()
    try:
        sub.subscribe("pi2mqtt/itest/#")
        assert d.client.wait_connected(15)
        sub.wait_topic("pi2mqtt/itest/status", where=lambda m: m.text == "online", timeout=15)
        # Everything queued while down is published, the older ones on …/backfill.
        got = sub.wait_count(lambda m: m.topic.startswith("pi2mqtt/itest/cpu"), 10, timeout=15)
        # Each topic in order; across the two, a reading taken after the connect may come
        # first (the sender's live lane goes ahead of the backlog: docs/reliability.md).
        for topic in ("pi2mqtt/itest/cpu", "pi2mqtt/itest/cpu/backfill"):
            seqs = [json.loads(m.payload)["seq"] for m in got if m.topic == topic and not m.retain]
            assert seqs == sorted(seqs), topic
        assert any(m.topic.endswith("/backfill") for m in got)
    finally:
        sub.close()
