"""What the web page knows about the pi2mqtt devices on a broker: a pure model.

Theory of operation
-------------------
`WebModel.apply(topic, payload, now, retained)` folds one MQTT message into the
terminal view's `ViewModel` (device, entity and radio state: one parser for
both views) and adds what only the page needs:

- a time series per numeric entity, the last `window` seconds (an hour by
  default) in memory, keyed by the reading's own `ts`. A reading on
  `…/<entity>/backfill` (replayed after an outage) is slotted into its place in
  time, so the plot has no hole where the outage was;
- each entity's `error` (a failed read), the device's last diagnostics and the
  alarms they imply (offline, failing entities, readings dropped, radio link down);
- each command reply (`…/set/reply`), kept to be pushed once;
- which entities take commands, read from Home Assistant discovery (the daemon
  announces `switch` and `light` components there, device or per-entity mode):
  outputs get controls on the page, with their friendly names.

`snapshot()` is everything, for a page that just connected; `changes()` is what
changed since the last call (the devices touched, with only their new points,
and the new replies), for the pushes to connected pages. No I/O, no clock:
`now` is passed in.
"""

from __future__ import annotations

import bisect
import json
import math
from dataclasses import dataclass, field

from device.view.viewmodel import DeviceState, ViewModel, parse_ts

# A JSON value as the page receives it, narrowed with isinstance before use. Looser than
# device.core.values.Json on purpose: documents built here from lists and dicts of plain
# floats and strings would not type-check against that invariant recursive union.
PageJson = object

WINDOW = 3600.0
MAX_POINTS = 4000  # per entity: a 1 Hz sensor fills the hour with 3600


@dataclass
class Series:
    """(time, value) points sorted by time, trimmed to a window; `fresh` = added since the last push."""

    t: list[float] = field(default_factory=list)
    v: list[float] = field(default_factory=list)
    fresh: list[tuple[float, float]] = field(default_factory=list)
    backfilled: bool = False  # a point went in before the newest: the page redraws the whole series

    def add(self, at: float, value: float, window: float) -> None:
        if self.t and at < self.t[-1]:
            i = bisect.bisect_right(self.t, at)
            self.t.insert(i, at)
            self.v.insert(i, value)
            self.backfilled = True
        else:
            self.t.append(at)
            self.v.append(value)
            self.fresh.append((at, value))
        cut = bisect.bisect_left(self.t, self.t[-1] - window)
        cut = max(cut, len(self.t) - MAX_POINTS)
        if cut > 0:
            del self.t[:cut], self.v[:cut]

    def doc(self) -> list[list[float]]:
        return [self.t, self.v]


@dataclass
class DeviceExtra:
    """What the page shows beyond the view model: errors, diagnostics, series, dirty flag."""

    errors: dict[str, str] = field(default_factory=dict)
    controls: dict[str, str] = field(default_factory=dict)  # entity -> "switch" | "light"
    names: dict[str, str] = field(default_factory=dict)  # entity -> friendly name
    diagnostics: dict[str, PageJson] = field(default_factory=dict)
    series: dict[str, Series] = field(default_factory=dict)
    touched: set[str] = field(default_factory=set)  # entities changed since the last push


