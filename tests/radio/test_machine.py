"""The radio machine driven with plain values: validation before hardware, BUSY, link down, RDS, persistence."""

from __future__ import annotations

from pathlib import Path

import pytest

import device.config  # noqa: F401  (loads device.config.model before device.radio.config)
from device.errors import CommandError
from device.radio.machine import ChipAnswered, CommandReceived, Started, Stopping, Tick
from device.radio.presets import Preset
from device.radio.state import RadioStore, Settings
from device.radio.steps import ChipRequest, CommandReply, PublishEvent, PublishState, SaveFile
from hwsim.chips.rds_groups import ps_groups
from tests.radio.chipplay import Play


@pytest.fixture
def play() -> Play:
    return Play().start()


def test_machine_boot_powers_up_configures_and_tunes(play: Play) -> None:
    methods = [m for m, _ in play.chip.calls]
    assert methods[:5] == ["tuner.info", "tuner.power", "tuner.config", "tuner.volume", "tuner.tune"]
    config = dict(play.chip.calls[2][1])
    assert config["band"] == 0 and config["spacing"] == 0 and config["deemph"] == 50
    assert play.chip.calls[4][1] == {"khz": 88400, "brief": True}
    value, doc = play.states()[-1]
    assert value == 88.4 and doc["rssi"] == 63 and doc["link"] == "up" and doc["busy"] is None
    assert play.events()[-1] == {"event": "tuned", "mhz": 88.4}


def test_machine_publishes_the_state_before_the_link_is_up() -> None:
    play = Play().start(link_up=False)
    assert play.chip.calls == []
    value, doc = play.states()[-1]
    assert value is None and doc["link"] == "down" and doc["power"] is None
    assert play.states("radio_presets") == [([], {})]


def test_machine_refused_commands_make_no_hardware_call(play: Play) -> None:
    calls, outputs = len(play.chip.calls), len(play.outputs)
    replies = [
        play.cmd({"cmd": "tune", "mhz": 108.1, "id": 7}),
        play.cmd({"cmd": "tune", "mhz": "99.95"}),
        play.cmd({"cmd": "volume", "value": 3, "delta": 1}),
        play.cmd({"cmd": "deemphasis", "us": 60}),
        play.cmd({"cmd": "band", "region": "mars"}),
        play.cmd({"cmd": "seek", "dir": "sideways"}),
        play.cmd(b"[1, 2]"),
        play.cmd(b"\xff"),
    ]
    codes = [r["code"] for r in replies]
    assert codes == ["OUT_OF_BAND", "MISALIGNED", "BAD_VALUE", "UNSUPPORTED", "UNSUPPORTED", "BAD_VALUE",
                     "BAD_JSON", "BAD_JSON"]
    assert replies[0]["id"] == 7 and replies[0]["cmd"] == "tune"
    assert replies[1]["details"] == {"below_mhz": 99.9, "above_mhz": 100.0, "step_khz": 100}
    assert len(play.chip.calls) == calls
    assert all(isinstance(o, CommandReply) for o in play.outputs[outputs:])  # nothing but the replies
    assert play.machine.diagnostics()["refused"] == 8


def test_machine_reply_comes_after_the_state_and_events_it_announces(play: Play) -> None:
    outs = play.send(CommandReceived(play.now, b'{"cmd": "tune", "mhz": 91.7, "id": "a"}'))
    kinds = [type(o).__name__ for o in outs]
    assert kinds.index("PublishState") < kinds.index("PublishEvent") < kinds.index("CommandReply")
    assert isinstance(outs[-1], CommandReply) and kinds.count("CommandReply") == 1
    saves = [o for o in outs if isinstance(o, SaveFile)]
    assert saves and saves[0].doc["settings"]["khz"] == 91700


def test_machine_busy_during_seek_except_volume_mute_cancel(play: Play) -> None:
    assert play.cmd({"cmd": "seek", "dir": "up"})["state"]["busy"] == "seek"
    busy = play.cmd({"cmd": "tune", "mhz": 91.7})
    assert busy["code"] == "BUSY" and busy["details"] == {"busy": "seek"}
    assert play.cmd({"cmd": "scan"})["code"] == "BUSY"
    assert play.cmd({"cmd": "preset_set", "name": "X"})["code"] == "BUSY"
    assert play.cmd({"cmd": "volume", "delta": 2})["state"]["volume"] == 10
    assert play.cmd({"cmd": "mute", "on": "toggle"})["state"]["mute"] is True
    play.event("tuner.seek_progress", {"khz": 90000})
    play.seek_done(91700)
    value, doc = play.states()[-1]
    assert value == 91.7 and doc["busy"] is None
    events = [e["event"] for e in play.events()]
    assert "seek_progress" in events and events[-2:] == ["seek_done", "tuned"]
    assert play.events()[-2]["found"] is True
    assert play.cmd({"cmd": "tune", "mhz": 99.9})["state"]["value"] == 99.9


