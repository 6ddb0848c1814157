"""examples/telegraf.conf against real payloads: what Telegraf would make of them, point by point.

Telegraf is not run here. The test reads the example with tomllib and applies exactly
the subset of its rules the example uses — MQTT topic filters, `topic_parsing` into
tags, json_v2 `timestamp_path`/`timestamp_format` (a Go reference-time layout turned
into a parser below) and `field` paths, `tagdrop` globs, and the converter's `float`
— to payloads a running daemon published on a real Mosquitto, a backfill included.
Behaviour taken from Telegraf's json_v2 parser: a payload that is not JSON or has no
timestamp is an error; a null value adds no field (no point); booleans pass through a
field without `type` and become 1.0/0.0 in `processors.converter`.
"""

from __future__ import annotations

import fnmatch
import json
import re
import threading
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from gpiozero.pins.mock import MockFactory

from device.config import parse_config
from device.core.daemon import Daemon
from device.core.services import Service, ServiceContext
from tests.mosquitto import Mosquitto
from tests.mqttwait import Msg, Subscriber

REPO = Path(__file__).resolve().parents[2]
CONF = REPO / "examples" / "telegraf.conf"


# ---- the interpreter ---------------------------------------------------------------

_GO_TOKENS = [  # Go reference time pieces this interpreter understands, longest first
    ("2006", r"(?P<Y>\d{4})"), ("Z07:00", r"(?P<tz>Z|[+-]\d\d:\d\d)"), (".000", r"\.(?P<ms>\d{3})"),
    ("01", r"(?P<m>\d\d)"), ("02", r"(?P<d>\d\d)"), ("15", r"(?P<H>\d\d)"), ("04", r"(?P<M>\d\d)"),
    ("05", r"(?P<S>\d\d)"),
]


def go_layout(layout: str) -> re.Pattern[str]:
    """A regex for a Go reference-time layout (the subset above; anything else is literal)."""
    out, i = "", 0
    while i < len(layout):
        for token, rx in _GO_TOKENS:
            if layout.startswith(token, i):
                out += rx
                i += len(token)
                break
        else:
            out += re.escape(layout[i])
            i += 1
    return re.compile(out + r"\Z")


def parse_go_time(layout: str, text: str, tz_name: str) -> datetime:
    m = go_layout(layout).match(text)
    if m is None:
        raise ValueError(f"{text!r} does not match layout {layout!r}")
    g = m.groupdict()
    assert tz_name == "UTC", "the interpreter knows timestamp_timezone = UTC only"
    tz = UTC
    if g.get("tz") and g["tz"] != "Z":
        sign = 1 if g["tz"][0] == "+" else -1
        tz = timezone(sign * timedelta(hours=int(g["tz"][1:3]), minutes=int(g["tz"][4:6])))
    return datetime(int(g["Y"]), int(g["m"]), int(g["d"]), int(g["H"]), int(g["M"]), int(g["S"]),
                    int(g.get("ms") or 0) * 1000, tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True)
class Point:
    measurement: str
    tags: tuple[tuple[str, str], ...]
    fields: tuple[tuple[str, Any], ...]
    time: datetime


class ParseError(Exception):
    """What Telegraf would log for a message it cannot parse."""


