"""Payloads, topics, timestamps and sequence numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from device.core.statedir import SeqStore
from device.core.timefmt import iso_ms
from device.errors import CommandError
from device.mqtt import payloads
from device.mqtt.topics import Topics


def test_timestamp_is_utc_iso_with_milliseconds() -> None:
    assert iso_ms(1795255200.1239) == "2026-11-21T10:00:00.123Z"
    assert iso_ms(0) == "1970-01-01T00:00:00.000Z"


def test_reading_payload_has_value_ts_seq_unit() -> None:
    doc = json.loads(payloads.reading(21.5, 1795255200.5, 7, "°C"))
    assert doc == {"value": 21.5, "ts": "2026-11-21T10:00:00.500Z", "seq": 7, "unit": "°C"}
    doc = json.loads(payloads.reading(None, 0, 1, None, "timeout"))
    assert doc["value"] is None and doc["error"] == "timeout" and "unit" not in doc


@pytest.mark.parametrize(
    ("raw", "value", "req_id"),
    [
        (b"true", True, None),
        (b"0.25", 0.25, None),
        (b'"on"', "on", None),
        (b"ON", "ON", None),
        (b"toggle", "toggle", None),
        (b'{"value": false, "id": "r1"}', False, "r1"),
    ],
)
def test_command_payload_forms(raw: bytes, value: object, req_id: object) -> None:
    assert payloads.parse_command(raw) == (value, req_id)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"", "EMPTY"),
        (b"\xff\xfe", "BAD_ENCODING"),
        (b"{not json", "BAD_JSON"),
        (b"two words", "BAD_JSON"),
        (b'{"value": 1, "colour": 2}', "UNKNOWN_FIELD"),
        (b'{"id": 1}', "MISSING_VALUE"),
        (b"[1, 2]", "BAD_VALUE"),
        (b'{"value": 1, "id": [1]}', "BAD_ID"),
        (b"x" * 5000, "TOO_LARGE"),
    ],
)
def test_command_payload_errors(raw: bytes, code: str) -> None:
    with pytest.raises(CommandError) as ei:
        payloads.parse_command(raw)
    assert ei.value.code == code


def test_reply_payloads() -> None:
    assert json.loads(payloads.reply_ok(True, "r1")) == {"ok": True, "value": True, "id": "r1"}
    err = CommandError("RANGE", "too bright", min=0, max=1)
    assert json.loads(payloads.reply_error(err, 3)) == {
        "ok": False, "code": "RANGE", "message": "too bright", "details": {"min": 0, "max": 1}, "id": 3}


def test_topics() -> None:
    t = Topics("pi2mqtt", "kitchen")
    assert t.status == "pi2mqtt/kitchen/status"
    assert t.entity("temp") == "pi2mqtt/kitchen/temp"
    assert t.command_filter == "pi2mqtt/kitchen/+/set"
    assert t.command_entity("pi2mqtt/kitchen/lamp/set") == "lamp"
    assert t.command_entity("pi2mqtt/other/lamp/set") is None
    assert t.command_entity("pi2mqtt/kitchen/a/b/set") is None
    assert t.reply("lamp") == "pi2mqtt/kitchen/lamp/set/reply"


def test_seq_continues_after_clean_shutdown(tmp_path: Path) -> None:
    p = tmp_path / "seq.json"
    s = SeqStore(p)
    assert [s.next("a") for _ in range(3)] == [1, 2, 3]
    assert s.next("b") == 1
    s.close()
    s2 = SeqStore(p)
    assert s2.next("a") == 4 and s2.next("b") == 2


def test_seq_never_reused_after_a_crash(tmp_path: Path) -> None:
    p = tmp_path / "seq.json"
    s = SeqStore(p, block=10)
    used = [s.next("a") for _ in range(25)]
    # no close(): the process "died"
    s2 = SeqStore(p, block=10)
    n = s2.next("a")
    assert n > max(used)
    assert n - max(used) <= 10


def test_seq_store_survives_a_corrupt_file(tmp_path: Path) -> None:
    p = tmp_path / "seq.json"
    p.write_text("{garbage")
    assert SeqStore(p).next("a") == 1


@pytest.mark.parametrize("value", [21.5, -0.0, 1e-7, 123456789.125, 3, -17, 2**70, True, False, None, "on", [1, 2], 1.5e300])
@pytest.mark.parametrize("unit", [None, "°C", "%", 'a"b\\c'])
def test_reading_fast_path_writes_the_encoders_bytes(value: object, unit: str | None) -> None:
    doc = {"value": value, "ts": iso_ms(1795255200.5), "seq": 42}
    if unit is not None:
        doc["unit"] = unit
    want = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
    assert payloads.reading(value, 1795255200.5, 42, unit) == want


def test_timestamps_across_a_second_boundary() -> None:
    assert iso_ms(1795255200.999) == "2026-11-21T10:00:00.999Z"
    assert iso_ms(1795255201.0) == "2026-11-21T10:00:01.000Z"
    assert iso_ms(1795255200.001) == "2026-11-21T10:00:00.001Z"
    assert iso_ms(-0.5) == "1969-12-31T23:59:59.500Z"
