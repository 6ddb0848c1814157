"""Presets over MQTT: set, recall, next/prev, delete, kept across a restart, found again by PI."""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.e2e_radio.radiohost import RadioHost


def test_radio_presets_set_recall_step_delete_and_survive_a_restart(
        radio_host: Callable[..., RadioHost]) -> None:
    host = radio_host()
    host.wait_rds(lambda d: d["ps"] == "ALPHA FM", timeout=10)
    one = host.cmd({"cmd": "preset_set"})  # named after the PS, first free slot
    assert one["ok"] and one["preset"] == {"slot": 1, "name": "ALPHA FM", "mhz": 88.4, "pi": "D311"}
    assert one["state"]["preset"] == "ALPHA FM"
    assert host.cmd({"cmd": "tune", "mhz": 99.9})["ok"]
    two = host.cmd({"cmd": "preset_set", "slot": 5, "name": "News"})
    assert two["preset"]["slot"] == 5 and two["preset"]["mhz"] == 99.9
    host.wait_presets(lambda p: [x["slot"] for x in p] == [1, 5])

    nxt = host.cmd({"cmd": "preset_next"})  # from slot 5, wrapping to slot 1
    assert nxt["ok"] and nxt["state"]["value"] == 88.4 and nxt["preset"]["slot"] == 1
    prv = host.cmd({"cmd": "preset_prev"})
    assert prv["state"]["value"] == 99.9 and prv["state"]["preset"] == "News"
    by_name = host.cmd({"cmd": "preset_recall", "name": "alpha fm"})
    assert by_name["state"]["value"] == 88.4

    assert host.cmd({"cmd": "preset_delete", "name": "News"})["ok"]
    host.wait_presets(lambda p: [x["slot"] for x in p] == [1])
    assert host.cmd({"cmd": "preset_recall", "slot": 5})["code"] == "NOT_FOUND"
    assert host.cmd({"cmd": "tune", "mhz": 107.9})["ok"]
    assert host.cmd({"cmd": "volume", "value": 3})["ok"]

    host.stop()
    mark = host.mark()
    state = host.start()
    assert state["value"] == 107.9 and state["volume"] == 3  # the last state is restored
    presets = host.wait_presets(lambda p: len(p) == 1, after=mark)
    assert presets == [{"slot": 1, "name": "ALPHA FM", "mhz": 88.4, "pi": "D311"}]
    assert host.cmd({"cmd": "preset_recall", "slot": 1})["state"]["value"] == 88.4


def test_radio_preset_follows_a_station_that_moved(radio_host: Callable[..., RadioHost]) -> None:
    host = radio_host(frequency=91.7)
    host.control("radio/time_scale", "0.05")
    host.wait_rds(lambda d: d["pi"] == "D412", timeout=10)
    assert host.cmd({"cmd": "preset_set", "name": "Klassik"})["preset"]["pi"] == "D412"
    assert host.cmd({"cmd": "tune", "mhz": 88.4})["ok"]
    host.control("radio/move", {"mhz": 91.7, "to": 93.3})
    mark = host.mark()
    reply = host.cmd({"cmd": "preset_recall", "name": "Klassik"})
    assert reply["ok"] and reply["state"]["value"] == 91.7
    moved = host.wait_event(lambda e: e["event"] in ("preset_moved", "preset_lost"), timeout=20, after=mark)
    assert moved["event"] == "preset_moved" and moved["mhz"] == 93.3 and moved["from_mhz"] == 91.7
    host.wait_state(lambda s: s["value"] == 93.3 and s["busy"] is None and s["preset"] == "Klassik",
                    after=mark)
    host.wait_presets(lambda p: p and p[0]["mhz"] == 93.3, after=mark)


def test_radio_remembers_station_names_by_pi(radio_host: Callable[..., RadioHost]) -> None:
    """The PS memory on hwsim: written to the state directory, keyed by PI (hwsim's radio/pi)."""
    host = radio_host()
    host.wait_rds(lambda d: d["ps"] == "ALPHA FM", timeout=10)
    assert host.cmd({"cmd": "tune", "mhz": 91.7})["ok"]  # saves what was learnt
    saved = json.loads((host.state_dir / "radio_rds_memory.json").read_text())
    assert {"pi": "D311", "kind": "ps", "raw": b"ALPHA FM".hex(), "text": "ALPHA FM"} in saved["texts"]
    host.wait_rds(lambda d: d["ps"] == "KLASSIK", timeout=10)
    host.control("radio/pi", {"mhz": 88.4, "pi": "E123"})  # now a station never heard
    mark = host.mark()
    assert host.cmd({"cmd": "tune", "mhz": 88.4})["ok"]
    host.wait_rds(lambda d: d["pi"] == "E123" and d["ps"] == "ALPHA FM", timeout=10, after=mark)
    assert host.cmd({"cmd": "tune", "mhz": 91.7})["ok"]
    pis = [s["pi"] for s in json.loads((host.state_dir / "radio_rds_memory.json").read_text())["texts"]]
    assert {"D311", "D412", "E123"} <= set(pis)
