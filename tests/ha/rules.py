"""What Home Assistant's MQTT discovery accepts, as a checker the tests share.

The unit table is HA's own rule (sensor/number `device_class` → allowed
`unit_of_measurement`), for the classes pi2mqtt could use; a class missing here
is an error, so a new one must be looked up before it is published.
"""

from __future__ import annotations

from typing import Any

UNITS: dict[str, set[str]] = {
    "temperature": {"°C", "°F", "K"},
    "humidity": {"%"},
    "atmospheric_pressure": {"cbar", "bar", "hPa", "mmHg", "inHg", "kPa", "mbar", "Pa", "psi"},
    "pressure": {"cbar", "bar", "hPa", "mmHg", "inHg", "kPa", "mbar", "Pa", "psi"},
    "distance": {"km", "m", "cm", "mm", "mi", "nmi", "yd", "in", "ft"},
    "voltage": {"V", "mV", "µV", "kV", "MV"},
    "illuminance": {"lx"},
    "signal_strength": {"dB", "dBm"},
    "frequency": {"Hz", "kHz", "MHz", "GHz"},
}
BINARY_CLASSES = {"door", "motion", "occupancy", "opening", "window", "presence"}
PLATFORMS = {"sensor", "binary_sensor", "switch", "light", "number", "select", "button", "event"}
EVENT_CLASSES = {"button", "doorbell", "motion"}
NEEDS_COMMAND = {"switch", "light", "number", "select", "button"}
NEEDS_STATE = {"sensor", "binary_sensor", "event"}


def check_component(cid: str, comp: dict[str, Any], device_id: str, *, per_entity: bool = False) -> list[str]:
    """Problems HA would have with one component ([] when none).

    Device mode (HA 2024.12+) must not send the deprecated `object_id`; per-entity mode
    (for HA before 2025.10, which knows no `default_entity_id`) must send both, agreeing.
    A per-entity document has no `p`: pass it with `p` added back.
    """
    bad: list[str] = []
    p = comp.get("p")
    if p not in PLATFORMS:
        bad.append(f"{cid}: platform {p!r}")
    if "obj_id" in comp:
        bad.append(f"{cid}: abbreviated obj_id")
    if not per_entity and "object_id" in comp:
        bad.append(f"{cid}: deprecated object_id in device mode")
    if per_entity and f"{p}.{comp.get('object_id')}" != comp.get("default_entity_id"):
        bad.append(f"{cid}: object_id {comp.get('object_id')!r} does not match default_entity_id")
    if p == "event":
        if not comp.get("event_types") or "press" not in comp["event_types"]:
            bad.append(f"{cid}: event without a press event type")
        if comp.get("device_class") not in (None, *EVENT_CLASSES):
            bad.append(f"{cid}: event device_class {comp.get('device_class')!r}")
    if comp.get("unique_id") != f"pi2mqtt_{device_id}_{cid}":
        bad.append(f"{cid}: unique_id {comp.get('unique_id')!r}")
    dei = comp.get("default_entity_id", "")
    if not (isinstance(dei, str) and dei.startswith(f"{p}.") and dei == dei.lower()):
        bad.append(f"{cid}: default_entity_id {dei!r}")
    dc, unit = comp.get("device_class"), comp.get("unit_of_measurement")
    if p in ("sensor", "number") and dc is not None:
        if dc not in UNITS:
            bad.append(f"{cid}: device_class {dc!r} not in the checked table")
        elif unit not in UNITS[dc]:
            bad.append(f"{cid}: unit {unit!r} does not fit device_class {dc!r}")
    if p == "binary_sensor" and dc is not None and dc not in BINARY_CLASSES:
        bad.append(f"{cid}: binary device_class {dc!r}")
    if unit == "dBµV" and dc is not None:
        bad.append(f"{cid}: dBµV takes no device_class")
    if p in NEEDS_COMMAND and "command_topic" not in comp:
        bad.append(f"{cid}: no command_topic")
    if p in NEEDS_STATE and "state_topic" not in comp:
        bad.append(f"{cid}: no state_topic")
    if p == "sensor" and comp.get("state_class") == "measurement" and dc is None and unit is None \
            and "rssi" not in cid:
        bad.append(f"{cid}: measurement without unit")
    if p == "select" and not comp.get("options"):
        bad.append(f"{cid}: select without options")
    return bad


def check_device(cmps: dict[str, dict[str, Any]], device_id: str, *, per_entity: bool = False,
                 radio_state: dict[str, Any] | None = None, presses: tuple[str, ...] = (),
                 radio: str = "radio") -> list[str]:
    """Every rule on a whole device's components ({component id: component}).

    - each component passes `check_component`;
    - each press input (button, doorbell) has an `event` entity `<name>_press` on its topic;
    - with a radio state: the frequency number's min/max/step equal its min_mhz/max_mhz/step,
      and the preset select's options are the preset names (checked by the caller's state).
    """
    bad: list[str] = []
    for cid, comp in cmps.items():
        bad += check_component(cid, comp, device_id, per_entity=per_entity)
    for name in presses:
        ev = cmps.get(f"{name}_press")
        if ev is None or ev.get("p") != "event":
            bad.append(f"{name}: no event entity {name}_press")
        elif ev.get("state_topic") != cmps.get(name, {}).get("state_topic"):
            bad.append(f"{name}_press: state_topic differs from the binary sensor's")
    if radio_state is not None:
        freq = cmps.get(f"{radio}_frequency", {})
        want = {"min": radio_state["min_mhz"], "max": radio_state["max_mhz"],
                "step": radio_state["step_khz"] / 1000}
        for key, value in want.items():
            if freq.get(key) is None or abs(float(freq[key]) - float(value)) > 1e-9:
                bad.append(f"{radio}_frequency: {key} {freq.get(key)!r}, the radio state says {value!r}")
    return bad
