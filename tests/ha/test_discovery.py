"""Discovery payloads as pure functions: whole documents, HA's unit rules, removals."""

from __future__ import annotations

from device.components.base import EntityInfo
from device.ha import discovery as d
from device.ha import expire_after
from device.ha.discovery import DeviceDescription, EntitySpec, Published, RadioSpec
from tests.ha.rules import check_component

AVTY = [{"topic": "pi2mqtt/lab/status", "payload_available": "online", "payload_not_available": "offline"}]
DEV = {"identifiers": ["pi2mqtt_lab"], "name": "Lab", "manufacturer": "pi2mqtt",
       "model": "pi2mqtt daemon", "sw_version": "0.1.0"}
ORIGIN = {"name": "pi2mqtt", "sw": "0.1.0"}


def desc(*specs: EntitySpec, radio: RadioSpec | None = None) -> DeviceDescription:
    return DeviceDescription("lab", "Lab", "0.1.0", "pi2mqtt/lab", entities=specs, radio=radio)


CPU = EntitySpec(EntityInfo("cpu", "cpu_temperature", "sensor", "°C", "temperature", friendly_name="CPU"), 30)
DOOR = EntitySpec(EntityInfo("front", "door", "binary_sensor", None, "door"))
LAMP = EntitySpec(EntityInfo("lamp", "pwm_led", "light", controllable=True))
RADIO = RadioSpec("radio", 87.5, 108.0, 0.1, ("ALPHA FM", "BETA"))


def test_discovery_device_config_whole_document() -> None:
    doc = d.device_config(desc(CPU, DOOR))
    assert doc == {
        "dev": DEV,
        "o": ORIGIN,
        "availability": AVTY,
        "qos": 1,
        "cmps": {
            "cpu": {"p": "sensor", "name": "CPU", "unique_id": "pi2mqtt_lab_cpu",
                    "default_entity_id": "sensor.lab_cpu", "state_topic": "pi2mqtt/lab/cpu",
                    "value_template": "{{ value_json.value }}", "unit_of_measurement": "°C",
                    "device_class": "temperature", "state_class": "measurement", "expire_after": 30},
            "front": {"p": "binary_sensor", "name": "Front", "unique_id": "pi2mqtt_lab_front",
                      "default_entity_id": "binary_sensor.lab_front", "state_topic": "pi2mqtt/lab/front",
                      "value_template": d.ON_OFF, "payload_on": "ON", "payload_off": "OFF",
                      "device_class": "door"},
        },
    }
    assert d.device_topic("homeassistant", "lab") == "homeassistant/device/lab/config"


def test_discovery_switch_and_light_commands() -> None:
    relay = EntitySpec(EntityInfo("pump", "relay", "switch", controllable=True))
    cmps = d.components(desc(relay, LAMP))
    assert cmps["pump"] == {
        "p": "switch", "name": "Pump", "unique_id": "pi2mqtt_lab_pump", "default_entity_id": "switch.lab_pump",
        "state_topic": "pi2mqtt/lab/pump", "command_topic": "pi2mqtt/lab/pump/set",
        "payload_on": "on", "payload_off": "off", "state_on": "ON", "state_off": "OFF", "value_template": d.ON_OFF,
    }
    lamp = cmps["lamp"]
    assert lamp["schema"] == "template" and lamp["command_topic"] == "pi2mqtt/lab/lamp/set"
    assert lamp["state_topic"] == "pi2mqtt/lab/lamp"
    assert "brightness / 255" in lamp["command_on_template"] and "* 255" in lamp["brightness_template"]


def test_discovery_radio_components() -> None:
    cmps = d.components(desc(radio=RADIO))
    assert sorted(cmps) == sorted(f"radio_{s}" for s in (
        "frequency", "volume", "preset", "seek_up", "seek_down", "scan", "power", "mute",
        "rssi", "ps", "radiotext", "pty"))
    f = cmps["radio_frequency"]
    assert (f["p"], f["min"], f["max"], f["step"], f["unit_of_measurement"], f["device_class"]) == \
        ("number", 87.5, 108.0, 0.1, "MHz", "frequency")
    assert f["command_topic"] == "pi2mqtt/lab/radio/set"
    assert f["command_template"] == '{"cmd": "tune", "mhz": {{ value }}}'
    assert (cmps["radio_volume"]["min"], cmps["radio_volume"]["max"]) == (0, 15)
    assert cmps["radio_preset"]["options"] == ["ALPHA FM", "BETA"]
    assert cmps["radio_seek_up"]["payload_press"] == '{"cmd": "seek", "dir": "up"}'
    assert cmps["radio_scan"]["payload_press"] == '{"cmd": "scan"}'
    assert cmps["radio_mute"]["payload_on"] == '{"cmd": "mute", "on": true}'
    rssi = cmps["radio_rssi"]
    assert rssi["unit_of_measurement"] == "dBµV" and "device_class" not in rssi
    assert cmps["radio_ps"]["state_topic"] == "pi2mqtt/lab/radio_rds"
    assert cmps["radio_pty"]["value_template"] == "{{ value_json.pty_name }}"
    assert "radio_preset" not in d.components(desc(radio=RadioSpec("radio", 87.5, 108.0, 0.1)))


