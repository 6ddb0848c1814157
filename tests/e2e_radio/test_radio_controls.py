"""The front panel: bouncy hwsim buttons and a quadrature encoder drive the radio like MQTT commands."""

from __future__ import annotations

from collections.abc import Callable

from tests.e2e_radio.radiohost import RadioHost


def test_radio_buttons_and_encoder_seek_mute_and_set_the_volume(radio_host: Callable[..., RadioHost]) -> None:
    host = radio_host(seek_up_pin=16, mute_pin=13, encoder_a_pin=19, encoder_b_pin=26)
    mark = host.mark()
    host.control("radio_seek_up/click", "0.1")
    done = host.wait_event(lambda e: e["event"] == "seek_done", timeout=10, after=mark)
    assert done["mhz"] == 91.7  # one seek per press, despite the contact bounce

    mark = host.mark()
    host.control("radio_encoder/turn", "3")
    host.wait_state(lambda s: s["volume"] == 11, after=mark)
    host.control("radio_encoder/turn", "-5")
    host.wait_state(lambda s: s["volume"] == 6, after=mark)

    mark = host.mark()
    host.control("radio_mute/click", "0.1")
    host.wait_state(lambda s: s["mute"] is True, after=mark)
    host.control("radio_mute/click", "0.1")
    host.wait_state(lambda s: s["mute"] is False, after=mark)
    assert not [e for e in (m.json() for m in host.sub.messages[mark:] if m.topic.endswith("/radio/event"))
                if e["event"] == "seek_done"]
