"""hwsim control: the handler registry, and the world driven over a real Mosquitto."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from gpiozero import LED, Button

from hwsim.control import ControlRegistry, parse_number, parse_switch
from tests.hwsim import Rig
from tests.mosquitto import Mosquitto
from tests.mqttwait import Msg, Subscriber

ROOT = "hwsim/testpi"


def test_registry_dispatches_to_the_handler() -> None:
    reg = ControlRegistry()
    seen: list[str] = []
    reg.register("coproc/unplug", lambda p: seen.append(p))
    reg.register("thing/get", lambda p: {"x": 1})
    assert reg.dispatch("coproc/unplug", b"now") == {"ok": True, "path": "coproc/unplug"}
    assert seen == ["now"]
    assert reg.dispatch("thing/get") == {"ok": True, "path": "thing/get", "value": {"x": 1}}


def test_registry_answers_errors_and_never_raises() -> None:
    reg = ControlRegistry()
    reg.register("light/set", lambda p: parse_number(p, "lux"))

    def broken(payload: str) -> None:
        raise RuntimeError("boom")

    reg.register("light/broken", broken)
    assert reg.dispatch("nosuch/press")["error"] == "unknown device 'nosuch'"
    assert reg.dispatch("light/explode")["error"] == "unknown action 'explode'"
    assert "must be a number" in str(reg.dispatch("light/set", "bright")["error"])
    assert "boom" in str(reg.dispatch("light/broken")["error"])
    assert "UTF-8" in str(reg.dispatch("light/set", b"\xff\xfe")["error"])
    assert reg.dispatch("light/set", '{"value": 3}')["ok"] is True
    with pytest.raises(ValueError):
        reg.register("light/set", lambda p: None)
    with pytest.raises(ValueError):
        reg.register("light/#", lambda p: None)


def test_payload_parsers() -> None:
    assert parse_number(" 1.5 ", "x") == 1.5
    assert parse_switch("") is True and parse_switch("OFF") is False
    for bad in ("nan", "true", "[1]", ""):
        with pytest.raises(ValueError):
            parse_number(bad, "x")
    with pytest.raises(ValueError):
        parse_switch("maybe")


@pytest.fixture
def rig(tmp_path: Path, broker: Mosquitto) -> Iterator[Rig]:
    r = Rig(tmp_path, broker=f"mqtt://127.0.0.1:{broker.port}")
    yield r
    r.close()


@pytest.fixture
def watcher(rig: Rig, subscriber: Subscriber) -> Subscriber:
    """A subscriber on hwsim/testpi/# once the simulation is online."""
    subscriber.subscribe(f"{ROOT}/#")
    subscriber.wait_topic(f"{ROOT}/status", where=lambda m: m.text == "online")
    assert rig.sim.mqtt is not None and rig.sim.mqtt.connected.wait(5)
    return subscriber


def reply_for(sub: Subscriber, path: str) -> Msg:
    return sub.wait_topic(f"{ROOT}/reply", where=lambda m: m.json()["path"] == path)


def test_press_over_mqtt_reaches_the_button(rig: Rig, watcher: Subscriber) -> None:
    button = rig.add(Button(17))
    pressed = threading.Event()
    button.when_pressed = pressed.set
    watcher.publish(f"{ROOT}/doorbell/press", "")
    assert pressed.wait(5)
    assert reply_for(watcher, "doorbell/press").json() == {"ok": True, "path": "doorbell/press"}
    watcher.publish(f"{ROOT}/doorbell/release", "")
    assert button.wait_for_release(5)


