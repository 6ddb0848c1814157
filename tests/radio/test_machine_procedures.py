"""The radio machine's long procedures with plain values: scan, preset PI search, seek fix-up; the link's codes."""

from __future__ import annotations

import pytest

import device.config  # noqa: F401  (loads device.config.model before device.radio.config)
from device.errors import CommandError, LinkError, LinkTimeout
from device.link import LinkMap
from device.radio.config import RadioConfig
from device.radio.link import TunerLink
from device.radio.presets import Preset
from hwsim.chips.rds_groups import ps_groups
from tests.radio.chipplay import Play

ALPHA = ps_groups(0xD311, "ALPHA FM", pty=10)


def _scan_play() -> Play:
    return Play(RadioConfig(chip="rda5807m", frequency=88.4, status_interval=60, scan_rds_time=2.0)).start()


def test_scan_lists_stations_with_their_rds_and_returns() -> None:
    play = _scan_play()
    reply = play.cmd({"cmd": "scan"})
    assert reply["state"]["busy"] == "scan"
    assert play.chip.calls[-2:] == [("tuner.tune", {"khz": 87500, "brief": True}),
                                    ("tuner.seek", {"up": True, "wrap": False})]
    assert play.cmd({"cmd": "tune", "mhz": 99.9})["code"] == "BUSY"
    assert play.cmd({"cmd": "volume", "delta": -2})["state"]["volume"] == 6  # allowed while it waits
    play.later(1.0)
    play.seek_done(88400)
    play.rds(ALPHA, grades=[0, 0, 0, 0])  # PI and PS at once: the scan goes on without waiting
    assert play.chip.calls[-1] == ("tuner.seek", {"up": True, "wrap": False})
    play.seek_done(91700)  # no RDS: given up after 0.8 s
    calls = len(play.chip.calls)
    play.later(0.79)
    assert len(play.chip.calls) == calls
    play.later(0.02)
    assert play.chip.calls[calls:] == [("tuner.seek", {"up": True, "wrap": False})]
    assert all(s[1]["busy"] == "scan" for s in play.states()[-1:])
    assert not play.states("radio_rds")[-1][0]  # a scan collects, it does not publish RDS
    play.seek_done(108000, found=False, band_limit=True)
    done = [e for e in play.events() if e["event"] == "scan_done"]
    assert len(done) == 1 and done[0]["cancelled"] is False
    assert done[0]["stations"] == [
        {"mhz": 88.4, "rssi": 63, "stereo": True, "pi": "D311", "ps": "ALPHA FM"},
        {"mhz": 91.7, "rssi": 57, "stereo": True, "pi": None, "ps": None},
    ]
    assert [e["event"] for e in play.events()[-2:]] == ["scan_done", "tuned"]
    assert play.chip.calls[-1] == ("tuner.tune", {"khz": 88400, "brief": True})
    assert play.states()[-1][1]["busy"] is None and play.states()[-1][0] == 88.4
    assert [e["found"] for e in play.events() if e["event"] == "scan_progress"] == [1, 2]


def test_cancel_stops_a_scan_and_returns() -> None:
    play = _scan_play()
    play.cmd({"cmd": "scan"})
    assert play.cmd({"cmd": "cancel"})["cancelled"] == "scan"
    done = [e for e in play.events() if e["event"] == "scan_done"]
    assert done and done[0]["cancelled"] is True and done[0]["stations"] == []
    assert play.chip.calls[-1] == ("tuner.tune", {"khz": 88400, "brief": True})
    assert play.cmd({"cmd": "tune", "mhz": 91.7})["ok"] is True


def test_scan_ends_when_the_link_goes_down() -> None:
    play = _scan_play()
    play.cmd({"cmd": "scan"})
    play.link("down")
    done = [e for e in play.events() if e["event"] == "scan_done"]
    assert done and done[0]["cancelled"] is True
    assert play.chip.calls[-1][0] == "tuner.seek"  # no call while the link is down


def _recall(pi: int = 0xD311) -> Play:
    play = Play().start(presets=(Preset(1, "Alpha", 88400, pi),))
    play.cmd({"cmd": "tune", "mhz": 99.9})
    reply = play.cmd({"cmd": "preset_recall", "slot": 1})
    assert reply["preset"] == {"slot": 1, "name": "Alpha", "mhz": 88.4, "pi": "D311"}
    return play


def test_preset_recall_with_the_right_pi_ends_quietly() -> None:
    play = _recall()
    play.rds(ALPHA, grades=[0, 0, 0, 0])
    play.later(5)
    assert not [e for e in play.events() if e["event"].startswith("preset_")]
    assert play.chip.calls[-1] == ("tuner.tune", {"khz": 88400, "brief": True})


