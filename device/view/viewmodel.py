"""What the live view knows about the pi2mqtt devices on a broker: a pure model.

Theory of operation
-------------------
`ViewModel.apply(topic, payload, now, retained=False)` folds one received MQTT
message into the model and returns a `Seen` record when the message was a
reading (or a status or radio change) worth one plain-mode line, else None. It
does no I/O and reads no clock: `now` (Unix time) is passed in, so tests replay
messages with made-up times.

An entity's age counts from when its message was received, so a device whose
clock is off does not distort it, except for retained messages (delivered when
we subscribe, possibly hours old): for those the payload's `ts` is used when it
parses and is not in the future.

Topics under `<prefix>/<id>/` are sorted by their shape:

| topic after `<prefix>/<id>/`      | kind        | shown as                         |
|-----------------------------------|-------------|----------------------------------|
| `status` (plain `online/offline`) | status      | device header                    |
| `radio`                           | radio state | radio panel (value = MHz)        |
| `radio_rds`                       | RDS state   | radio panel (ps, radiotext, ...) |
| `radio_presets`                   | presets     | radio panel (slot, name, MHz)    |
| `radio/event`                     | radio event | counted, the last one kept       |
| `radio/set/reply`                 | reply       | counted, the last one kept       |
| `diagnostics/...`                 | diagnostics | counted                          |
| `.../set`, `.../set/reply`        | command     | counted, never an entity         |
| `.../backfill`                    | backfill    | counted, never an entity         |
| anything else                     | entity      | a row: value, unit, age, history |

The radio's topics follow the radio contract (docs/topics.md): its name is
`radio` unless the device publishes a radio state (a JSON object with
`min_mhz`) under another entity name, which then becomes the radio's name.

Entity payloads are JSON objects with `value` and `ts` (optional `unit`, `seq`).
Anything else (not JSON, a bare number, an object without `value`, invalid
UTF-8) is tolerated: a bare JSON scalar or short text is shown as the value and
the message is counted in `odd`; nothing raises.
"""

from __future__ import annotations

import json
import math
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

from device.core.values import Json, JsonDoc

HISTORY = 40
TEXT_LIMIT = 64


@dataclass(frozen=True)
class Seen:
    """One message worth a plain-mode line: device, entity, value text, unit."""

    device: str
    entity: str
    value: str
    unit: str = ""


@dataclass
class EntityState:
    """The latest reading of one entity and a short numeric history."""

    name: str
    value: Json = None
    unit: str = ""
    ts: str | None = None
    seq: int | None = None
    updated: float = 0.0
    count: int = 0
    history: deque[float] = field(default_factory=lambda: deque(maxlen=HISTORY))


@dataclass
class RadioState:
    """The tuner as last published: `state` from `radio`, `rds` from `radio_rds`, `presets`."""

    name: str = "radio"
    state: JsonDoc = field(default_factory=dict)
    rds: JsonDoc = field(default_factory=dict)
    presets: list[JsonDoc] = field(default_factory=list)
    last_reply: JsonDoc | None = None
    last_event: JsonDoc | None = None
    updated: float = 0.0
    state_count: int = 0
    rds_count: int = 0
    presets_count: int = 0
    events: int = 0
    rssi_history: deque[float] = field(default_factory=lambda: deque(maxlen=HISTORY))

    @property
    def frequency(self) -> float | None:
        """Tuned frequency in MHz, if known (None when powered off or the link is down)."""
        return _number(self.state.get("value"))


@dataclass
class DeviceState:
    """Everything seen from one device id."""

    id: str
    status: str | None = None
    status_at: float = 0.0
    entities: dict[str, EntityState] = field(default_factory=dict)
    radio: RadioState | None = None
    messages: int = 0
    diagnostics: int = 0
    commands: int = 0
    replies: int = 0
    backfill: int = 0
    last_seen: float = 0.0
    radio_name: str = "radio"