def test_discovery_every_component_fits_ha_rules() -> None:
    infos = [
        EntityInfo("t", "bme280", "sensor", "°C", "temperature"),
        EntityInfo("h", "bme280", "sensor", "%", "humidity"),
        EntityInfo("p", "bme280", "sensor", "hPa", "atmospheric_pressure"),
        EntityInfo("dist", "distance", "sensor", "m", "distance"),
        EntityInfo("volts", "mcp3008", "sensor", "V", "voltage"),
        EntityInfo("daylight", "light", "sensor", "%", None),
        EntityInfo("bell", "button", "binary_sensor"),
        EntityInfo("hall", "motion", "binary_sensor", None, "motion"),
    ]
    cmps = d.components(desc(*(EntitySpec(i) for i in infos), CPU, DOOR, LAMP, radio=RADIO))
    problems = [p for cid, comp in cmps.items() for p in check_component(cid, comp, "lab")]
    assert problems == []
    ids = [c["unique_id"] for c in cmps.values()]
    assert len(ids) == len(set(ids))
    assert cmps["bell_press"]["p"] == "event" and cmps["bell_press"]["state_topic"] == cmps["bell"]["state_topic"]
    assert "hall_press" not in cmps  # motion is not a press


def test_discovery_press_event_template_names_the_event() -> None:
    # HA renders value_template to JSON with an event_type from event_types.
    ev = d.press_component(desc(), EntitySpec(EntityInfo("bell", "button", "binary_sensor")))
    assert ev["event_types"] == ["press", "release"]
    assert ev["value_template"] == '{"event_type": "{{ \'press\' if value_json.value else \'release\' }}"}'


def test_discovery_rules_catch_what_ha_refuses() -> None:
    bad = {"p": "sensor", "unique_id": "pi2mqtt_lab_x", "default_entity_id": "sensor.lab_x",
           "state_topic": "t", "device_class": "signal_strength", "unit_of_measurement": "dBµV",
           "object_id": "x"}
    problems = check_component("x", bad, "lab")
    assert any("object_id" in p for p in problems)
    assert any("does not fit" in p for p in problems)


def test_discovery_per_entity_documents_carry_device_and_origin() -> None:
    docs = d.entity_configs(desc(CPU, radio=RADIO))
    assert "homeassistant/sensor/lab/cpu/config" in docs
    assert "homeassistant/number/lab/radio_frequency/config" in docs
    for doc in docs.values():
        assert doc["device"] == DEV and doc["o"] == ORIGIN and doc["availability"] == AVTY
        assert "p" not in doc and doc["unique_id"].startswith("pi2mqtt_lab_")
        # HA before 2025.10 reads object_id; later versions default_entity_id: both, agreeing.
        assert doc["default_entity_id"].endswith("." + doc["object_id"])
    assert docs["homeassistant/sensor/lab/cpu/config"]["object_id"] == "lab_cpu"


def test_discovery_removals_same_mode() -> None:
    cur = Published(False, "homeassistant", {"cpu": "sensor"})
    prev = Published(False, "homeassistant", {"cpu": "sensor", "front": "binary_sensor"})
    rm = d.removals(prev, cur, "lab")
    assert rm.components == {"front": "binary_sensor"} and rm.clear_topics == ()
    assert d.device_config(desc(CPU), rm.components)["cmps"]["front"] == {"p": "binary_sensor"}
    per = d.removals(Published(True, "ha", prev.components), Published(True, "ha", cur.components), "lab")
    assert per.components == {} and per.clear_topics == ("ha/binary_sensor/lab/front/config",)
    assert d.removals(None, cur, "lab") == d.Removals()


def test_discovery_removals_when_mode_or_prefix_changes() -> None:
    comps = {"cpu": "sensor"}
    assert d.removals(Published(False, "ha", comps), Published(True, "ha", comps), "lab").clear_topics == \
        ("ha/device/lab/config",)
    assert d.removals(Published(True, "old", comps), Published(False, "ha", comps), "lab").clear_topics == \
        ("old/sensor/lab/cpu/config",)


def test_discovery_published_record_round_trips_and_rejects_garbage() -> None:
    p = Published(True, "homeassistant", {"a": "sensor"})
    assert Published.from_json(p.to_json()) == p
    for text in ("", "[]", "{", '{"per_entity": 1, "prefix": "x", "components": {}}',
                 '{"per_entity": true, "prefix": "x", "components": {"a": 1}}'):
        assert Published.from_json(text) is None


def test_discovery_expire_after_follows_polling() -> None:
    from device.config.model import CpuTemperatureConfig, LedConfig

    assert expire_after(CpuTemperatureConfig(name="c", interval=10.0)) == 30
    assert expire_after(CpuTemperatureConfig(name="c", interval=0.5)) == 2
    assert expire_after(CpuTemperatureConfig(name="c", interval=1.0, deadband=0.5, heartbeat=30.0)) == 90
    assert expire_after(CpuTemperatureConfig(name="c", interval=1.0, deadband=0.5)) is None
    assert expire_after(LedConfig(name="l", pin=5)) is None


def test_discovery_ids_are_made_safe() -> None:
    assert d.safe_id("a.b c/d") == "a_b_c_d"
    comp = d.components(desc(EntitySpec(EntityInfo("x-1", "led", "switch"))))["x-1"]
    assert comp["default_entity_id"] == "switch.lab_x_1" and comp["unique_id"] == "pi2mqtt_lab_x-1"