def test_preset_search_follows_a_station_that_moved() -> None:
    play = _recall()
    play.rds(ps_groups(0xBEEF, "OTHER", pty=1), grades=[0, 0, 0, 0])  # another station on 88.4
    search = [e for e in play.events() if e["event"] == "preset_search"]
    assert search == [{"event": "preset_search", "slot": 1, "name": "Alpha", "pi": "D311", "heard_pi": "BEEF"}]
    assert play.states()[-1][1]["busy"] == "seek"
    assert play.cmd({"cmd": "tune", "mhz": 91.7})["code"] == "BUSY"
    assert play.chip.calls[-1] == ("tuner.seek", {"up": True, "wrap": True})
    play.seek_done(91700)
    play.rds(ALPHA, grades=[0, 0, 0, 0])
    moved = [e for e in play.events() if e["event"] == "preset_moved"]
    assert moved == [{"event": "preset_moved", "slot": 1, "name": "Alpha", "from_mhz": 88.4, "mhz": 91.7}]
    assert play.machine.presets() == [{"slot": 1, "name": "Alpha", "mhz": 91.7, "pi": "D311"}]
    assert play.saved("presets")["presets"][0]["khz"] == 91700
    assert play.states()[-1][1]["busy"] is None and play.states()[-1][0] == 91.7


def test_preset_search_gives_up_after_one_trip_round_the_band() -> None:
    play = _recall()
    play.later(1.5)  # no PI at all
    assert play.events()[-1]["event"] == "preset_search" and play.events()[-1]["heard_pi"] is None
    play.seek_done(91700)
    play.later(1.5)
    play.seek_done(99900)
    play.later(1.5)
    play.seek_done(88400)  # wrapped round to where it began
    lost = [e for e in play.events() if e["event"] == "preset_lost"]
    assert lost == [{"event": "preset_lost", "slot": 1, "name": "Alpha", "code": "NO_STATION",
                     "message": "PI D311 was not found on the band"}]
    assert play.chip.calls[-1] == ("tuner.tune", {"khz": 88400, "brief": True})
    assert play.states()[-1][1]["busy"] is None


def test_seek_that_stops_off_the_raster_seeks_on() -> None:
    play = Play().start()
    play.cmd({"cmd": "band", "region": "us"})  # odd tenths on the RDA5807M's 100 kHz raster
    play.cmd({"cmd": "seek", "dir": "up"})
    play.seek_done(88400)  # even tenth: not a US channel
    assert play.chip.calls[-1] == ("tuner.seek", {"up": True, "wrap": True})
    assert not [e for e in play.events() if e["event"] == "seek_done"]
    play.seek_done(88500)
    done = [e for e in play.events() if e["event"] == "seek_done"]
    assert done == [{"event": "seek_done", "mhz": 88.5, "found": True}]
    assert play.states()[-1][1]["busy"] is None


def test_seek_fix_up_settles_on_the_nearest_channel() -> None:
    play = Play().start()
    play.cmd({"cmd": "band", "region": "us"})
    play.cmd({"cmd": "seek", "dir": "up"})
    for _ in range(5):  # off the raster every time: after 4 more seeks it settles
        play.seek_done(88400)
    assert play.chip.calls[-1] == ("tuner.tune", {"khz": 88500, "brief": True})
    done = [e for e in play.events() if e["event"] == "seek_done"]
    assert done == [{"event": "seek_done", "mhz": 88.5, "found": False, "code": "NO_STATION"}]


class _Refusing:
    """A link whose every request fails with `error` (the LinkClient protocol)."""

    state = "up"
    peer = None

    def __init__(self, error: Exception) -> None:
        self.error = error

    def request(self, method: str, args: LinkMap | None = None, timeout: float = 0.5,
                retries: int = 3) -> LinkMap:
        raise self.error

    def counters(self) -> dict[str, int | float | str]:
        return {}

    def close(self) -> None:
        pass


@pytest.mark.parametrize(("error", "code"), [
    (CommandError("TIMEOUT", "no STC within 500 ms"), "TIMEOUT"),
    (CommandError("OUT_OF_BAND", "below"), "OUT_OF_BAND"),
    (CommandError("unknown_method", "tuner.tune"), "UNAVAILABLE"),
    (CommandError("io_error", "no ACK"), "UNAVAILABLE"),
    (LinkTimeout("no answer"), "TIMEOUT"),
    (LinkError("link is down"), "UNAVAILABLE"),
])
def test_tuner_link_keeps_the_firmware_codes(error: Exception, code: str) -> None:
    with pytest.raises(CommandError) as e:
        TunerLink(_Refusing(error)).call("tuner.tune", {"khz": 91700})
    assert e.value.code == code
    with pytest.raises(CommandError) as e:
        TunerLink(None).call("tuner.tune")
    assert e.value.code == "UNAVAILABLE"