class TelegrafRules:
    """The example's mqtt_consumer + json_v2 + tagdrop + converter, as the example configures them."""

    def __init__(self, doc: dict[str, Any]) -> None:
        (self.inp,) = doc["inputs"]["mqtt_consumer"]
        (self.j2,) = self.inp["json_v2"]
        self.floats = set()
        for conv in doc.get("processors", {}).get("converter", []):
            if self.j2["measurement_name"] in conv.get("namepass", []):
                self.floats |= set(conv["fields"].get("float", []))

    def subscribed(self, topic: str) -> bool:
        return any(mqtt.topic_matches_sub(t, topic) for t in self.inp["topics"])

    def point(self, topic: str, payload: bytes) -> Point | None:
        """The point for one message, None when dropped; raises ParseError like Telegraf's parser."""
        assert self.inp["data_format"] == "json_v2"
        try:
            doc = json.loads(payload)
        except ValueError:
            raise ParseError("invalid JSON provided, unable to parse") from None
        ts = doc.get(self.j2["timestamp_path"]) if isinstance(doc, dict) else None
        if ts is None:
            raise ParseError(f"the timestamp path {self.j2['timestamp_path']} returned NULL")
        when = parse_go_time(self.j2["timestamp_format"], str(ts), self.j2.get("timestamp_timezone", "UTC"))
        fields: dict[str, Any] = {}
        for f in self.j2["field"]:
            assert set(f) <= {"path", "optional"}, "the interpreter knows path and optional only"
            if f["path"] not in doc:
                if f.get("optional"):
                    continue
                raise ParseError(f"the path {f['path']} doesn't exist")
            value = doc[f["path"]]
            if value is None:  # json_v2 ignores null values
                continue
            fields[f["path"]] = value
        tags: dict[str, str] = {}
        for tp in self.inp.get("topic_parsing", []):
            if mqtt.topic_matches_sub(tp["topic"], topic):
                assert set(tp) <= {"topic", "tags"}
                for name, part in zip(tp["tags"].split("/"), topic.split("/"), strict=True):
                    if name != "_":
                        tags[name] = part
        for key, globs in self.inp.get("tagdrop", {}).items():
            if key in tags and any(fnmatch.fnmatchcase(tags[key], g) for g in globs):
                return None
        for name in self.floats:
            if name in fields:
                fields[name] = float(fields[name])  # converter: bool → 1.0/0.0, number → float
        if not fields:
            return None  # a metric without fields is not written
        return Point(self.j2["measurement_name"], tuple(sorted(tags.items())), tuple(sorted(fields.items())), when)


def rules() -> TelegrafRules:
    return TelegrafRules(tomllib.loads(CONF.read_text()))


# ---- the interpreter itself ---------------------------------------------------------

def test_telegraf_go_layout_parses_our_timestamps() -> None:
    layout = rules().j2["timestamp_format"]
    assert parse_go_time(layout, "2026-11-21T10:00:00.123Z", "UTC") == \
        datetime(2026, 11, 21, 10, 0, 0, 123000, tzinfo=UTC)
    assert parse_go_time(layout, "2026-11-21T11:00:00.123+01:00", "UTC") == \
        datetime(2026, 11, 21, 10, 0, 0, 123000, tzinfo=UTC)
    for bad in ("2026-11-21T10:00:00Z", "2026-11-21T10:00:00.12Z", "2026-11-21 10:00:00.123Z"):
        with pytest.raises(ValueError):
            parse_go_time(layout, bad, "UTC")


def test_telegraf_config_shape() -> None:
    r = rules()
    assert r.inp["topics"] == ["pi2mqtt/+/+", "pi2mqtt/+/+/backfill"]
    assert r.j2["timestamp_path"] == "ts" and r.j2["timestamp_format"] == "2006-01-02T15:04:05.000Z07:00"
    doc = tomllib.loads(CONF.read_text())
    assert doc["outputs"]["influxdb_v2"][0]["bucket"] == "pi2mqtt"
    assert r.subscribed("pi2mqtt/a/b") and r.subscribed("pi2mqtt/a/b/backfill")
    assert not r.subscribed("pi2mqtt/a/b/set") and not r.subscribed("pi2mqtt/a/b/set/reply")


# ---- real payloads -------------------------------------------------------------------

class RadioPayloads(Service):
    """Publishes the radio's three state topics once, as docs/radio.md shapes them."""

    name = "radio"

    def start(self, ctx: ServiceContext) -> None:
        ctx.publish("radio", 101.1, unit="MHz", extra={"power": True, "rssi": 52, "min_mhz": 87.5})
        ctx.publish("radio_rds", "ALPHA FM", extra={"ps": "ALPHA FM", "radiotext": "Hello", "pty_name": "Pop Music"})
        ctx.publish("radio_presets", [{"slot": 1, "name": "ALPHA FM", "mhz": 88.4, "pi": "D311"}])

    def command(self, payload: bytes) -> bytes:
        return b'{"ok": false, "code": "UNSUPPORTED"}'