def test_machine_cancel_ends_a_seek_with_cancelled(play: Play) -> None:
    play.cmd({"cmd": "seek", "dir": "down"})
    assert play.cmd({"cmd": "cancel"})["cancelled"] == "seek"
    assert play.chip.calls[-1][0] == "tuner.cancel"
    play.seek_done(87500, cancelled=True, found=False)
    done = [e for e in play.events() if e["event"] == "seek_done"][-1]
    assert done["cancelled"] is True and done["found"] is False


def test_machine_link_down_means_null_state_and_unavailable(play: Play) -> None:
    play.link("down")
    value, doc = play.states()[-1]
    assert value is None and doc["link"] == "down"
    assert play.cmd({"cmd": "tune", "mhz": 91.7})["code"] == "UNAVAILABLE"
    play.link("up")
    assert play.states()[-1][0] == 88.4  # restored after the link came back
    assert [m for m, _ in play.chip.calls[-5:]] == ["tuner.info", "tuner.power", "tuner.config",
                                                    "tuner.volume", "tuner.tune"]


def test_machine_rds_publishes_ps_only_when_confirmed_and_clears_on_retune(play: Play) -> None:
    groups = ps_groups(0xD311, "ALPHA FM", pty=10)
    play.rds(groups)  # every segment once, C and D ungraded (RDA5807M): not yet confirmed
    assert all(v is None for v, _ in play.states("radio_rds"))
    play.rds(groups)
    value, doc = play.states("radio_rds")[-1]
    assert value == "ALPHA FM" and doc["pi"] == "D311"
    assert [e["value"] for e in play.events() if e.get("field") == "ps"] == ["ALPHA FM"]
    play.cmd({"cmd": "tune", "mhz": 91.7})
    value, doc = play.states("radio_rds")[-1]
    assert value is None and doc["pi"] is None


def test_machine_drops_rds_groups_that_arrived_before_the_tune_was_answered(play: Play) -> None:
    before = play.now
    play.now += 1.0
    play.cmd({"cmd": "tune", "mhz": 91.7})
    for g in ps_groups(0xD311, "ALPHA FM", pty=10) * 2:  # the old station's groups, queued behind the tune
        play.event("rds", {"a": g[0], "b": g[1], "c": g[2], "d": g[3], "e": [0, 0, 0, 0]}, now=before + 0.5)
    assert play.states("radio_rds")[-1][1]["pi"] is None
    assert play.machine.diagnostics()["rds_groups"] == 0


def test_machine_rds_error_free_groups_on_a_strong_signal_show_ps_at_once(play: Play) -> None:
    play.rds(ps_groups(0xD311, "ALPHA FM", pty=10), grades=[0, 0, 0, 0])  # each segment once, all graded 0
    value, doc = play.states("radio_rds")[-1]
    assert value == "ALPHA FM" and doc["pi"] == "D311"


def test_machine_firmware_errors_keep_their_code(play: Play) -> None:
    play.chip.fail["tuner.tune"] = CommandError("TIMEOUT", "no STC within 500 ms")
    reply = play.cmd({"cmd": "tune", "mhz": 91.7})
    assert reply["code"] == "TIMEOUT" and "STC" in str(reply["message"])
    assert play.states()[-1][0] == 88.4


def test_machine_status_poll_reports_signal_lost_and_regained(play: Play) -> None:
    assert play.machine.deadline is not None
    play.chip.rssi_override = 12
    play.at(play.machine.deadline)  # the status poll, every status_interval while idle
    assert play.chip.calls[-1] == ("tuner.status", {"brief": True})
    assert play.events()[-1]["event"] == "signal_lost" and play.states()[-1][1]["station"] is False
    play.later(60)
    assert [e["event"] for e in play.events()].count("signal_lost") == 1
    play.chip.rssi_override = 50
    play.later(60)
    assert play.events()[-1] == {"event": "signal_regained", "rssi": 50}
    assert play.states()[-1][1]["rssi"] == 50


def test_machine_never_makes_a_command_wait_for_a_status_poll(play: Play) -> None:
    play.answer_polls = False
    outs = play.later(60)
    polls = [o for o in outs if isinstance(o, ChipRequest)]
    assert polls == [ChipRequest("tuner.status", {"brief": True}, aside=True)]
    assert play.machine.deadline is None  # no second poll while one is out
    play.chip.rssi_override = 12  # what the status will say
    assert play.cmd({"cmd": "volume", "value": 3})["ok"] is True  # taken while the poll is out
    play.answer_poll()
    assert play.events()[-1]["event"] == "signal_lost"
    play.later(60)
    play.cmd({"cmd": "tune", "mhz": 91.7})  # the tuner moves: the poll's answer is stale
    play.chip.khz, play.chip.rssi_override = 88400, 63
    states = len(play.states())
    play.answer_poll()
    assert len(play.states()) == states and play.states()[-1][0] == 91.7


def test_machine_poll_brings_a_tuner_that_lost_power_back_up(play: Play) -> None:
    play.chip.powered = False
    play.later(60)
    assert play.chip.calls[-1][0] == "tuner.tune" and play.chip.powered
    assert play.states()[-1][0] == 88.4