class ViewModel:
    """Every pi2mqtt device seen under `<prefix>/`; fed by `apply`."""

    def __init__(self, prefix: str = "pi2mqtt", history: int = HISTORY) -> None:
        self.prefix = prefix.rstrip("/")
        self.history = history
        self.devices: dict[str, DeviceState] = {}
        self.total = 0
        self.ignored = 0  # outside <prefix>/<id>/...
        self.odd = 0  # under the prefix but not the documented shape

    def apply(self, topic: str, payload: bytes, now: float, retained: bool = False) -> Seen | None:
        """Fold one message into the model; return a `Seen` for a plain-mode line or None."""
        self.total += 1
        head = self.prefix + "/"
        if not topic.startswith(head):
            self.ignored += 1
            return None
        parts = topic[len(head):].split("/")
        if len(parts) < 2 or not parts[0] or not all(parts[1:]):
            self.ignored += 1
            return None
        dev = self.devices.get(parts[0])
        if dev is None:
            dev = self.devices[parts[0]] = DeviceState(parts[0])
        dev.messages += 1
        dev.last_seen = now
        rest = parts[1:]
        rn = dev.radio_name
        if rest == ["status"]:
            return self._status(dev, payload, now)
        if rest[0] == "diagnostics":
            dev.diagnostics += 1
        elif rest[-1] == "set":
            dev.commands += 1
        elif rest[-2:] == ["set", "reply"] or (rest[-1] == "reply" and len(rest) > 1):
            dev.replies += 1
            if rest == [rn, "set", "reply"]:
                data = _json(payload)
                self._radio_of(dev).last_reply = data if isinstance(data, dict) else None
        elif rest[-1] == "backfill":
            dev.backfill += 1
        elif rest == [rn, "event"]:
            radio = self._radio_of(dev)
            radio.events += 1
            data = _json(payload)
            radio.last_event = data if isinstance(data, dict) else None
        elif len(rest) == 1 and rest[0] in (rn, f"{rn}_rds", f"{rn}_presets"):
            return self._radio(dev, rest[0][len(rn):], payload, now)
        elif len(rest) == 1 and dev.radio is None and b'"min_mhz"' in payload and _is_radio(payload):
            dev.radio_name = rest[0]
            return self._radio(dev, "", payload, now)
        else:
            return self._entity(dev, "/".join(rest), payload, now, retained)
        return None

    # ---- per kind ----------------------------------------------------------------

    def _status(self, dev: DeviceState, payload: bytes, now: float) -> Seen:
        text = _text(payload).strip()
        if text not in ("online", "offline"):
            self.odd += 1
        dev.status = text[:TEXT_LIMIT]
        dev.status_at = now
        return Seen(dev.id, "status", dev.status)

    def _radio_of(self, dev: DeviceState) -> RadioState:
        if dev.radio is None:
            dev.radio = RadioState(dev.radio_name, rssi_history=deque(maxlen=self.history))
        return dev.radio

    def _radio(self, dev: DeviceState, part: str, payload: bytes, now: float) -> Seen | None:
        """`part`: "" for the state, "_rds" for RDS, "_presets" for the preset list."""
        radio = self._radio_of(dev)
        data = _json(payload)
        if not isinstance(data, dict):
            self.odd += 1
            return None
        radio.updated = now
        if part == "_rds":
            radio.rds = data
            radio.rds_count += 1
            ps = data.get("ps")
            return Seen(dev.id, f"{radio.name}_rds", format_value(ps if ps is not None else data.get("value")))
        if part == "_presets":
            value = data.get("value")
            radio.presets = [p for p in value if isinstance(p, dict)] if isinstance(value, list) else []
            radio.presets_count += 1
            return Seen(dev.id, f"{radio.name}_presets", f"{len(radio.presets)} presets")
        radio.state = data
        radio.state_count += 1
        rssi = _number(data.get("rssi"))
        if rssi is not None:
            radio.rssi_history.append(rssi)
        return Seen(dev.id, radio.name, format_value(radio.frequency), "MHz")

    def _entity(self, dev: DeviceState, name: str, payload: bytes, now: float, retained: bool) -> Seen:
        ent = dev.entities.get(name)
        if ent is None:
            ent = dev.entities[name] = EntityState(name, history=deque(maxlen=self.history))
        data = _json(payload)
        if isinstance(data, dict) and "value" in data:
            ent.value = data["value"]
            unit = data.get("unit")
            ent.unit = unit if isinstance(unit, str) else ""
            ts = data.get("ts")
            ent.ts = ts if isinstance(ts, str) else None
            seq = data.get("seq")
            ent.seq = seq if isinstance(seq, int) and not isinstance(seq, bool) else None
        else:
            self.odd += 1
            ent.value = data if not isinstance(data, _NotJson | dict | list) else _text(payload)[:TEXT_LIMIT]
            ent.unit = ""
        ent.updated = now
        if retained and ent.ts is not None:
            sent = parse_ts(ent.ts)
            if sent is not None and sent <= now:
                ent.updated = sent
        ent.count += 1
        num = _number(ent.value)
        if num is not None:
            ent.history.append(num)
        return Seen(dev.id, name, format_value(ent.value), ent.unit)