def test_telegraf_rules_turn_daemon_payloads_into_points(
    mosquitto_factory: Callable[..., Mosquitto], mock_factory: MockFactory, tmp_path: Path,
) -> None:
    # A broker that keeps sessions across its restart, so the capturing subscriber misses
    # nothing published while it reconnects (the backfill is not retained).
    b = mosquitto_factory("persist", extra=f"persistence true\npersistence_location {tmp_path}/\n")
    cap = Subscriber(b.port, client_id="telegraf-capture", clean_session=False).connect()
    cap.subscribe("pi2mqtt/#", qos=1)
    cpu = tmp_path / "cpu_temp"
    cpu.write_text("45000\n")
    (tmp_path / "state").mkdir()
    cfg = parse_config({"device": {"id": "tg"}, "mqtt": {"url": b.url}, "homeassistant": {"enabled": False},
                        "cpu_temperature": [{"name": "cpu", "sensor_file": str(cpu), "interval": "50ms"}],
                        "button": [{"name": "bell", "pin": 17}]})
    d = Daemon(cfg, pin_factory=mock_factory, state_dir=tmp_path / "state")
    d.add_service(RadioPayloads())
    d.start()
    try:
        assert d.client.wait_connected(10)
        cap.wait_count(lambda m: m.topic == "pi2mqtt/tg/cpu", 2)
        d.publish_diagnostics()
        mock_factory.pin(17).drive_low()  # pressed (pull-up): a boolean reading
        cap.wait_topic("pi2mqtt/tg/bell", where=lambda m: m.json()["value"] is True)
        cap.wait_topic("pi2mqtt/tg/diagnostics")
        b.stop()  # an outage: readings queue up, the older ones come back on …/backfill
        waited = threading.Event()
        deadline = time.monotonic() + 10
        while d.outbox.pending() < 5:
            assert time.monotonic() < deadline, "no readings queued while the broker was down"
            waited.wait(0.05)
        b.start()
        backfill = cap.wait_topic("pi2mqtt/tg/cpu/backfill", timeout=20)
    finally:
        d.stop()
        cap.close()

    r = rules()
    msgs: list[Msg] = [m for m in cap.messages if r.subscribed(m.topic)]
    by_topic: dict[str, Msg] = {}
    for m in msgs:
        by_topic.setdefault(m.topic, m)
    # The plain-text status fails to parse (Telegraf logs it), and is not a point either way.
    with pytest.raises(ParseError):
        r.point("pi2mqtt/tg/status", by_topic["pi2mqtt/tg/status"].payload)
    # diagnostics has no `value`: an error in Telegraf's log, no point.
    with pytest.raises(ParseError):
        r.point("pi2mqtt/tg/diagnostics", by_topic["pi2mqtt/tg/diagnostics"].payload)
    # RDS text and presets are dropped by tagdrop, not turned into odd points.
    assert r.point("pi2mqtt/tg/radio_rds", by_topic["pi2mqtt/tg/radio_rds"].payload) is None
    assert r.point("pi2mqtt/tg/radio_presets", by_topic["pi2mqtt/tg/radio_presets"].payload) is None

    def expect(m: Msg, entity: str, value: float) -> None:
        doc = m.json()
        p = r.point(m.topic, m.payload)
        assert p is not None, m.topic
        assert p.measurement == "pi2mqtt"
        assert p.tags == (("device", "tg"), ("entity", entity))
        assert p.fields == (("value", value),) and isinstance(p.fields[0][1], float)
        stamp = p.time.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        assert stamp == doc["ts"] and p.time.tzinfo == UTC

    expect(by_topic["pi2mqtt/tg/cpu"], "cpu", 45.0)
    expect(backfill, "cpu", 45.0)
    expect(by_topic["pi2mqtt/tg/radio"], "radio", 101.1)
    bells = [m for m in msgs if m.topic == "pi2mqtt/tg/bell"]
    expect(bells[0], "bell", 0.0)
    expect(bells[-1], "bell", 1.0)
    # A backfilled reading keeps the time it was taken: older than the live one after it.
    live_after = [m for m in msgs if m.topic == "pi2mqtt/tg/cpu" and m.received > backfill.received]
    if live_after:
        p_back, p_live = r.point(backfill.topic, backfill.payload), r.point(live_after[-1].topic, live_after[-1].payload)
        assert p_back is not None and p_live is not None and p_back.time < p_live.time


def test_telegraf_rules_on_failed_and_foreign_payloads() -> None:
    r = rules()
    failed = b'{"value": null, "ts": "2026-11-21T10:00:00.123Z", "seq": 3, "error": "timeout"}'
    assert r.point("pi2mqtt/a/cpu", failed) is None
    with pytest.raises(ParseError):
        r.point("pi2mqtt/a/cpu", b'{"value": 1.0}')
    ok = r.point("pi2mqtt/a/cpu/backfill", b'{"value": 2, "ts": "2026-11-21T10:00:00.001Z", "seq": 1}')
    assert ok == Point("pi2mqtt", (("device", "a"), ("entity", "cpu")), (("value", 2.0),),
                       datetime(2026, 11, 21, 10, 0, 0, 1000, tzinfo=UTC))