def test_machine_power_off_refuses_tuning_and_power_on_restores(play: Play) -> None:
    off = play.cmd({"cmd": "power", "on": False})
    assert off["state"]["value"] is None and off["state"]["power"] is False
    assert play.chip.powered is False
    assert play.cmd({"cmd": "tune", "mhz": 91.7})["code"] == "POWERED_OFF"
    assert play.cmd({"cmd": "volume", "value": 5})["state"]["volume"] == 5
    on = play.cmd({"cmd": "power", "on": "on"})
    assert on["state"]["value"] == 88.4 and on["state"]["power"] is True
    assert play.chip.powered is True


def test_machine_band_change_retunes_onto_the_new_raster(play: Play) -> None:
    state = play.cmd({"cmd": "band", "region": "us"})["state"]
    assert isinstance(state, dict)
    assert state["band"] == "us" and state["step_khz"] == 200 and state["max_mhz"] == 107.9
    assert state["value"] == 88.3 and state["deemphasis_us"] == 75
    assert ("tuner.config", {"band": 0, "spacing": 0, "deemph": 75}) in play.chip.calls  # RDA: 100 kHz raster
    assert play.cmd({"cmd": "tune", "mhz": 88.4})["code"] == "MISALIGNED"
    assert play.machine.band_limits() == (87.5, 107.9, 0.2)


def test_machine_presets_and_settings_persist(tmp_path: Path) -> None:
    play = Play().start()
    assert play.cmd({"cmd": "preset_set", "name": "Alpha"})["preset"] == {
        "slot": 1, "name": "Alpha", "mhz": 88.4, "pi": None}
    play.cmd({"cmd": "tune", "mhz": 99.9})
    play.cmd({"cmd": "volume", "value": 4})
    play.send(Stopping(play.now))
    store = RadioStore(tmp_path, "radio")
    for kind in ("settings", "presets"):
        store.save(kind, play.saved(kind))
    key = play.machine.state.config_key
    settings = store.load_settings(Settings(khz=88400), key)
    assert settings.khz == 99900 and settings.volume == 4

    again = Play().start(settings, tuple(store.load_presets()))
    assert ("tuner.volume", {"volume": 4, "mute": False}) in again.chip.calls
    assert again.states()[-1][0] == 99.9
    assert again.machine.presets() == [{"slot": 1, "name": "Alpha", "mhz": 88.4, "pi": None}]
    assert again.machine.band_limits() == (87.5, 108.0, 0.1)


def test_machine_remembers_confirmed_station_names_across_retunes_and_restarts() -> None:
    """RDA5807M: eight 0A groups on the first visit; four on every later one, even after a restart."""
    groups = ps_groups(0xD311, "ALPHA FM", pty=10)
    play = Play().start()
    play.rds(groups)
    assert play.states("radio_rds")[-1][0] is None  # once each: not confirmed
    play.rds(groups)
    assert play.states("radio_rds")[-1][0] == "ALPHA FM"
    play.cmd({"cmd": "tune", "mhz": 91.7})  # saves what was learnt
    texts = play.saved("rds_memory")["texts"]
    assert texts == [{"pi": "D311", "kind": "ps", "raw": b"ALPHA FM".hex(), "text": "ALPHA FM"}]
    rds = play.machine.diagnostics()["rds"]
    assert isinstance(rds, dict) and rds["names_remembered"] == 1
    play.cmd({"cmd": "tune", "mhz": 88.4})
    play.rds(groups)
    assert play.states("radio_rds")[-1][0] == "ALPHA FM"  # once each: remembered

    again = Play().start(rds_memory=texts)
    again.rds(groups)
    assert again.states("radio_rds")[-1][0] == "ALPHA FM"


def test_machine_learns_the_pi_of_a_preset_stored_before_rds() -> None:
    play = Play().start(presets=(Preset(1, "Alpha", 88400),))
    play.rds(ps_groups(0xD311, "ALPHA FM", pty=10), grades=[0, 0, 0, 0])
    assert play.machine.presets() == [{"slot": 1, "name": "Alpha", "mhz": 88.4, "pi": "D311"}]
    assert play.saved("presets") == {"presets": [{"slot": 1, "name": "Alpha", "khz": 88400, "pi": 0xD311}]}


def test_machine_takes_nothing_but_the_answer_while_a_chip_request_is_out() -> None:
    play = Play()
    outs = play.machine.send(Started(play.now, True, Settings(khz=88400)))
    assert isinstance(outs[-1], ChipRequest) and outs[-1].method == "tuner.info"
    with pytest.raises(RuntimeError):
        play.machine.send(Tick(play.now))
    assert isinstance(play.machine.send(ChipAnswered(play.now, {"chip": "rda5807m"}))[-1], ChipRequest)


def test_machine_stopping_saves_the_settings_and_publishes_nothing(play: Play) -> None:
    outs = play.send(Stopping(play.now))
    assert [type(o) for o in outs] == [SaveFile]
    assert not any(isinstance(o, PublishState | PublishEvent) for o in outs)

