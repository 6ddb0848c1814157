"""RadioService against a fake tuner link: validation before hardware, BUSY, link down, RDS, persistence."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import device.config  # noqa: F401  (loads device.config.model before device.radio.config)
from device.radio.config import RadioConfig
from device.radio.service import RadioService
from hwsim.chips.rds_groups import ps_groups
from tests.radio.fakes import FakeContext, FakeTunerLink


@pytest.fixture
def radio(tmp_path: Path) -> Iterator[tuple[RadioService, FakeTunerLink, FakeContext]]:
    link = FakeTunerLink()
    ctx = FakeContext(link, tmp_path)
    svc = RadioService(RadioConfig(chip="rda5807m", frequency=88.4, status_interval=60))
    svc.start(ctx)
    ctx.wait(lambda: any(v == 88.4 for v, _ in ctx.states()))
    yield svc, link, ctx
    svc.close()


def cmd(svc: RadioService, doc: dict[str, Any] | bytes) -> dict[str, Any]:
    raw = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    out: dict[str, Any] = json.loads(svc.command(raw))
    return out


def test_service_boot_powers_up_configures_and_tunes(radio: tuple[RadioService, FakeTunerLink, FakeContext]) -> None:
    _, link, ctx = radio
    methods = [m for m, _ in link.calls]
    assert methods[:5] == ["tuner.info", "tuner.power", "tuner.config", "tuner.volume", "tuner.tune"]
    config = dict(link.calls[2][1])
    assert config["band"] == 0 and config["spacing"] == 0 and config["deemph"] == 50
    assert link.calls[4][1] == {"khz": 88400, "brief": True}
    value, doc = ctx.states()[-1]
    assert value == 88.4 and doc["rssi"] == 63 and doc["link"] == "up" and doc["busy"] is None


def test_service_refused_commands_make_no_hardware_call(radio: tuple[RadioService, FakeTunerLink, FakeContext]) -> None:
    svc, link, ctx = radio
    before = len(link.calls)
    published = len(ctx.published)
    replies = [
        cmd(svc, {"cmd": "tune", "mhz": 108.1, "id": 7}),
        cmd(svc, {"cmd": "tune", "mhz": "99.95"}),
        cmd(svc, {"cmd": "volume", "value": 3, "delta": 1}),
        cmd(svc, {"cmd": "deemphasis", "us": 60}),
        cmd(svc, {"cmd": "band", "region": "mars"}),
        cmd(svc, {"cmd": "seek", "dir": "sideways"}),
        cmd(svc, b"[1, 2]"),
        cmd(svc, b"\xff"),
    ]
    codes = [r["code"] for r in replies]
    assert codes == ["OUT_OF_BAND", "MISALIGNED", "BAD_VALUE", "UNSUPPORTED", "UNSUPPORTED", "BAD_VALUE",
                     "BAD_JSON", "BAD_JSON"]
    assert replies[0]["id"] == 7 and replies[0]["cmd"] == "tune"
    assert replies[1]["details"] == {"below_mhz": 99.9, "above_mhz": 100.0, "step_khz": 100}
    assert len(link.calls) == before and len(ctx.published) == published


def test_service_busy_during_seek_except_volume_mute_cancel(
        radio: tuple[RadioService, FakeTunerLink, FakeContext]) -> None:
    svc, link, ctx = radio
    assert cmd(svc, {"cmd": "seek", "dir": "up"})["state"]["busy"] == "seek"
    busy = cmd(svc, {"cmd": "tune", "mhz": 91.7})
    assert busy["code"] == "BUSY" and busy["details"] == {"busy": "seek"}
    assert cmd(svc, {"cmd": "scan"})["code"] == "BUSY"
    assert cmd(svc, {"cmd": "preset_set", "name": "X"})["code"] == "BUSY"
    assert cmd(svc, {"cmd": "volume", "delta": 2})["state"]["volume"] == 10
    assert cmd(svc, {"cmd": "mute", "on": "toggle"})["state"]["mute"] is True
    assert ctx.link_event is not None
    ctx.link_event("tuner.seek_progress", {"khz": 90000})
    link.khz = 91700
    ctx.link_event("tuner.seek_done", {**link.status(), "found": True, "band_limit": False, "cancelled": False})
    value, doc = ctx.states()[-1]
    assert value == 91.7 and doc["busy"] is None
    events = [e["event"] for e in ctx.events]
    assert "seek_progress" in events and events[-2:] == ["seek_done", "tuned"]
    assert ctx.events[-2]["found"] is True
    assert cmd(svc, {"cmd": "tune", "mhz": 99.9})["state"]["value"] == 99.9


def test_service_link_down_means_null_state_and_unavailable(
        radio: tuple[RadioService, FakeTunerLink, FakeContext]) -> None:
    svc, link, ctx = radio
    assert ctx.link_state is not None
    link.state = "down"
    ctx.link_state("down")
    value, doc = ctx.states()[-1]
    assert value is None and doc["link"] == "down"
    assert cmd(svc, {"cmd": "tune", "mhz": 91.7})["code"] == "UNAVAILABLE"
    link.state = "up"
    ctx.link_state("up")
    ctx.wait(lambda: ctx.states()[-1][0] == 88.4)  # restored after the link came back


def test_service_rds_publishes_ps_only_when_confirmed_and_clears_on_retune(
        radio: tuple[RadioService, FakeTunerLink, FakeContext]) -> None:
    svc, _, ctx = radio
    assert ctx.link_event is not None
    groups = ps_groups(0xD311, "ALPHA FM", pty=10)
    for g in groups:  # every segment once, C and D ungraded (RDA5807M): not yet confirmed
        ctx.link_event("rds", {"a": g[0], "b": g[1], "c": g[2], "d": g[3], "e": [0, 0, None, None]})
    assert all(v is None for v, _ in ctx.states("radio_rds"))
    for g in groups:
        ctx.link_event("rds", {"a": g[0], "b": g[1], "c": g[2], "d": g[3], "e": [0, 0, None, None]})
    value, doc = ctx.states("radio_rds")[-1]
    assert value == "ALPHA FM" and doc["pi"] == "D311"
    assert [e["value"] for e in ctx.events if e.get("field") == "ps"] == ["ALPHA FM"]
    cmd(svc, {"cmd": "tune", "mhz": 91.7})
    value, doc = ctx.states("radio_rds")[-1]
    assert value is None and doc["pi"] is None


def test_service_presets_and_settings_persist(tmp_path: Path) -> None:
    link = FakeTunerLink()
    ctx = FakeContext(link, tmp_path)
    svc = RadioService(RadioConfig(chip="rda5807m", frequency=88.4, status_interval=60))
    svc.start(ctx)
    ctx.wait(lambda: any(v == 88.4 for v, _ in ctx.states()))
    assert cmd(svc, {"cmd": "preset_set", "name": "Alpha"})["preset"]["slot"] == 1
    cmd(svc, {"cmd": "tune", "mhz": 99.9})
    cmd(svc, {"cmd": "volume", "value": 4})
    svc.close()
    saved = json.loads((tmp_path / "radio.json").read_text())
    assert saved["settings"]["khz"] == 99900 and saved["settings"]["volume"] == 4

    link2 = FakeTunerLink()
    ctx2 = FakeContext(link2, tmp_path)
    svc2 = RadioService(RadioConfig(chip="rda5807m", frequency=88.4, status_interval=60))
    svc2.start(ctx2)
    try:
        ctx2.wait(lambda: any(v == 99.9 for v, _ in ctx2.states()))
        assert ("tuner.volume", {"volume": 4, "mute": False}) in link2.calls
        assert svc2.presets() == [{"slot": 1, "name": "Alpha", "mhz": 88.4, "pi": None}]
        assert svc2.band_limits() == (87.5, 108.0, 0.1)
    finally:
        svc2.close()


def test_service_firmware_errors_keep_their_code(radio: tuple[RadioService, FakeTunerLink, FakeContext]) -> None:
    from device.errors import CommandError

    svc, link, _ = radio
    link.fail["tuner.tune"] = CommandError("TIMEOUT", "no STC within 500 ms")
    reply = cmd(svc, {"cmd": "tune", "mhz": 91.7})
    assert reply["code"] == "TIMEOUT" and "STC" in reply["message"]
    link.fail["tuner.tune"] = CommandError("unknown_method", "tuner.tune")
    assert cmd(svc, {"cmd": "tune", "mhz": 91.7})["code"] == "UNAVAILABLE"


def test_service_rds_error_free_groups_on_a_strong_signal_show_ps_at_once(
        radio: tuple[RadioService, FakeTunerLink, FakeContext]) -> None:
    _, _, ctx = radio
    assert ctx.link_event is not None
    for g in ps_groups(0xD311, "ALPHA FM", pty=10):  # each segment once, all blocks graded 0
        ctx.link_event("rds", {"a": g[0], "b": g[1], "c": g[2], "d": g[3], "e": [0, 0, 0, 0]})
    value, doc = ctx.states("radio_rds")[-1]
    assert value == "ALPHA FM" and doc["pi"] == "D311"


def test_service_status_poll_reports_signal_lost_and_regained(
        radio: tuple[RadioService, FakeTunerLink, FakeContext]) -> None:
    svc, link, ctx = radio
    link.rssi_override = 12
    svc._poll()  # what the worker does every status_interval while idle
    assert ctx.events[-1]["event"] == "signal_lost" and ctx.states()[-1][1]["station"] is False
    svc._poll()
    assert [e["event"] for e in ctx.events].count("signal_lost") == 1
    link.rssi_override = 50
    svc._poll()
    assert ctx.events[-1] == {**ctx.events[-1], "event": "signal_regained", "rssi": 50}
    assert ctx.states()[-1][1]["rssi"] == 50


def test_service_power_off_refuses_tuning_and_power_on_restores(
        radio: tuple[RadioService, FakeTunerLink, FakeContext]) -> None:
    svc, link, _ = radio
    off = cmd(svc, {"cmd": "power", "on": False})
    assert off["state"]["value"] is None and off["state"]["power"] is False and link.powered is False
    refused = cmd(svc, {"cmd": "tune", "mhz": 91.7})
    assert refused["code"] == "POWERED_OFF"
    assert cmd(svc, {"cmd": "volume", "value": 5})["state"]["volume"] == 5  # settings still apply
    on = cmd(svc, {"cmd": "power", "on": "on"})
    assert on["state"]["value"] == 88.4 and on["state"]["power"] is True and link.powered is True


def test_service_band_change_retunes_onto_the_new_raster(
        radio: tuple[RadioService, FakeTunerLink, FakeContext]) -> None:
    svc, link, _ = radio
    reply = cmd(svc, {"cmd": "band", "region": "us"})
    state = reply["state"]
    assert state["band"] == "us" and state["step_khz"] == 200 and state["max_mhz"] == 107.9
    assert state["value"] == 88.3 and state["deemphasis_us"] == 75
    assert ("tuner.config", {"band": 0, "spacing": 0, "deemph": 75}) in link.calls  # RDA: 100 kHz chip raster
    assert cmd(svc, {"cmd": "tune", "mhz": 88.4})["code"] == "MISALIGNED"
    assert svc.band_limits() == (87.5, 107.9, 0.2)


def _rda_groups(ctx: FakeContext, groups: list[tuple[int, int, int, int]]) -> None:
    assert ctx.link_event is not None
    for g in groups:
        ctx.link_event("rds", {"a": g[0], "b": g[1], "c": g[2], "d": g[3], "e": [0, 0, None, None]})


def test_service_remembers_confirmed_station_names_across_retunes_and_restarts(tmp_path: Path) -> None:
    """RDA5807M: eight 0A groups on the first visit; four on every later one, even after a restart."""
    groups = ps_groups(0xD311, "ALPHA FM", pty=10)
    link = FakeTunerLink()
    ctx = FakeContext(link, tmp_path)
    svc = RadioService(RadioConfig(chip="rda5807m", frequency=88.4, status_interval=60))
    svc.start(ctx)
    try:
        ctx.wait(lambda: any(v == 88.4 for v, _ in ctx.states()))
        _rda_groups(ctx, groups)
        assert ctx.states("radio_rds")[-1][0] is None  # once each: not confirmed
        _rda_groups(ctx, groups)
        assert ctx.states("radio_rds")[-1][0] == "ALPHA FM"
        cmd(svc, {"cmd": "tune", "mhz": 91.7})  # saves what was learnt
        saved = json.loads((tmp_path / "radio_rds_memory.json").read_text())
        assert saved["texts"] == [{"pi": "D311", "kind": "ps", "raw": b"ALPHA FM".hex(), "text": "ALPHA FM"}]
        assert svc.diagnostics()["rds"]["names_remembered"] == 1
        cmd(svc, {"cmd": "tune", "mhz": 88.4})
        _rda_groups(ctx, groups)
        assert ctx.states("radio_rds")[-1][0] == "ALPHA FM"  # once each: remembered
    finally:
        svc.close()

    ctx2 = FakeContext(FakeTunerLink(), tmp_path)
    svc2 = RadioService(RadioConfig(chip="rda5807m", frequency=88.4, status_interval=60))
    svc2.start(ctx2)
    try:
        ctx2.wait(lambda: any(v == 88.4 for v, _ in ctx2.states()))
        _rda_groups(ctx2, groups)
        assert ctx2.states("radio_rds")[-1][0] == "ALPHA FM"
    finally:
        svc2.close()
