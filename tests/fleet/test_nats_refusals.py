"""A broker that refuses a subscription: NATS answers SUBACK 0x80 when a subscribe is not
permitted, and also when its JetStream requests time out on a busy cluster (docs/fleet.md).

Neither the daemon's command subscription nor hwsim's control client may stay deaf for the
rest of the connection: each asks again every second; hwsim says `online` only once the
broker has granted its subscription. One NATS server here, its MQTT user first denied the
subjects, then allowed by a configuration reload (SIGHUP).
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest
from gpiozero import Button

from device.app.localbroker import free_port, terminate, wait_port
from tests.fleet.conftest import require_nats_server
from tests.hwsim import Rig
from tests.mqttwait import Subscriber
from tests.procs import DaemonProcess, poll

pytestmark = [pytest.mark.broker, pytest.mark.timeout(120)]

ROOT = "hwsim/testpi"


def nats_config(path: Path, client_port: int, mqtt_port: int, deny: list[str]) -> None:
    denied = ", ".join(f'"{s}"' for s in deny)
    path.write_text(
        f"listen: 127.0.0.1:{client_port}\nserver_name: refusals\n"
        f'jetstream {{ store_dir: "{path.parent / "js"}" }}\n'
        f"mqtt {{ listen: 127.0.0.1:{mqtt_port} }}\n"
        f'authorization {{ users = [ {{ user: "sim", password: "pw", '
        # A publish block too: nats-server 2.9 dereferences a missing one when a reload
        # re-checks the permissions of retained messages (SIGSEGV in generatePubPerms).
        f"permissions: {{ publish: {{ deny: [\"nothing.here\"] }}, subscribe: {{ deny: [{denied}] }} }} }} ] }}\n")


def start_nats(tmp_path: Path, deny: list[str]) -> tuple[subprocess.Popen[bytes], Path, int, int]:
    conf, client_port, mqtt_port = tmp_path / "nats.conf", free_port(), free_port()
    nats_config(conf, client_port, mqtt_port, deny)
    with open(tmp_path / "nats.log", "ab") as log:  # the server keeps its own descriptor
        server = subprocess.Popen([require_nats_server(), "-c", str(conf)], stdout=log, stderr=log)
    try:
        wait_port(mqtt_port, 20)
    except TimeoutError:
        terminate(server, 10)
        raise
    return server, conf, client_port, mqtt_port


def try_subscribe(sub: Subscriber, topic: str) -> bool:
    """Subscribe; False while the broker refuses (the reload not applied yet)."""
    try:
        return sub.subscribe(topic, qos=1, timeout=5)
    except AssertionError:
        return False


def test_the_daemons_refused_command_subscription_is_asked_again(tmp_path: Path) -> None:
    server, conf, client_port, mqtt_port = start_nats(tmp_path, deny=["pi2mqtt.>"])
    config = tmp_path / "d.toml"
    config.write_text(
        f'[device]\nid = "deaf"\nstate_dir = "{tmp_path / "state"}"\n\n'
        f'[mqtt]\nurl = "mqtt://127.0.0.1:{mqtt_port}"\nusername = "sim"\npassword = "pw"\n\n'
        '[homeassistant]\nenabled = false\n\n[[led]]\nname = "lamp"\npin = 5\n')
    d = DaemonProcess(config, tmp_path / "d.log")
    watcher = Subscriber(mqtt_port, username="sim", password="pw")
    try:
        watcher.connect()
        d.wait_log("asking again every second", 30)
        nats_config(conf, client_port, mqtt_port, deny=["nothing.here"])
        server.send_signal(signal.SIGHUP)  # nats-server reloads its configuration
        poll(lambda: try_subscribe(watcher, "pi2mqtt/deaf/lamp/set/reply"), 30, "the reload", every=0.5)
        # The daemon asks again each second: within seconds of the reload a command, sent
        # once a second, must be heard and answered.
        def answered() -> bool:
            watcher.publish("pi2mqtt/deaf/lamp/set", '{"value": "on", "id": 7}')
            return any(m.topic.endswith("/reply") for m in watcher.messages)
        poll(answered, 30, "a reply once the subscription was granted", every=1.0)
        assert d.alive()
    finally:
        watcher.close()
        d.stop()
        terminate(server, 10)


def test_a_refused_control_subscription_is_asked_again_and_online_waits_for_it(tmp_path: Path) -> None:
    server, conf, client_port, mqtt_port = start_nats(tmp_path, deny=["hwsim.>", "hwsim"])
    watcher: Subscriber | None = None
    rig: Rig | None = None
    try:
        rig = Rig(tmp_path, broker=f"mqtt://sim:pw@127.0.0.1:{mqtt_port}")
        assert rig.sim.mqtt is not None
        ctl = rig.sim.mqtt
        poll(lambda: ctl.subscribe_refusals >= 2, 30, "the refused subscription asked again")
        assert not ctl.connected.is_set()  # no `online` while deaf
        nats_config(conf, client_port, mqtt_port, deny=["nothing.here"])
        server.send_signal(signal.SIGHUP)  # nats-server reloads its configuration
        assert ctl.connected.wait(30), "not subscribed after the reload allowed it"
        rig.add(Button(17))
        watcher = Subscriber(mqtt_port, username="sim", password="pw").connect()
        watcher.subscribe(f"{ROOT}/#", qos=1)
        watcher.wait_topic(f"{ROOT}/status", where=lambda m: m.text == "online", timeout=30)
        watcher.publish(f"{ROOT}/doorbell/press", "")
        reply = watcher.wait_topic(f"{ROOT}/reply", where=lambda m: m.json()["path"] == "doorbell/press", timeout=30)
        assert reply.json()["ok"] is True
    finally:
        if watcher is not None:
            watcher.close()
        if rig is not None:
            rig.close()
        terminate(server, 10)
