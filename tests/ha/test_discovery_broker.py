"""Discovery from a running daemon through a real Mosquitto: retained, well formed, kept current."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from device.core.daemon import Daemon
from device.core.services import Service, ServiceContext
from device.ha import ha_delay
from tests.ha.rules import check_component
from tests.mosquitto import Mosquitto
from tests.mqttwait import Msg, Subscriber

DEVICE_TOPIC = "homeassistant/device/hatest/config"


class StubRadio(Service):
    """Just the radio's discovery hooks (device/radio/service.py), and one state publication."""

    name = "radio"

    def __init__(self) -> None:
        self._presets = [{"slot": 1, "name": "ALPHA FM", "mhz": 88.4, "pi": "D311"}]
        self._listeners: list[Callable[[], None]] = []

    def start(self, ctx: ServiceContext) -> None:
        ctx.publish("radio", 88.4, unit="MHz", extra={"power": True, "volume": 8, "mute": False, "rssi": 40})

    def command(self, payload: bytes) -> bytes:
        return b'{"ok": false, "code": "UNSUPPORTED"}'

    def band_limits(self) -> tuple[float, float, float]:
        return (87.5, 108.0, 0.1)

    def presets(self) -> list[dict[str, Any]]:
        return list(self._presets)

    def on_presets_changed(self, callback: Callable[[], None]) -> None:
        self._listeners.append(callback)

    def add_preset(self, name: str, mhz: float) -> None:
        self._presets.append({"slot": len(self._presets) + 1, "name": name, "mhz": mhz, "pi": None})
        for cb in self._listeners:
            cb()


def full_config(tmp_path: Path) -> dict[str, Any]:
    cpu = tmp_path / "cpu_temp"
    cpu.write_text("45000\n")
    return {
        "button": [{"name": "bell", "pin": 17}],
        "door": [{"name": "front", "pin": 27}],
        "motion": [{"name": "hall", "pin": 22}],
        "cpu_temperature": [{"name": "cpu", "sensor_file": str(cpu), "interval": "2s"}],
        "led": [{"name": "porch", "pin": 5}],
        "relay": [{"name": "pump", "pin": 6}],
        "pwm_led": [{"name": "lamp", "pin": 12}],
    }


@pytest.fixture
def late(broker: Mosquitto) -> Iterator[Subscriber]:
    sub = Subscriber(broker.port)
    yield sub
    sub.close()


def retained_config(broker: Mosquitto, sub: Subscriber, topic: str = DEVICE_TOPIC) -> dict[str, Any]:
    sub.connect()
    sub.subscribe("homeassistant/#")
    m = sub.wait_topic(topic, where=lambda m: m.retain)
    doc: dict[str, Any] = m.json()
    return doc


def configs(sub: Subscriber, topic: str = DEVICE_TOPIC) -> list[Msg]:
    return sub.on(topic)


def test_ha_discovery_late_subscriber_finds_retained_well_formed_config(
    daemon_factory: Callable[..., Daemon], subscriber: Subscriber, broker: Mosquitto, late: Subscriber,
    tmp_path: Path,
) -> None:
    subscriber.subscribe("homeassistant/#")
    daemon_factory(full_config(tmp_path), services=[StubRadio()])
    subscriber.wait_topic(DEVICE_TOPIC)  # published; now someone arrives late
    doc = retained_config(broker, late)
    assert doc["dev"]["identifiers"] == ["pi2mqtt_hatest"] and doc["dev"]["manufacturer"] == "pi2mqtt"
    assert doc["o"]["name"] == "pi2mqtt" and doc["o"]["sw"]
    # Availability is shared at device level: HA applies it to every component that has none.
    assert doc["availability"] == [{"topic": "pi2mqtt/hatest/status", "payload_available": "online",
                                    "payload_not_available": "offline"}]
    cmps = doc["cmps"]
    assert not any("availability" in c or "avty" in c for c in cmps.values())
    assert {"bell", "front", "hall", "cpu", "porch", "pump", "lamp", "radio_frequency", "radio_preset"} <= set(cmps)
    problems = [p for cid, c in cmps.items() for p in check_component(cid, c, "hatest")]
    assert problems == []
    assert len({c["unique_id"] for c in cmps.values()}) == len(cmps)
    assert "object_id" not in json.dumps(doc)
    assert cmps["cpu"]["expire_after"] == 6 and cmps["cpu"]["unit_of_measurement"] == "°C"
    assert cmps["radio_preset"]["options"] == ["ALPHA FM"]
    assert cmps["radio_frequency"]["min"] == 87.5


