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
PLATFORMS = {"sensor", "binary_sensor", "switch", "light", "number", "select", "button"}
NEEDS_COMMAND = {"switch", "light", "number", "select", "button"}
NEEDS_STATE = {"sensor", "binary_sensor"}


def check_component(cid: str, comp: dict[str, Any], device_id: str) -> list[str]:
    """Problems HA would have with one component ([] when none)."""
    bad: list[str] = []
    p = comp.get("p")
    if p not in PLATFORMS:
        bad.append(f"{cid}: platform {p!r}")
    if "object_id" in comp or "obj_id" in comp:
        bad.append(f"{cid}: deprecated object_id")
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
