"""Both chips through the same daemon: the Si4703 (610 ms power-up) as well as the RDA5807M."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.e2e_radio.radiohost import RadioHost


def test_radio_si4703_tunes_and_shows_ps_and_radiotext(radio_host: Callable[..., RadioHost]) -> None:
    host = radio_host(chip="si4703")
    state = host.wait_state(lambda s: s["value"] == 88.4)
    assert state["chip"] == "si4703" and state["stereo"] is True and state["rssi"] == 63
    rds = host.wait_rds(lambda d: d["ps"] == "ALPHA FM" and d["radiotext"] is not None, timeout=15)
    assert rds["radiotext"].startswith("ALPHA FM - the hits") or rds["radiotext"].startswith("Now:")
    assert rds["pty_name"] == "Pop music" and rds["pi"] == "D311"
    reply = host.cmd({"cmd": "tune", "mhz": 99.9})
    assert reply["state"]["value"] == 99.9 and reply["state"]["stereo"] is False


def test_radio_rda5807m_reaches_87_mhz_in_its_own_band(radio_host: Callable[..., RadioHost]) -> None:
    host = radio_host(region="rda_87", frequency=87.2)
    state = host.wait_state(lambda s: s["value"] == 87.2)
    assert state["min_mhz"] == 87.0 and state["band"] == "rda_87"
    host.wait_rds(lambda d: d["ps"] == "LOWBAND", timeout=10)
    # An unknown region is refused with the regions this chip has.
    err = host.cmd({"cmd": "band", "region": "moon"})
    assert err["code"] == "UNSUPPORTED" and "europe" in err["details"]["supported"]


@pytest.mark.parametrize("chip", ["si4703", "rda5807m"])
def test_radio_japan_reaches_95_mhz_on_both_chips(radio_host: Callable[..., RadioHost], chip: str) -> None:
    """Issue 10, bug 5: japan is 76-95 MHz on both chips (their 76-108 MHz bands, limited
    by the band plan). 93.0 was refused before; a wrapping seek up from 94.0 must not stop
    on the stations above 95 MHz the chip can hear, but wrap to the lowest one (87.2)."""
    host = radio_host(chip=chip, region="japan", frequency=80.0)
    state = host.wait_state(lambda s: s["value"] == 80.0)
    assert (state["min_mhz"], state["max_mhz"], state["band"]) == (76.0, 95.0, "japan"), state
    assert host.cmd({"cmd": "tune", "mhz": 93.0})["state"]["value"] == 93.0
    err = host.cmd({"cmd": "tune", "mhz": 95.1})
    assert err["code"] == "OUT_OF_BAND" and err["details"]["max_mhz"] == 95.0, err
    host.cmd({"cmd": "tune", "mhz": 94.0})
    mark = host.mark()
    assert host.cmd({"cmd": "seek", "dir": "up"})["ok"]
    done = host.wait_event(lambda e: e.get("event") == "seek_done", timeout=30, after=mark)
    assert done["found"] and done["mhz"] == 87.2, (chip, done)


def test_radio_oirt_band_on_the_rda5807m(radio_host: Callable[..., RadioHost]) -> None:
    """Issue 10, bug 5: the RDA5807M's 65-76 MHz band is the region `oirt` (25 kHz raster)."""
    host = radio_host(region="oirt", frequency=66.45)
    state = host.wait_state(lambda s: s["value"] == 66.45)
    assert (state["min_mhz"], state["max_mhz"], state["band"]) == (65.0, 76.0, "oirt"), state
    err = host.cmd({"cmd": "tune", "mhz": 66.44})
    assert err["code"] == "MISALIGNED" and err["details"]["above_mhz"] == 66.45, err