def test_ha_discovery_republished_after_ha_status_online(
    daemon_factory: Callable[..., Daemon], subscriber: Subscriber, tmp_path: Path,
) -> None:
    subscriber.subscribe("homeassistant/#")
    d = daemon_factory(full_config(tmp_path))
    subscriber.wait_topic(DEVICE_TOPIC)
    d.discovery.delay = lambda: 0.05
    before = len(configs(subscriber))
    subscriber.publish("homeassistant/status", "offline")
    subscriber.publish("homeassistant/status", "online")
    subscriber.wait_count(lambda m: m.topic == DEVICE_TOPIC, before + 1)
    assert all(0.5 <= ha_delay() <= 3.0 for _ in range(100))


def test_ha_discovery_republished_when_presets_change(
    daemon_factory: Callable[..., Daemon], subscriber: Subscriber, tmp_path: Path,
) -> None:
    subscriber.subscribe("homeassistant/#")
    radio = StubRadio()
    daemon_factory({}, services=[radio])
    subscriber.wait_topic(DEVICE_TOPIC)
    radio.add_preset("BETA", 99.1)
    m = subscriber.wait_topic(DEVICE_TOPIC, where=lambda m: "BETA" in m.text)
    assert m.json()["cmps"]["radio_preset"]["options"] == ["ALPHA FM", "BETA"]


def test_ha_discovery_removes_an_entity_dropped_from_the_config(
    daemon_factory: Callable[..., Daemon], subscriber: Subscriber, broker: Mosquitto, late: Subscriber,
    tmp_path: Path,
) -> None:
    subscriber.subscribe("homeassistant/#")
    doc = full_config(tmp_path)
    first = daemon_factory(dict(doc))
    subscriber.wait_topic(DEVICE_TOPIC)
    first.stop()
    assert json.loads((tmp_path / "state" / "ha.json").read_text())["components"]["pump"] == "switch"
    smaller = {k: v for k, v in doc.items() if k != "relay"}
    daemon_factory(smaller)
    subscriber.wait_count(lambda m: m.topic == DEVICE_TOPIC, 2)
    cmps = retained_config(broker, late)["cmps"]
    assert cmps["pump"] == {"p": "switch"}
    assert cmps["porch"]["p"] == "switch" and "unique_id" in cmps["porch"]
    assert "pump" not in json.loads((tmp_path / "state" / "ha.json").read_text())["components"]


def test_ha_discovery_per_entity_mode_and_removal(
    daemon_factory: Callable[..., Daemon], subscriber: Subscriber, tmp_path: Path,
) -> None:
    subscriber.subscribe("homeassistant/#")
    doc = {**full_config(tmp_path), "homeassistant": {"per_entity": True}}
    first = daemon_factory(dict(doc), services=[StubRadio()])
    pump_topic = "homeassistant/switch/hatest/pump/config"
    msg = subscriber.wait_topic(pump_topic)
    for topic in ("homeassistant/sensor/hatest/cpu/config", "homeassistant/light/hatest/lamp/config",
                  "homeassistant/select/hatest/radio_preset/config"):
        subscriber.wait_topic(topic)
    pump = msg.json()
    assert pump["device"]["identifiers"] == ["pi2mqtt_hatest"] and pump["o"]["name"] == "pi2mqtt"
    assert pump["availability"][0]["topic"] == "pi2mqtt/hatest/status"
    assert pump["unique_id"] == "pi2mqtt_hatest_pump" and pump["object_id"] == "hatest_pump"
    assert not subscriber.on(DEVICE_TOPIC)
    first.stop()
    daemon_factory({k: v for k, v in doc.items() if k != "relay"})
    cleared = subscriber.wait_topic(pump_topic, where=lambda m: m.payload == b"")
    assert cleared.payload == b""
