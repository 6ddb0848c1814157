"""The radio over MQTT against hwsim: tune, precise errors that change nothing, seek, scan, RDS."""

from __future__ import annotations

from collections.abc import Callable

from tests.e2e_radio.radiohost import RadioHost


def test_radio_tune_replies_with_id_and_publishes_tuned_state(radio_host: Callable[..., RadioHost]) -> None:
    host = radio_host()
    mark = host.mark()
    reply = host.cmd({"cmd": "tune", "mhz": "91.7"})
    assert reply["ok"] is True and reply["id"].startswith("t") and reply["cmd"] == "tune"
    assert reply["state"]["value"] == 91.7 and reply["state"]["station"] is True
    assert reply["state"]["rssi"] == 57 and reply["state"]["link"] == "up"
    host.wait_event(lambda e: e["event"] == "tuned" and e["mhz"] == 91.7, after=mark)
    state = host.wait_state(lambda s: s["value"] == 91.7, after=mark)
    assert state["seq"] > 0 and state["unit"] == "MHz" and state["chip"] == "rda5807m"
    rds = host.wait_rds(lambda d: d["ps"] == "KLASSIK", timeout=10, after=mark)
    assert rds["value"] == "KLASSIK" and rds["pi"] == "D412"


def test_radio_bad_commands_get_precise_errors_and_change_nothing(radio_host: Callable[..., RadioHost]) -> None:
    host = radio_host()
    before = host.cmd({"cmd": "status"})["state"]
    mark = host.mark()

    err = host.cmd({"cmd": "tune", "mhz": 87.0})
    assert err["ok"] is False and err["code"] == "OUT_OF_BAND"
    assert err["details"]["min_mhz"] == 87.5 and err["details"]["max_mhz"] == 108.0

    err = host.cmd({"cmd": "tune", "mhz": 101.15})
    assert err["code"] == "MISALIGNED"
    assert err["details"]["below_mhz"] == 101.1 and err["details"]["above_mhz"] == 101.2

    err = host.cmd({"cmd": "warp", "to": 9})
    assert err["code"] == "BAD_COMMAND" and "tune" in err["details"]["commands"]

    err = host.cmd(b'{"cmd": "tune", "mhz": ')
    assert err["code"] == "BAD_JSON" and err["ok"] is False

    assert host.cmd({"cmd": "volume", "value": 16})["code"] == "RANGE"
    assert host.cmd({"cmd": "tune", "freq": 99.9})["code"] == "BAD_VALUE"
    assert host.cmd({"cmd": "spacing", "khz": 30})["code"] == "UNSUPPORTED"
    assert host.cmd({"cmd": "preset_recall", "slot": 3})["code"] == "NOT_FOUND"

    after = host.cmd({"cmd": "status"})["state"]
    for key in ("value", "volume", "mute", "band", "step_khz"):
        assert after[key] == before[key], key
    assert not [s for s in host.states(mark) if s["value"] != before["value"]]


def test_radio_seek_up_finds_the_next_station(radio_host: Callable[..., RadioHost]) -> None:
    host = radio_host()
    mark = host.mark()
    reply = host.cmd({"cmd": "seek", "dir": "up"})
    assert reply["ok"] and reply["state"]["busy"] == "seek"
    done = host.wait_event(lambda e: e["event"] == "seek_done", timeout=10, after=mark)
    assert done["found"] is True and done["mhz"] == 91.7
    state = host.wait_state(lambda s: s["value"] == 91.7 and s["busy"] is None, after=mark)
    assert state["station"] is True
    assert any(e for e in (m.json() for m in host.sub.messages[mark:] if m.topic.endswith("/event"))
               if e["event"] == "seek_progress")


def test_radio_scan_lists_the_stations_and_refuses_tune_while_busy(radio_host: Callable[..., RadioHost]) -> None:
    host = radio_host(scan_rds_time="1.5s")
    host.control("radio/time_scale", "0.05")  # the chip seeks 20x faster; RDS keeps its rate
    mark = host.mark()
    reply = host.cmd({"cmd": "scan"})
    assert reply["ok"] and reply["state"]["busy"] == "scan"
    busy = host.cmd({"cmd": "tune", "mhz": 99.9})
    assert busy["code"] == "BUSY" and busy["details"]["busy"] == "scan"
    assert host.cmd({"cmd": "volume", "delta": -2})["state"]["volume"] == 6  # volume is allowed
    done = host.wait_event(lambda e: e["event"] == "scan_done", timeout=30, after=mark)
    found = {s["mhz"]: s for s in done["stations"]}
    assert done["cancelled"] is False
    assert {88.4, 91.7, 95.1, 99.9, 101.3, 107.9} <= set(found), found
    assert 87.2 not in found  # below the europe band
    assert found[88.4]["pi"] == "D311" and found[88.4]["ps"] == "ALPHA FM" and found[88.4]["stereo"] is True
    assert found[99.9]["stereo"] is False and found[99.9]["ps"] == "NEWS 24"
    assert found[91.7]["rssi"] == 57
    host.wait_state(lambda s: s["value"] == 88.4 and s["busy"] is None, after=mark)


def test_radio_cancel_stops_a_scan(radio_host: Callable[..., RadioHost]) -> None:
    host = radio_host()
    mark = host.mark()
    assert host.cmd({"cmd": "scan"})["ok"]
    host.wait_event(lambda e: e["event"] == "scan_progress", timeout=10, after=mark)
    reply = host.cmd({"cmd": "cancel"})
    assert reply["ok"] and reply["cancelled"] == "scan"
    done = host.wait_event(lambda e: e["event"] == "scan_done", timeout=10, after=mark)
    assert done["cancelled"] is True
    host.wait_state(lambda s: s["value"] == 88.4 and s["busy"] is None, after=mark)


def test_radio_and_entities_refuse_an_oversized_payload_alike(radio_host: Callable[..., RadioHost]) -> None:
    # issue 15: 1 MB got TOO_LARGE from an entity but BAD_JSON from the radio, in two shapes.
    from tests.e2e_radio.radiohost import BASE

    host = radio_host()
    big = b'{"cmd": "status", "pad": "' + b"x" * 1_000_000 + b'"}'
    radio = host.cmd(big)
    mark = host.mark()
    host.sub.publish(f"{BASE}/some_lamp/set", big)
    entity = host._wait(f"{BASE}/some_lamp/set/reply", lambda d: True, 10.0, mark, "the entity's reply")
    expected = {"ok": False, "code": "TOO_LARGE",
                "message": f"command payload is {len(big)} bytes; the limit is 4096",
                "details": {"bytes": len(big), "limit": 4096}}
    assert radio == expected and entity == expected
