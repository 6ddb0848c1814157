"""hwsim radio/add with recorded groups: `groups` and `groups_file`, looping, lost blocks, errors."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from hwsim.chips.radio_world import RadioWorld, SimClock, Station
from hwsim.control import ControlRegistry
from hwsim.radio_controls import parse_mhz, register_radio_controls

# YLE X3M (fi) 2016-09-15, from redsea's test/components-hex.cc (MIT; tests/vectors/README.md).
X3M = ["6204 0130 966B 594C", "6204 0131 93CD 4520", "6204 0132 E472 5833", "6204 0137 966B 4D20"]


def _setup() -> tuple[ControlRegistry, RadioWorld]:
    world = RadioWorld([], clock=SimClock(), seed=3)
    reg = ControlRegistry()
    register_radio_controls(reg, world, SimpleNamespace(time_scale=1.0))
    return reg, world


def _add(reg: ControlRegistry, doc: dict[str, object]) -> dict[str, object]:
    return reg.dispatch("radio/add", json.dumps(doc))


def test_radio_add_groups_broadcasts_them_in_order_looping() -> None:
    reg, world = _setup()
    reply = _add(reg, {"mhz": 93.3, "groups": X3M})
    assert reply["ok"], reply
    value = reply["value"]
    assert isinstance(value, dict) and value["pi"] == 0x6204 and value["recorded_groups"] == 4
    station = world.station(93300)
    assert station is not None
    sent = [world.next_group(station, 60.0) for _ in range(9)]
    expected = [tuple(int(w, 16) for w in g.split()) for g in X3M]
    assert [blocks for blocks, _ in sent] == (expected * 3)[:9]
    assert all(errors == (0, 0, 0, 0) for _, errors in sent)


def test_radio_add_groups_file_and_lost_blocks(tmp_path: Path) -> None:
    path = tmp_path / "x3m.spy"
    path.write_text("<recorder=RDS Spy>\n\n6204 0130 ---- 594C @2016/09/15 12:00:00.00\n"
                    + "\n".join(X3M[1:]) + "\n")
    reg, world = _setup()
    assert _add(reg, {"mhz": "93.3 MHz", "groups_file": str(path)})["ok"]
    station = world.station(93300)
    assert station is not None
    blocks, errors = world.next_group(station, 60.0)
    assert (blocks[0], blocks[1], blocks[3]) == (0x6204, 0x0130, 0x594C)
    assert errors == (0, 0, 3, 0)  # the lost block arrives uncorrectable


def test_radio_recorded_groups_get_the_world_error_rate_on_top() -> None:
    reg, world = _setup()
    assert _add(reg, {"mhz": 93.3, "groups": X3M, "error_rate": 0.5})["ok"]
    station = world.station(93300)
    assert station is not None
    graded = [world.next_group(station, 60.0)[1] for _ in range(200)]
    damaged = sum(1 for e in graded for g in e if g)
    assert 250 < damaged < 550  # ~ half of 800 blocks


@pytest.mark.parametrize(("doc", "message"), [
    ({"mhz": 93.3, "groups": ["6204 0130 966B"]}, "groups: line 1: a group is four blocks"),
    ({"mhz": 93.3, "groups": ["6204 0130 966B 59ZZ"]}, "four hex digits"),
    ({"mhz": 93.3, "groups": "6204 0130 966B 594C"}, "groups must be a list"),
    ({"mhz": 93.3, "groups": []}, "no groups"),
    ({"mhz": 93.3, "groups_file": "/nonexistent/x.spy"}, "groups_file /nonexistent/x.spy"),
    ({"mhz": 93.3, "groups": X3M, "groups_file": "x"}, "not both"),
    ({"mhz": "ninety"}, "mhz must be MHz"),
    ({"mhz": 93.3001}, "more precision than 1 kHz"),
])
def test_radio_add_refuses_bad_recordings(doc: dict[str, object], message: str) -> None:
    reg, world = _setup()
    reply = _add(reg, doc)
    assert not reply["ok"] and message in str(reply["error"])
    assert world.stations == []


def test_radio_controls_parse_mhz_on_their_own() -> None:
    assert parse_mhz(101.3) == 101300 and parse_mhz("87.5 MHz") == 87500 and parse_mhz(76) == 76000
    for bad in (True, None, "abc", float("nan"), 1000):
        with pytest.raises(ValueError):
            parse_mhz(bad)


def test_radio_generated_station_still_has_no_recording() -> None:
    world = RadioWorld([Station(88400, pi=0xD311, ps="ALPHA FM", clock=False)], clock=SimClock())
    blocks, _ = world.next_group(world.stations[0], 60.0)
    assert blocks[0] == 0xD311 and blocks[1] >> 12 == 0


def test_radio_add_station_with_ecc_language_ptyn_and_rtplus() -> None:
    from device.radio.rds.decoder import RdsDecoder  # the daemon's decoder reads what hwsim sends

    reg, world = _setup()
    doc = {"mhz": 94.0, "pi": "D3A3", "ps": "EXAMPLE", "radiotext": "The Examples - Test Pattern",
           "ecc": "E0", "language": 8, "ptyn": "Charts", "rtplus": True}
    assert _add(reg, doc)["ok"]
    station = world.station(94000)
    assert station is not None and station.describe()["ptyn"] == "Charts"
    dec = RdsDecoder()
    for _ in range(400):
        blocks, errors = world.next_group(station, 60.0)
        dec.feed(*blocks, errors=errors)
    st = dec.state.as_dict()
    assert (st["ps"], st["ecc"], st["country"], st["language"], st["ptyn"]) == (
        "EXAMPLE ", "E0", "DE", "German", "Charts")
    assert (st["artist"], st["title"]) == ("The Examples", "Test Pattern")


def test_radio_add_refuses_bad_extras() -> None:
    reg, _world = _setup()
    assert "ecc must fit 8 bits" in str(_add(reg, {"mhz": 94.0, "ecc": "1E0"})["error"])
    assert "ptyn must be a text" in str(_add(reg, {"mhz": 94.0, "ptyn": "much too long"})["error"])
