"""A broker that refuses a subscription: NATS answers SUBACK 0x80 when a subscribe is not
permitted, and also when its JetStream requests time out on a busy cluster (docs/fleet.md).

hwsim's control client must not sit deaf behind a retained `online`: it asks again and
says `online` only once the broker has granted the subscription. One NATS server here,
its MQTT user first denied `hwsim.>`, then allowed by a configuration reload (SIGHUP).
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
from tests.procs import poll

pytestmark = [pytest.mark.broker, pytest.mark.timeout(120)]

ROOT = "hwsim/testpi"


def nats_config(path: Path, client_port: int, mqtt_port: int, deny: list[str]) -> None:
    denied = ", ".join(f'"{s}"' for s in deny)
    path.write_text(
        f"listen: 127.0.0.1:{client_port}\nserver_name: refusals\n"
        f'jetstream {{ store_dir: "{path.parent / "js"}" }}\n'
        f"mqtt {{ listen: 127.0.0.1:{mqtt_port} }}\n"
        f'authorization {{ users = [ {{ user: "sim", password: "pw", '
        f"permissions: {{ subscribe: {{ deny: [{denied}] }} }} }} ] }}\n")


def test_a_refused_control_subscription_is_asked_again_and_online_waits_for_it(tmp_path: Path) -> None:
    binary = require_nats_server()
    conf, mqtt_port = tmp_path / "nats.conf", free_port()
    client_port = free_port()
    nats_config(conf, client_port, mqtt_port, deny=["hwsim.>", "hwsim"])
    server = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    watcher: Subscriber | None = None
    rig: Rig | None = None
    try:
        wait_port(mqtt_port, 20)
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
