"""Home Assistant MQTT discovery payloads: pure functions from a device description to JSON docs.

Theory of operation
-------------------
The adapter (`device.ha.attach_discovery`) describes the running device once —
its entities (`EntityInfo` plus the expiry their polling implies) and, when
there is one, the radio (band limits, preset names) — as a frozen
`DeviceDescription`. Everything else is a function of that description:

- `components(desc)` → `{component_id: component}`: one HA entity per pi2mqtt
  entity, an `event` entity `<name>_press` more for each press input (button,
  doorbell), and twelve for the radio (frequency and volume numbers, a preset
  select, seek/scan buttons, power/mute switches, RSSI/PS/radiotext/PTY sensors).
- `device_config(desc, removed)` → the one retained document of device-based
  discovery (`<prefix>/device/<id>/config`): `dev`, `o`, shared availability,
  `cmps`; components listed in `removed` go out as `{"p": platform}`, which
  is how HA is told to drop them.
- `entity_configs(desc)` → `{topic: document}` for per-entity discovery
  (`<prefix>/<platform>/<id>/<component>/config`), each carrying `dev`, `o`,
  its own availability and `object_id` (HA before 2025.10 knows no
  `default_entity_id`).
- `removals(previous, current)` compares what was published last time (kept in
  the state directory as a `Published` record) with what is published now, and
  says which components to drop and which config topics to clear.

State comes from the retained JSON readings (`{"value": …, "ts": …, "seq": …}`)
through `value_template`s, so nothing here publishes state. No I/O, no clock.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from device.components.base import EntityInfo
from device.core.values import Json, JsonDoc

MANUFACTURER = "pi2mqtt"
STATUS_ONLINE = "online"
STATUS_OFFLINE = "offline"

# A discovery document or component: a JSON object.
Doc = JsonDoc

VALUE = "{{ value_json.value }}"
# A press input's reading as an HA event: true → press, false → release.
PRESS_EVENT = '{"event_type": "{{ \'press\' if value_json.value else \'release\' }}"}'
PRESS_KINDS = frozenset({"button"})
PRESS_SUFFIX = "_press"

# A JSON boolean as ON/OFF; `None` (a failed reading, value null) makes HA show "unknown".
ON_OFF = "{% if value_json.value is none %}None{% elif value_json.value %}ON{% else %}OFF{% endif %}"

_ID_RE = re.compile(r"[^a-zA-Z0-9_-]")


@dataclass(frozen=True, slots=True)
class EntitySpec:
    """One pi2mqtt entity as discovery needs it: what it is and when HA should call it stale."""

    info: EntityInfo
    expire_after: int | None = None


@dataclass(frozen=True, slots=True)
class RadioSpec:
    """The radio service: its name (topic segment), band limits and preset names."""

    name: str
    min_mhz: float
    max_mhz: float
    step_mhz: float
    presets: tuple[str, ...] = ()
    volume_max: int = 15


@dataclass(frozen=True, slots=True)
class DeviceDescription:
    """Everything a discovery payload depends on."""

    device_id: str
    name: str
    sw_version: str
    topic_base: str  # <mqtt prefix>/<device id>
    discovery_prefix: str = "homeassistant"
    entities: tuple[EntitySpec, ...] = ()
    radio: RadioSpec | None = None
    model: str = "pi2mqtt daemon"
    qos: int = 1

    @property
    def status_topic(self) -> str:
        return f"{self.topic_base}/status"


@dataclass(frozen=True, slots=True)
class Published:
    """What was last announced: mode, discovery prefix and {component id: platform}."""

    per_entity: bool
    prefix: str
    components: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({"per_entity": self.per_entity, "prefix": self.prefix,
                           "components": self.components}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Published | None:
        """Parse a stored record; None when it is missing pieces or not JSON (start afresh)."""
        try:
            doc = json.loads(text)
        except ValueError:
            return None
        if not isinstance(doc, dict):
            return None
        comps = doc.get("components")
        if (not isinstance(doc.get("per_entity"), bool) or not isinstance(doc.get("prefix"), str)
                or not isinstance(comps, dict)
                or not all(isinstance(k, str) and isinstance(v, str) for k, v in comps.items())):
            return None
        return cls(doc["per_entity"], doc["prefix"], dict(comps))


# -- identity --------------------------------------------------------------------------


def safe_id(text: str) -> str:
    """`text` with anything outside [a-zA-Z0-9_-] replaced by `_` (HA's rule for ids)."""
    return _ID_RE.sub("_", text)


def device_block(desc: DeviceDescription) -> Doc:
    return {
        "identifiers": [f"pi2mqtt_{safe_id(desc.device_id)}"],
        "name": desc.name,
        "manufacturer": MANUFACTURER,
        "model": desc.model,
        "sw_version": desc.sw_version,
    }


def origin_block(desc: DeviceDescription) -> Doc:
    # No "url": the project publishes no home page yet, and HA makes it optional.
    return {"name": "pi2mqtt", "sw": desc.sw_version}


def availability(desc: DeviceDescription) -> list[dict[str, str]]:
    return [{"topic": desc.status_topic, "payload_available": STATUS_ONLINE,
             "payload_not_available": STATUS_OFFLINE}]


def _identity(desc: DeviceDescription, platform: str, comp_id: str, name: str) -> Doc:
    slug = safe_id(f"{desc.device_id}_{comp_id}").lower().replace("-", "_")
    return {
        "p": platform,
        "name": name,
        "unique_id": f"pi2mqtt_{safe_id(desc.device_id)}_{safe_id(comp_id)}",
        "default_entity_id": f"{platform}.{slug}",
    }


def _title(name: str) -> str:
    return name.replace("_", " ").replace("-", " ").capitalize()


# -- components ----------------------------------------------------------------------


def entity_component(desc: DeviceDescription, spec: EntitySpec) -> Doc:
    """The HA component for one pi2mqtt entity (sensor, binary_sensor, switch or light)."""
    info = spec.info
    topic = f"{desc.topic_base}/{info.name}"
    comp = _identity(desc, info.platform, info.name, info.friendly_name or _title(info.name))
    comp["state_topic"] = topic
    if info.platform == "binary_sensor":
        comp.update(value_template=ON_OFF, payload_on="ON", payload_off="OFF")
        if info.device_class:
            comp["device_class"] = info.device_class
    elif info.platform == "switch":
        comp.update(command_topic=f"{topic}/set", payload_on="on", payload_off="off",
                    state_on="ON", state_off="OFF", value_template=ON_OFF)
        if info.device_class:
            comp["device_class"] = info.device_class
    elif info.platform == "light":
        # Template schema: brightness 0..1 on the wire, 0..255 in HA.
        comp.update(
            schema="template",
            command_topic=f"{topic}/set",
            command_on_template=("{%- if brightness is defined -%}{{ '%.3f' | format(brightness / 255) }}"
                                 "{%- else -%}on{%- endif -%}"),
            command_off_template="off",
            state_template=("{%- if value_json.value is none -%}None{%- elif value_json.value > 0 -%}on"
                            "{%- else -%}off{%- endif -%}"),
            brightness_template="{{ ((value_json.value or 0) * 255) | round(0) | int }}",
        )
    else:  # sensor
        comp["value_template"] = VALUE
        if info.unit:
            comp["unit_of_measurement"] = info.unit
        if info.device_class:
            comp["device_class"] = info.device_class
        comp["state_class"] = "measurement"
    if spec.expire_after is not None and info.platform in ("sensor", "binary_sensor"):
        comp["expire_after"] = spec.expire_after
    return comp


def press_component(desc: DeviceDescription, spec: EntitySpec) -> Doc:
    """The HA `event` entity of a press input: fires `press` and `release` for automations."""
    info = spec.info
    cid = f"{info.name}{PRESS_SUFFIX}"
    label = f"{info.friendly_name or _title(info.name)} press"
    comp = _identity(desc, "event", cid, label)
    comp.update(state_topic=f"{desc.topic_base}/{info.name}", event_types=["press", "release"],
                value_template=PRESS_EVENT, device_class="button")
    return comp


def radio_components(desc: DeviceDescription, radio: RadioSpec) -> dict[str, Doc]:
    """The radio as HA sees it: numbers, a select, buttons, switches and sensors."""
    n = radio.name
    state = f"{desc.topic_base}/{n}"
    rds = f"{desc.topic_base}/{n}_rds"
    cmd = f"{desc.topic_base}/{n}/set"
    title = _title(n)
    out: dict[str, Doc] = {}

    def add(suffix: str, platform: str, label: str, **fields: Json) -> None:
        cid = f"{n}_{suffix}"
        out[cid] = {**_identity(desc, platform, cid, f"{title} {label}"), **fields}

    add("frequency", "number", "frequency", state_topic=state, value_template=VALUE, command_topic=cmd,
        command_template='{"cmd": "tune", "mhz": {{ value }}}', min=radio.min_mhz, max=radio.max_mhz,
        step=radio.step_mhz, mode="box", unit_of_measurement="MHz", device_class="frequency")
    add("volume", "number", "volume", state_topic=state, value_template="{{ value_json.volume }}",
        command_topic=cmd, command_template='{"cmd": "volume", "value": {{ value | int }}}',
        min=0, max=radio.volume_max, step=1, mode="slider")
    if radio.presets:
        add("preset", "select", "preset", state_topic=state, value_template="{{ value_json.preset }}",
            command_topic=cmd, command_template='{"cmd": "preset_recall", "name": {{ value | tojson }}}',
            options=list(radio.presets))
    for suffix, label, press in (
        ("seek_up", "seek up", {"cmd": "seek", "dir": "up"}),
        ("seek_down", "seek down", {"cmd": "seek", "dir": "down"}),
        ("scan", "scan", {"cmd": "scan"}),
    ):
        add(suffix, "button", label, command_topic=cmd, payload_press=json.dumps(press))
    for suffix, label, key in (("power", "power", "power"), ("mute", "mute", "mute")):
        add(suffix, "switch", label, state_topic=state, command_topic=cmd,
            payload_on=json.dumps({"cmd": key, "on": True}), payload_off=json.dumps({"cmd": key, "on": False}),
            state_on="ON", state_off="OFF",
            value_template=(f"{{% if value_json.{key} is none %}}None{{% elif value_json.{key} %}}ON"
                            "{% else %}OFF{% endif %}"))
    add("rssi", "sensor", "signal", state_topic=state, value_template="{{ value_json.rssi }}",
        unit_of_measurement="dBµV", state_class="measurement", entity_category="diagnostic")
    add("ps", "sensor", "station", state_topic=rds, value_template="{{ value_json.ps }}")
    add("radiotext", "sensor", "radiotext", state_topic=rds, value_template="{{ value_json.radiotext }}")
    add("pty", "sensor", "programme type", state_topic=rds, value_template="{{ value_json.pty_name }}")
    return out


def components(desc: DeviceDescription) -> dict[str, Doc]:
    """Every component of the device, keyed by component id (entity name, or radio_<part>)."""
    out: dict[str, Doc] = {}
    for spec in desc.entities:
        out[spec.info.name] = entity_component(desc, spec)
        if spec.info.kind in PRESS_KINDS:
            out[f"{spec.info.name}{PRESS_SUFFIX}"] = press_component(desc, spec)
    if desc.radio is not None:
        out.update(radio_components(desc, desc.radio))
    return out


def platforms(desc: DeviceDescription) -> dict[str, str]:
    """{component id: platform} — what `Published` remembers."""
    return {cid: str(comp["p"]) for cid, comp in components(desc).items()}


# -- documents and topics ------------------------------------------------------------------


def device_topic(prefix: str, device_id: str) -> str:
    return f"{prefix}/device/{safe_id(device_id)}/config"


def entity_topic(prefix: str, platform: str, device_id: str, comp_id: str) -> str:
    return f"{prefix}/{platform}/{safe_id(device_id)}/{safe_id(comp_id)}/config"


def device_config(desc: DeviceDescription, removed: dict[str, str] | None = None) -> Doc:
    """The device-based discovery document; `removed` ({id: platform}) are sent as `{"p": …}`."""
    cmps: dict[str, Doc] = {cid: {"p": p} for cid, p in sorted((removed or {}).items())}
    cmps.update(components(desc))
    return {
        "dev": device_block(desc),
        "o": origin_block(desc),
        "availability": availability(desc),
        "qos": desc.qos,
        "cmps": cmps,
    }


def entity_configs(desc: DeviceDescription) -> dict[str, Doc]:
    """Per-entity discovery: {config topic: document}, each with `dev`, `o` and availability."""
    out: dict[str, Doc] = {}
    for cid, comp in components(desc).items():
        doc = {k: v for k, v in comp.items() if k != "p"}
        doc["object_id"] = str(doc["default_entity_id"]).split(".", 1)[1]  # HA before 2025.10
        doc.update(device=device_block(desc), o=origin_block(desc), availability=availability(desc), qos=desc.qos)
        out[entity_topic(desc.discovery_prefix, str(comp["p"]), desc.device_id, cid)] = doc
    return out


@dataclass(frozen=True, slots=True)
class Removals:
    """What to take out of HA: components to send as `{"p": …}` and topics to clear (empty, retained)."""

    components: dict[str, str] = field(default_factory=dict)
    clear_topics: tuple[str, ...] = ()


def removals(previous: Published | None, current: Published, device_id: str) -> Removals:
    """Compare the last announcement with this one.

    Same mode and prefix: the components that went away (device mode: as `{"p": …}`
    entries; per-entity mode: their config topics cleared). A changed mode or prefix:
    every old config topic is cleared.
    """
    if previous is None:
        return Removals()
    gone = {cid: p for cid, p in previous.components.items() if cid not in current.components}
    if previous.per_entity == current.per_entity and previous.prefix == current.prefix:
        if current.per_entity:
            return Removals(clear_topics=tuple(entity_topic(current.prefix, p, device_id, cid)
                                               for cid, p in sorted(gone.items())))
        return Removals(components=gone)
    if previous.per_entity:
        topics = tuple(entity_topic(previous.prefix, p, device_id, cid)
                       for cid, p in sorted(previous.components.items()))
    else:
        topics = (device_topic(previous.prefix, device_id),)
    return Removals(clear_topics=topics)


def dumps(doc: Doc) -> bytes:
    """Compact UTF-8 JSON (units such as °C stay readable)."""
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