def test_set_and_trigger_over_mqtt_change_the_world(rig: Rig, watcher: Subscriber) -> None:
    watcher.publish(f"{ROOT}/tank_level/set", "0.42")
    watcher.publish(f"{ROOT}/soil_moisture/set", "1.2")
    watcher.publish(f"{ROOT}/light/set", "250")
    watcher.publish(f"{ROOT}/cpu_temp/set", "61.5")
    watcher.publish(f"{ROOT}/hall_motion/trigger", "0.5")
    watcher.publish(f"{ROOT}/front_door/open", "")
    for path in ("tank_level/set", "soil_moisture/set", "light/set", "cpu_temp/set",
                 "hall_motion/trigger", "front_door/open"):
        assert reply_for(watcher, path).json()["ok"] is True
    assert rig.sim.device("tank_level").distance == 0.42
    assert rig.sim.device("soil_moisture").voltage == 1.2
    assert rig.sim.device("light").lux == 250
    assert (rig.sim.dir / "cpu_temp").read_text().strip() == "61500"
    assert rig.sim.device("front_door").is_open
    watcher.publish(f"{ROOT}/light/auto", "on")
    assert reply_for(watcher, "light/auto").json()["ok"] is True
    assert rig.sim.device("light").light.override is None
    watcher.publish(f"{ROOT}/get", "")
    snap = reply_for(watcher, "get").json()["value"]
    assert snap["devices"]["tank_level"]["metres"] == 0.42


def test_bad_control_messages_get_error_replies(rig: Rig, watcher: Subscriber) -> None:
    watcher.publish(f"{ROOT}/nosuch/press", "")
    watcher.publish(f"{ROOT}/doorbell/explode", "")
    watcher.publish(f"{ROOT}/light/set", "very bright")
    watcher.publish(f"{ROOT}/soil_moisture/set", "12")
    errors = {
        "nosuch/press": "unknown device",
        "doorbell/explode": "unknown action",
        "light/set": "must be a number",
        "soil_moisture/set": "between 0 and 3.3",
    }
    for path, text in errors.items():
        reply = reply_for(watcher, path).json()
        assert reply["ok"] is False and text in reply["error"], reply
    # still alive after all that
    watcher.publish(f"{ROOT}/doorbell/click", "0.05")
    assert reply_for(watcher, "doorbell/click").json()["ok"] is True


def test_output_states_are_published_retained(rig: Rig, watcher: Subscriber, broker: Mosquitto) -> None:
    led = rig.add(LED(5))
    led.on()
    msg = watcher.wait_topic(f"{ROOT}/porch_light/state", where=lambda m: m.json()["value"] is True)
    assert msg.json() == {"value": True, "level": 1.0, "pin": 5}
    late = Subscriber(broker.port).connect()
    try:
        late.subscribe(f"{ROOT}/porch_light/state")
        retained = late.wait_topic(f"{ROOT}/porch_light/state")
        assert retained.retain and retained.json()["value"] is True
    finally:
        late.close()


def test_other_parts_register_control_paths(rig: Rig, watcher: Subscriber) -> None:
    closed = threading.Event()
    unplugged = threading.Event()

    class Part:
        def close(self) -> None:
            closed.set()

    rig.sim.add_part(Part())
    rig.sim.control.register("coproc/unplug", lambda p: unplugged.set())
    watcher.publish(f"{ROOT}/coproc/unplug", "")
    assert unplugged.wait(5)
    rig.factory.close()
    assert closed.is_set()
    watcher.wait_topic(f"{ROOT}/status", where=lambda m: m.text == "offline")


def test_command_line_client_sends_and_reports(
    rig: Rig, watcher: Subscriber, broker: Mosquitto, capsys: pytest.CaptureFixture[str]
) -> None:
    from hwsim.__main__ import main

    url = f"mqtt://127.0.0.1:{broker.port}"
    assert main(["--broker", url, "--id", "testpi", "tank_level/set", "0.5"]) == 0
    assert '"ok": true' in capsys.readouterr().out
    assert rig.sim.device("tank_level").distance == 0.5
    assert main(["--broker", url, "--id", "testpi", "tank_level/set", "far"]) == 1
    assert main(["--broker", url, "--id", "nobody", "x/y", "--timeout", "0.3"]) == 2


def test_control_comes_back_after_a_broker_restart(rig: Rig, broker: Mosquitto) -> None:
    assert rig.sim.mqtt is not None and rig.sim.mqtt.connected.wait(5)
    broker.restart()
    sub = Subscriber(broker.port).connect()
    try:
        sub.subscribe(f"{ROOT}/#")
        sub.wait_topic(f"{ROOT}/status", timeout=15, where=lambda m: m.text == "online")
        assert rig.sim.mqtt.connected.wait(5)
        sub.publish(f"{ROOT}/doorbell/press", "")
        assert reply_for(sub, "doorbell/press").json()["ok"] is True
    finally:
        sub.close()
