"""The web page's pure model and the server's checks, without a browser or a broker."""

from __future__ import annotations

import json

import pytest

from device.errors import ConfigError
from device.web.pagemodel import Series, WebModel
from device.web.webserver import (
    WebOptions,
    check_options,
    command_problem,
    is_loopback,
    session_token,
)

T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z


def ts(at: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def reading(value: object, at: float, **extra: object) -> bytes:
    return json.dumps({"value": value, "ts": ts(at), **extra}).encode()


def test_web_model_snapshot_then_only_changes() -> None:
    m = WebModel()
    m.apply("pi2mqtt/lab/status", b"online", T0)
    m.apply("pi2mqtt/lab/tank", reading(1.5, T0, unit="m", seq=1), T0)
    snap = m.snapshot(T0)
    (dev,) = snap["devices"]
    assert dev["id"] == "lab" and dev["status"] == "online"
    assert dev["entities"][0]["value"] == 1.5 and dev["entities"][0]["unit"] == "m"
    assert dev["series"]["tank"] == {"all": [[T0], [1.5]]}
    assert m.changes(T0) is None  # nothing since the snapshot
    m.apply("pi2mqtt/lab/tank", reading(1.4, T0 + 1), T0 + 1)
    upd = m.changes(T0 + 1)
    assert upd is not None and upd["devices"][0]["series"]["tank"] == {"add": [[T0 + 1, 1.4]]}


def test_web_model_backfill_slots_into_its_place_in_time() -> None:
    m = WebModel()
    for i in (0, 10, 20):
        m.apply("pi2mqtt/lab/tank", reading(float(i), T0 + i), T0 + i)
    m.snapshot(T0 + 20)
    # After an outage the daemon replays what it queued on …/backfill, with the original ts.
    m.apply("pi2mqtt/lab/tank/backfill", reading(5.0, T0 + 5), T0 + 21)
    m.apply("pi2mqtt/lab/tank/backfill", reading(15.0, T0 + 15), T0 + 21)
    upd = m.changes(T0 + 21)
    assert upd is not None
    assert upd["devices"][0]["series"]["tank"] == {"all": [[T0, T0 + 5, T0 + 10, T0 + 15, T0 + 20],
                                                           [0.0, 5.0, 10.0, 15.0, 20.0]]}
    # A backfilled reading is not the entity's current value: no entity row changes.
    assert upd["devices"][0]["entities"] == []
    assert m.snapshot(T0 + 21)["devices"][0]["entities"][0]["value"] == 20.0


def test_web_model_keeps_one_hour() -> None:
    s = Series()
    for i in range(0, 7200, 60):
        s.add(T0 + i, float(i), 3600.0)
    assert s.t[-1] - s.t[0] == 3600.0


def test_web_model_controls_and_names_from_ha_discovery() -> None:
    m = WebModel()
    m.apply("pi2mqtt/lab/porch", reading(False, T0), T0)
    doc = {"cmps": {
        "porch": {"p": "switch", "name": "Porch light", "state_topic": "pi2mqtt/lab/porch",
                  "command_topic": "pi2mqtt/lab/porch/set"},
        "lamp": {"p": "light", "name": "Lamp", "state_topic": "pi2mqtt/lab/lamp",
                 "command_topic": "pi2mqtt/lab/lamp/set"},
        "bell": {"p": "binary_sensor", "name": "Bell", "state_topic": "pi2mqtt/lab/bell"},
    }}
    m.apply("homeassistant/device/lab/config", json.dumps(doc).encode(), T0)
    # per-entity mode: the platform is in the topic
    m.apply("homeassistant/switch/lab/pump/config", json.dumps(
        {"name": "Pump", "state_topic": "pi2mqtt/lab/pump", "command_topic": "pi2mqtt/lab/pump/set"}).encode(), T0)
    m.apply("pi2mqtt/lab/lamp", reading(0.5, T0), T0)
    m.apply("pi2mqtt/lab/bell", reading(False, T0), T0)
    m.apply("pi2mqtt/lab/pump", reading(True, T0), T0)
    ents = {e["name"]: e for e in m.snapshot(T0)["devices"][0]["entities"]}
    assert ents["porch"]["control"] == "switch" and ents["porch"]["label"] == "Porch light"
    assert ents["lamp"]["control"] == "light"
    assert ents["pump"]["control"] == "switch"
    assert ents["bell"]["control"] is None and ents["bell"]["label"] == "Bell"
    assert "homeassistant" not in m.view.devices


def test_web_model_alarms() -> None:
    m = WebModel()
    m.apply("pi2mqtt/lab/status", b"offline", T0)
    m.apply("pi2mqtt/lab/tank", json.dumps({"value": None, "ts": ts(T0), "error": "timeout: no answer"}).encode(), T0)
    m.apply("pi2mqtt/lab/diagnostics", json.dumps({"outbox": {"dropped": 3}}).encode(), T0)
    alarms = m.snapshot(T0)["devices"][0]["alarms"]
    assert alarms == ["offline", "tank: timeout: no answer", "3 readings dropped by the outbox caps"]
    m.apply("pi2mqtt/lab/tank", reading(1.0, T0 + 1), T0 + 1)
    upd = m.changes(T0 + 1)
    assert upd is not None and "tank: timeout: no answer" not in upd["devices"][0]["alarms"]


def test_web_model_replies_pushed_once() -> None:
    m = WebModel()
    m.apply("pi2mqtt/lab/radio/set/reply", b'{"ok": false, "code": "OUT_OF_BAND", "id": "w1"}', T0)
    upd = m.changes(T0)
    assert upd is not None and upd["replies"] == [
        {"device": "lab", "entity": "radio", "reply": {"ok": False, "code": "OUT_OF_BAND", "id": "w1"}}]
    assert m.changes(T0) is None


def test_web_model_tolerates_garbage() -> None:
    m = WebModel()
    for topic, payload in [("pi2mqtt/lab/x", b"\xff\xfe"), ("pi2mqtt/lab/x/backfill", b"[1,2]"),
                           ("pi2mqtt/lab/diagnostics", b"nope"), ("homeassistant/device/lab/config", b"{"),
                           ("pi2mqtt/lab/x", b'{"value": NaN, "ts": "bad"}')]:
        m.apply(topic, payload, T0)
    json.dumps(m.snapshot(T0), allow_nan=False)


def test_web_commands_checked_before_publishing() -> None:
    assert command_problem("lab", "radio", {"cmd": "tune", "mhz": 91.7, "id": "w1"}) is None
    assert command_problem("lab/#", "radio", {})[0] == "BAD_DEVICE"  # type: ignore[index]
    assert command_problem("lab", "+", {})[0] == "BAD_ENTITY"  # type: ignore[index]
    assert command_problem("lab", "radio", "tune")[0] == "BAD_JSON"  # type: ignore[index]
    assert command_problem("lab", "radio", {"x": "y" * 5000})[0] == "TOO_LARGE"  # type: ignore[index]


def test_web_refuses_an_open_bind_without_a_password() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2")
    check_options(WebOptions())
    check_options(WebOptions(bind="0.0.0.0", secret="s"))
    with pytest.raises(ConfigError, match="--password-file"):
        check_options(WebOptions(bind="0.0.0.0"))
    with pytest.raises(ConfigError, match="--cert and --key"):
        check_options(WebOptions(cert=__import__("pathlib").Path("c.pem")))
    assert session_token("a") != session_token("b") and len(session_token("a")) == 64
