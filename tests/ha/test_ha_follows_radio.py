"""Home Assistant discovery follows the radio: every rule of tests/ha/rules.py on the retained
documents after a band change, a spacing change and a new preset.

The daemon is `pi2mqtt run --sim` (the radio on the hwsim co-processor) against the test's
Mosquitto; a late subscriber reads what the broker retained, as HA does when it starts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e_radio.radiohost import BASE, DEVICE, RadioHost
from tests.ha.rules import check_device
from tests.mosquitto import Mosquitto
from tests.mqttwait import Subscriber

pytestmark = [pytest.mark.broker, pytest.mark.slow]

RADIO = {"chip": "rda5807m", "region": "europe", "frequency": 88.4, "volume": 8}
ENTITIES = '\n[[button]]\nname = "doorbell"\npin = 17\n\n[[led]]\nname = "porch_light"\npin = 5\n'


def start(broker: Mosquitto, tmp_path: Path, per_entity: bool) -> RadioHost:
    host = RadioHost(broker.port, tmp_path, RADIO)
    text = host.config.read_text()
    host.config.write_text(text.replace("[radio]", f"[homeassistant]\nper_entity = {str(per_entity).lower()}\n\n"
                                                   f"{ENTITIES}\n[radio]"))
    host.sub.subscribe("homeassistant/#")
    host.start()
    return host


def retained(broker: Mosquitto, per_entity: bool, presets: bool = False) -> dict[str, dict[str, Any]]:
    """The components HA would read now, from a fresh subscriber's retained messages."""
    sub = Subscriber(broker.port).connect()
    try:
        if not per_entity:
            sub.subscribe(f"homeassistant/device/{DEVICE}/config")
            cmps: dict[str, dict[str, Any]] = sub.wait_topic(f"homeassistant/device/{DEVICE}/config",
                                                             where=lambda m: m.retain).json()["cmps"]
            return cmps
        sub.subscribe("homeassistant/+/radiotest/+/config")
        sub.wait_topic(f"homeassistant/number/{DEVICE}/radio_frequency/config", where=lambda m: m.retain)
        sub.wait_topic(f"homeassistant/event/{DEVICE}/doorbell_press/config", where=lambda m: m.retain)
        sub.wait_topic(f"homeassistant/sensor/{DEVICE}/radio_pty/config", where=lambda m: m.retain)
        if presets:
            sub.wait_topic(f"homeassistant/select/{DEVICE}/radio_preset/config", where=lambda m: m.retain)
        out = {}
        for m in sub.messages:
            if m.retain and m.payload:
                platform, cid = m.topic.split("/")[1], m.topic.split("/")[3]
                out[cid] = {"p": platform, **m.json()}
        return out
    finally:
        sub.close()


def wait_discovery(host: RadioHost, per_entity: bool, pred: Any, after: int) -> None:
    """Wait until a discovery message published after `after` satisfies pred(frequency component)."""
    topic = (f"homeassistant/number/{DEVICE}/radio_frequency/config" if per_entity
             else f"homeassistant/device/{DEVICE}/config")

    def check() -> bool:
        for m in host.sub.messages[after:]:
            if m.topic == topic and m.payload:
                doc = m.json()
                comp = doc if per_entity else doc["cmps"].get("radio_frequency", {})
                if pred(comp):
                    return True
        return False

    host.sub.wait(check, 10.0, "a discovery update")


def check_all(broker: Mosquitto, host: RadioHost, per_entity: bool, presets: tuple[str, ...] = ()) -> None:
    state = host.states()[-1]
    cmps = retained(broker, per_entity, bool(presets))
    problems = check_device(cmps, DEVICE, per_entity=per_entity, radio_state=state, presses=("doorbell",))
    assert problems == []
    if presets:
        assert cmps["radio_preset"]["options"] == list(presets)


@pytest.mark.parametrize("per_entity", [False, True], ids=["device", "per_entity"])
def test_ha_rules_hold_after_band_spacing_and_preset_changes(
    broker: Mosquitto, tmp_path: Path, per_entity: bool,
) -> None:
    host = start(broker, tmp_path, per_entity)
    try:
        wait_discovery(host, per_entity, lambda c: c.get("max") == 108.0, 0)
        check_all(broker, host, per_entity)

        mark = host.mark()
        assert host.cmd({"cmd": "band", "region": "japan"})["ok"]
        state = host.wait_state(lambda s: s.get("band") == "japan", after=mark)
        wait_discovery(host, per_entity, lambda c: c.get("max") == state["max_mhz"], mark)
        assert state["min_mhz"] == 76.0 and state["max_mhz"] < 108.0  # Japan: not Europe's range
        check_all(broker, host, per_entity)

        mark = host.mark()
        assert host.cmd({"cmd": "spacing", "khz": 50})["ok"]
        state = host.wait_state(lambda s: s.get("step_khz") == 50, after=mark)
        wait_discovery(host, per_entity, lambda c: c.get("step") == 0.05, mark)
        check_all(broker, host, per_entity)

        mark = host.mark()
        assert host.cmd({"cmd": "preset_set", "slot": 1, "name": "HOME"})["ok"]
        wait_discovery(host, per_entity, lambda c: True, mark)
        check_all(broker, host, per_entity, presets=("HOME",))
    finally:
        host.close()


def test_ha_no_republish_when_nothing_described_changes(broker: Mosquitto, tmp_path: Path) -> None:
    """A retune changes no discovery field: no new config goes out (HA reloads on each one)."""
    host = start(broker, tmp_path, False)
    try:
        wait_discovery(host, False, lambda c: c.get("max") == 108.0, 0)
        topic = f"homeassistant/device/{DEVICE}/config"
        before = len(host.sub.on(topic))
        mark = host.mark()
        assert host.cmd({"cmd": "tune", "mhz": 99.5})["ok"]
        host.wait_state(lambda s: s.get("value") == 99.5, after=mark)
        # Something published after the tune proves the broker delivered everything before it.
        assert host.cmd({"cmd": "volume", "value": 9})["ok"]
        assert len(host.sub.on(topic)) == before
        assert json.loads(host.sub.on(topic)[-1].payload)["cmps"]["radio_frequency"]["max"] == 108.0
        assert host.sub.on(f"{BASE}/radio")
    finally:
        host.close()