# ---- helpers ------------------------------------------------------------------

class _NotJson:
    """What `_json` returns for a payload that is not JSON."""


_NOT_JSON = _NotJson()


def parse_ts(ts: str) -> float | None:
    """Unix time of an ISO-8601 timestamp such as `2026-11-21T10:00:00.123Z`, or None."""
    try:
        when = datetime.fromisoformat(ts)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def _is_radio(payload: bytes) -> bool:
    data = _json(payload)
    return isinstance(data, dict) and "min_mhz" in data and "value" in data


def _text(payload: bytes) -> str:
    return payload.decode("utf-8", "replace")


def _json(payload: bytes) -> Json | _NotJson:
    try:
        return json.loads(payload)
    except (ValueError, RecursionError):
        return _NOT_JSON


def _number(value: object) -> float | None:
    """A finite float for int/float values (not bool), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    f = float(value)
    return f if math.isfinite(f) else None


def format_value(value: object) -> str:
    """A reading's value as shown: numbers trimmed, booleans on/off, None as `—`."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return f"{value:.6g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.3g}"
    if isinstance(value, str):
        return value[:TEXT_LIMIT]
    try:
        return json.dumps(value, ensure_ascii=False)[:TEXT_LIMIT]
    except (TypeError, ValueError):
        return str(value)[:TEXT_LIMIT]


def format_age(seconds: float) -> str:
    """A compact age: `0.4s`, `12s`, `3m`, `2h`, `5d`."""
    s = max(0.0, seconds)
    if s < 10:
        return f"{s:.1f}s"
    if s < 60:
        return f"{s:.0f}s"
    if s < 3600:
        return f"{s // 60:.0f}m"
    if s < 86400:
        return f"{s // 3600:.0f}h"
    return f"{s // 86400:.0f}d"


_CONTROL = {c: "\ufffd" for c in [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029]}


def clean(text: str) -> str:
    """`text` with control characters (escape sequences, line breaks) shown as U+FFFD."""
    return text.translate(_CONTROL)


SPARK = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float] | deque[float], width: int) -> str:
    """The last `width` values as block characters scaled between their min and max."""
    vals = list(values)[-width:] if width > 0 else []
    if not vals:
        return ""
    lo, hi = min(vals), max(vals)
    if hi == lo:
        return SPARK[3] * len(vals)
    top = len(SPARK) - 1
    return "".join(SPARK[round((v - lo) / (hi - lo) * top)] for v in vals)


@dataclass(frozen=True)
class Summary:
    """Messages seen per device and entity, for the end of a demo or a watch."""

    total: int
    devices: tuple[tuple[str, str, int, tuple[tuple[str, int], ...]], ...]

    @classmethod
    def of(cls, model: ViewModel) -> Summary:
        """Freeze the counts of `model`."""
        devs = []
        for dev in model.devices.values():
            ents = tuple((e.name, e.count) for e in dev.entities.values())
            if dev.radio is not None:
                r = dev.radio
                ents += ((r.name, r.state_count), (f"{r.name}_rds", r.rds_count),
                         (f"{r.name}_presets", r.presets_count))
            devs.append((dev.id, dev.status or "?", dev.messages, ents))
        return cls(model.total, tuple(devs))

    def entity_count(self, device: str, entity: str) -> int:
        """Readings seen for one entity (0 when never seen)."""
        for dev_id, _status, _n, ents in self.devices:
            if dev_id == device:
                return dict(ents).get(entity, 0)
        return 0

    def format(self) -> str:
        """Plain text, one line per device and one per entity."""
        lines = [f"{self.total} messages from {len(self.devices)} device(s)"]
        for dev_id, status, n, ents in self.devices:
            lines.append(f"{dev_id} ({status}): {n} messages, {len(ents)} entities")
            lines.extend(f"  {name:<24} {count:>7}" for name, count in ents)
        return "\n".join(lines)