class WebModel:
    """Every pi2mqtt device under `<prefix>/`, as the page shows it."""

    def __init__(self, prefix: str = "pi2mqtt", window: float = WINDOW,
                 ha_prefix: str = "homeassistant") -> None:
        self.view = ViewModel(prefix)
        self.ha_prefix = ha_prefix.rstrip("/")
        self.prefix = self.view.prefix
        self.window = window
        self.extra: dict[str, DeviceExtra] = {}
        self._dirty: set[str] = set()
        self._replies: list[dict[str, PageJson]] = []

    def apply(self, topic: str, payload: bytes, now: float, retained: bool = False) -> None:
        """Fold one message in (never raises on a bad payload)."""
        if topic.startswith(self.ha_prefix + "/") and topic.endswith("/config"):
            self._discovery(topic, payload)
            return
        self.view.apply(topic, payload, now, retained)
        head = self.prefix + "/"
        if not topic.startswith(head):
            return
        parts = topic[len(head):].split("/")
        if len(parts) < 2 or parts[0] not in self.view.devices:
            return
        dev_id, rest = parts[0], parts[1:]
        dev = self.view.devices[dev_id]
        extra = self.extra.setdefault(dev_id, DeviceExtra())
        self._dirty.add(dev_id)
        data = _json(payload)
        if rest[-2:] == ["set", "reply"] and len(rest) == 3:
            if isinstance(data, dict):
                self._replies.append({"device": dev_id, "entity": rest[0], "reply": data})
        elif rest == ["diagnostics"]:
            if isinstance(data, dict):
                extra.diagnostics = data
        elif len(rest) == 2 and rest[1] == "backfill":
            self._point(dev, extra, rest[0], data, now)
        elif len(rest) == 1 and rest[0] in dev.entities:
            extra.touched.add(rest[0])
            self._point(dev, extra, rest[0], data, now)
            err = data.get("error") if isinstance(data, dict) else None
            if isinstance(err, str) and err:
                extra.errors[rest[0]] = err[:200]
            else:
                extra.errors.pop(rest[0], None)
        elif dev.radio is not None and rest == [dev.radio.name]:
            rssi = data.get("rssi") if isinstance(data, dict) else None
            self._point(dev, extra, f"{dev.radio.name}.rssi", {"value": rssi, "ts": _ts(data)}, now)

    def _discovery(self, topic: str, payload: bytes) -> None:
        """Learn outputs and names from an HA discovery document (device or per-entity)."""
        data = _json(payload)
        if not isinstance(data, dict):
            return
        parts = topic.split("/")
        cmps = data.get("cmps")
        if isinstance(cmps, dict):
            comps = [c for c in cmps.values() if isinstance(c, dict)]
        elif len(parts) >= 4:
            comps = [{**data, "p": parts[1]}]
        else:
            return
        head = self.prefix + "/"
        for comp in comps:
            st = comp.get("state_topic")
            if not isinstance(st, str) or not st.startswith(head) or st.count("/") != self.prefix.count("/") + 2:
                continue
            dev_id, entity = st[len(head):].split("/")
            extra = self.extra.setdefault(dev_id, DeviceExtra())
            platform = comp.get("p")
            if platform in ("switch", "light") and comp.get("command_topic") == f"{st}/set":
                extra.controls[entity] = str(platform)
                name = comp.get("name")
                if isinstance(name, str):
                    extra.names[entity] = name
            elif platform in ("sensor", "binary_sensor") and isinstance(comp.get("name"), str):
                extra.names[entity] = comp["name"]
            extra.touched.add(entity)
            if dev_id in self.view.devices:
                self._dirty.add(dev_id)

    def _point(self, dev: DeviceState, extra: DeviceExtra, name: str, data: PageJson, now: float) -> None:
        if not isinstance(data, dict):
            return
        value = data.get("value")
        if isinstance(value, bool):
            value = 1.0 if value else 0.0
        if not isinstance(value, int | float) or not math.isfinite(value):
            return
        ts = data.get("ts")
        at = parse_ts(ts) if isinstance(ts, str) else None
        if at is None or at > now + 60:  # no time, or a clock far ahead: when we got it
            at = now
        series = extra.series.setdefault(name, Series())
        series.add(at, float(value), self.window)

    # ---- what the page receives ---------------------------------------------------------

    def snapshot(self, now: float) -> dict[str, PageJson]:
        """Every device, whole (full series): the first message on a new connection."""
        for extra in self.extra.values():
            for s in extra.series.values():
                s.fresh.clear()
                s.backfilled = False
        self._dirty.clear()
        return {"type": "snapshot", "now": now, "prefix": self.prefix,
                "devices": [finite(self._device_doc(d, full=True)) for d in self.view.devices]}

    def changes(self, now: float) -> dict[str, PageJson] | None:
        """What changed since the last `changes` or `snapshot`; None when nothing did."""
        if not self._dirty and not self._replies:
            return None
        devices = [finite(self._device_doc(d, full=False)) for d in sorted(self._dirty)
                   if d in self.view.devices]
        replies, self._replies = [finite(r) for r in self._replies], []
        self._dirty.clear()
        return {"type": "update", "now": now, "devices": devices, "replies": replies}

    def _device_doc(self, dev_id: str, full: bool) -> dict[str, PageJson]:
        dev = self.view.devices[dev_id]
        extra = self.extra.setdefault(dev_id, DeviceExtra())
        entities = []
        for name, ent in dev.entities.items():
            if not full and name not in extra.touched:
                continue  # a push carries only the entities that changed
            entities.append({"name": name, "value": ent.value, "unit": ent.unit, "ts": ent.ts,
                             "updated": ent.updated, "count": ent.count,
                             "error": extra.errors.get(name), "control": extra.controls.get(name),
                             "label": extra.names.get(name)})
        extra.touched.clear()
        series: dict[str, PageJson] = {}
        for name, s in extra.series.items():
            if full or s.backfilled:
                series[name] = {"all": s.doc()}
            elif s.fresh:
                series[name] = {"add": [list(p) for p in s.fresh]}
            s.fresh.clear()
            s.backfilled = False
        radio = None
        if dev.radio is not None:
            r = dev.radio
            radio = {"name": r.name, "state": r.state, "rds": r.rds, "presets": r.presets,
                     "event": r.last_event, "updated": r.updated}
        return {"id": dev_id, "status": dev.status, "last_seen": dev.last_seen,
                "entities": entities, "radio": radio, "series": series,
                "alarms": alarms(dev, extra), "counts": {"messages": dev.messages, "backfill": dev.backfill}}


def alarms(dev: DeviceState, extra: DeviceExtra) -> list[str]:
    """What needs a look, in words: offline, failing entities, dropped readings, radio link down."""
    out: list[str] = []
    if dev.status == "offline":
        out.append("offline")
    for name, err in sorted(extra.errors.items()):
        out.append(f"{name}: {err}")
    diag = extra.diagnostics
    outbox = diag.get("outbox")
    if isinstance(outbox, dict) and isinstance(outbox.get("dropped"), int) and outbox["dropped"] > 0:
        out.append(f"{outbox['dropped']} readings dropped by the outbox caps")
    if isinstance(outbox, dict) and outbox.get("degraded"):
        out.append("outbox on memory: the disk failed")
    ents = diag.get("entities")
    if isinstance(ents, dict):
        for name, e in sorted(ents.items()):
            if isinstance(e, dict) and e.get("state") not in (None, "ok") and name not in extra.errors:
                out.append(f"{name}: {e.get('state')}")
    if dev.radio is not None and dev.radio.state.get("link") == "down":
        out.append(f"{dev.radio.name}: co-processor link down")
    return out


def finite(doc: PageJson) -> PageJson:
    """`doc` with NaN and infinities (which JSON cannot carry) as None, at any depth."""
    if isinstance(doc, float):
        return doc if math.isfinite(doc) else None
    if isinstance(doc, dict):
        return {k: finite(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [finite(v) for v in doc]
    return doc


def _ts(data: PageJson) -> PageJson:
    return data.get("ts") if isinstance(data, dict) else None


def _json(payload: bytes) -> PageJson:
    try:
        return json.loads(payload)
    except (ValueError, RecursionError):
        return None
