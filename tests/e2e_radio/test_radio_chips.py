"""Both chips through the same daemon: the Si4703 (610 ms power-up) as well as the RDA5807M."""

from __future__ import annotations

from collections.abc import Callable

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
