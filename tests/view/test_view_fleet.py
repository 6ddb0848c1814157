"""`pi2mqtt watch` with a fleet of 50 devices on the broker: the list, sort, filter and the
drill-down, at 80x24 through a pseudo-terminal (issue 12); and the pure parts."""

from __future__ import annotations

import json
import re

from device.view.fleet import FleetState, alarms, fleet_rows, render_fleet
from device.view.viewmodel import ViewModel
from tests.mosquitto import Mosquitto
from tests.mqttwait import Subscriber
from tests.view.test_view_radio import Screen

N = 50


def reading(value: object, seq: int = 1) -> bytes:
    return json.dumps({"value": value, "ts": "2026-12-04T10:00:00.000Z", "seq": seq, "unit": "°C"}).encode()


def fleet_model(now: float) -> ViewModel:
    m = ViewModel()
    for i in range(N):
        dev = f"gh-{i:02d}"
        m.apply(f"pi2mqtt/{dev}/status", b"offline" if i in (7, 31) else b"online", now - 1)
        m.apply(f"pi2mqtt/{dev}/temp", reading(None if i == 12 else 20.0 + i / 10), now - (300 if i == 40 else 1))
    return m


def test_fleet_alarms_sort_and_filter() -> None:
    now = 1_000_000.0
    m = fleet_model(now)
    assert alarms(m.devices["gh-07"], now) == ["offline"]
    assert alarms(m.devices["gh-12"], now) == ["1 failing"]
    assert alarms(m.devices["gh-03"], now) == []
    state = FleetState()
    assert [d.id for d in fleet_rows(m, state, now)][:3] == ["gh-07", "gh-12", "gh-31"]  # alarms first
    state.sort = "id"
    assert fleet_rows(m, state, now)[0].id == "gh-00"
    state.filter = "offline"
    assert [d.id for d in fleet_rows(m, state, now)] == ["gh-07", "gh-31"]


def test_fleet_render_fits_80x24_and_scrolls_with_the_cursor() -> None:
    now = 1_000_000.0
    m = fleet_model(now)
    state = FleetState(sort="id")
    for _ in range(30):
        state.handle("down", [d.id for d in fleet_rows(m, state, now)])
    lines = render_fleet(m, state, 80, 24, now=now, source="mqtt://b").renderables
    assert len(lines) == 24
    texts = [str(t) for t in lines]
    assert all(len(t) <= 80 for t in texts)
    assert any(t.startswith("▶ gh-30") for t in texts)  # the cursor row stays on screen
    assert texts[-1].rstrip().endswith("of 50")


def test_watch_fleet_of_50_through_a_pty(broker: Mosquitto) -> None:
    pub = Subscriber(broker.port).connect()
    for i in range(N):
        dev = f"gh-{i:02d}"
        pub.publish(f"pi2mqtt/{dev}/status", "offline" if i in (7, 31) else "online", retain=True)
        pub.publish(f"pi2mqtt/{dev}/temp", reading(None if i == 12 else 20.0 + i / 10), retain=True)
    screen = Screen(broker.url)
    try:
        text = screen.read_until(r"50 devices.*48 online.*2 offline")
        assert "3 with alarms" in text and "gh-07" in text and "offline" in text
        screen.key("o")  # sort by id
        screen.read_until(r"sort id")
        screen.key("/offline\r")  # filter: the offline ones
        text = screen.read_until(r"1-2 of 2")
        assert "gh-07" in text and "gh-31" in text
        screen.key("\r")  # open the first: gh-07
        text = screen.read_until(r"Esc back to the fleet")
        assert "gh-07" in text and "temp" in text
        screen.key("\x1b")  # back (a lone Esc)
        screen.read_until(r"1-2 of 2")
        screen.key("\x1b")  # clear the filter
        text = screen.read_until(r"of 50")
        for line in re.split(r"[\r\n]+", text):
            assert len(line) <= 80
    finally:
        assert screen.close() == 0
        pub.close()
