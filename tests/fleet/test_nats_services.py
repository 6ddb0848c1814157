"""Commands, hwsim control, retained status and discovery across a NATS cluster (issue 12).

The daemon speaks MQTT 5 by default; NATS's MQTT listener takes 3.1.1 only, so
every test here also exercises the logged fallback, in the daemon and in hwsim's
control client.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fleet.conftest import fleet_config
from tests.mqttwait import Subscriber
from tests.nats import NatsCluster
from tests.procs import DaemonProcess

pytestmark = [pytest.mark.broker, pytest.mark.slow, pytest.mark.timeout(300)]  # a cluster on a busy machine

DEVICES = """
[[button]]
name = "bell"
pin = 17
[[led]]
name = "lamp"
pin = 5
"""


def test_fleet_commands_and_hwsim_control_over_nats_with_the_3_1_1_fallback(
    nats_cluster: NatsCluster, spawn_daemon: Callable[..., DaemonProcess], tmp_path: Path
) -> None:
    n1, n2, n3 = nats_cluster.nodes
    sub = Subscriber(n2.mqtt_port).connect()  # a client on another node than the daemon
    for topic in ("pi2mqtt/fleet2/#", "hwsim/fleet2/#"):
        sub.subscribe(topic)
    # --broker with two URLs (commas) overrides the file's; the daemon takes the first.
    d = spawn_daemon(fleet_config(tmp_path / "f2.toml", "fleet2", ["mqtt://127.0.0.1:9"], DEVICES),
                     "--broker", f"{n1.url},{n3.url}")
    try:
        sub.wait_topic("pi2mqtt/fleet2/status", where=lambda m: m.text == "online", timeout=45)
        sub.wait_topic("hwsim/fleet2/status", where=lambda m: m.text == "online", timeout=45)
        sub.wait_topic("pi2mqtt/fleet2/bell", timeout=45)
        # hwsim control over NATS: a press on the simulated button becomes a reading.
        sub.publish("hwsim/fleet2/bell/press", "")
        sub.wait_topic("pi2mqtt/fleet2/bell", where=lambda m: m.json()["value"] is True, timeout=45)
        reply = sub.wait_topic("hwsim/fleet2/reply", timeout=10)
        assert reply.json()["ok"] is True
        # A command through another node, its reply and the simulated pin.
        sub.publish("pi2mqtt/fleet2/lamp/set", '{"value": "on", "id": 7}')
        r = sub.wait_topic("pi2mqtt/fleet2/lamp/set/reply", timeout=45)
        assert r.json() == {"ok": True, "value": True, "id": 7}
        sub.wait_topic("hwsim/fleet2/lamp/state", where=lambda m: m.json()["value"] is True, timeout=10)
        diag = sub.wait_topic("pi2mqtt/fleet2/diagnostics", timeout=45).json()
        assert diag["mqtt"]["protocol"] == "3.1.1" and diag["mqtt"]["protocol_fallbacks"] == 1
        assert diag["mqtt"]["broker"] == n1.url
    finally:
        d.stop()
        sub.close()
    log = d.log()
    assert "refuses MQTT 5" in log and "falling back to MQTT 3.1.1" in log
    assert log.count("hwsim control: broker") == 1  # hwsim falls back once, then works
    assert "Traceback" not in log


def test_fleet_retained_status_and_discovery_reach_a_late_subscriber_on_another_node(
    nats_cluster: NatsCluster, spawn_daemon: Callable[..., DaemonProcess], tmp_path: Path
) -> None:
    n1, n2, n3 = nats_cluster.nodes
    watcher = Subscriber(n2.mqtt_port).connect()
    watcher.subscribe("homeassistant/device/fleet3/config")
    watcher.subscribe("pi2mqtt/fleet3/status")
    d = spawn_daemon(fleet_config(tmp_path / "f3.toml", "fleet3", [n1.url], DEVICES, ha=True))
    try:
        watcher.wait_topic("homeassistant/device/fleet3/config", timeout=45)
        # A subscriber that arrives later, on the third node, gets the retained copies.
        late = Subscriber(n3.mqtt_port).connect()
        try:
            late.subscribe("pi2mqtt/fleet3/status")
            late.subscribe("homeassistant/device/fleet3/config")
            status = late.wait_topic("pi2mqtt/fleet3/status", timeout=45)
            assert status.retain and status.text == "online"
            disc = late.wait_topic("homeassistant/device/fleet3/config", timeout=45)
            assert disc.retain
            doc = json.loads(disc.payload)
            assert len(doc["cmps"]) >= 2  # bell and lamp
        finally:
            late.close()
    finally:
        d.stop()
    # After a clean stop the status says offline on the other nodes too.
    watcher.wait_topic("pi2mqtt/fleet3/status", where=lambda m: m.text == "offline", timeout=45)
    watcher.close()
