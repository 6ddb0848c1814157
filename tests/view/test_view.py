"""The live view: the pure model, the 80x24 renderer, plain and live `watch` against real brokers."""

from __future__ import annotations

import fcntl
import io
import json
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console

from device.errors import BrokerError
from device.view import Seen, Summary, ViewModel, parse_urls, render, watch
from device.view.render import plain_line
from device.view.viewmodel import format_age, format_value, parse_ts, sparkline
from tests.mosquitto import Mosquitto, free_port, wait_port
from tests.mqttwait import Subscriber

REPO = Path(__file__).resolve().parents[2]


def reading(value: Any, unit: str | None = None, seq: int = 1) -> bytes:
    d: dict[str, Any] = {"value": value, "ts": "2026-11-21T10:00:00.123Z", "seq": seq}
    if unit:
        d["unit"] = unit
    return json.dumps(d).encode()


RADIO = {"value": 98.5, "ts": "2026-11-21T10:00:00.123Z", "seq": 3, "unit": "MHz", "power": True,
         "band": "europe", "min_mhz": 87.5, "max_mhz": 108.0, "step_khz": 100, "volume": 8, "mute": False,
         "softmute": True, "mono": False, "deemphasis_us": 50, "stereo": True, "rssi": 42, "snr": None,
         "station": True, "preset": "RADIO 1", "busy": None, "chip": "rda5807m", "link": "up"}
PRESETS = {"value": [{"slot": 1, "name": "RADIO 1", "mhz": 98.5, "pi": "C201"},
                     {"slot": 2, "name": "JAZZ", "mhz": 101.1, "pi": None}],
           "ts": "2026-11-21T10:00:00.123Z", "seq": 1}
RDS = {"value": "RADIO 1", "ts": "2026-11-21T10:00:00.123Z", "seq": 9, "ps": "RADIO 1 ",
       "radiotext": "Now playing: the news at ten", "pty": 1, "pty_name": "News", "pi": "C201",
       "tp": True, "ta": False}


def demo_model() -> ViewModel:
    m = ViewModel()
    m.apply("pi2mqtt/lab/status", b"online", 0.0)
    for i, v in enumerate([20.5, 21.0, 21.5, 22.0]):
        m.apply("pi2mqtt/lab/temperature", reading(v, "°C", seq=i), float(i))
    m.apply("pi2mqtt/lab/motion", reading(True), 2.0)
    m.apply("pi2mqtt/lab/radio", json.dumps(RADIO).encode(), 3.0)
    m.apply("pi2mqtt/lab/radio_rds", json.dumps(RDS).encode(), 3.0)
    m.apply("pi2mqtt/lab/radio_presets", json.dumps(PRESETS).encode(), 3.0)
    return m


# ---- model ----------------------------------------------------------------------

def test_model_tracks_status_entities_in_first_seen_order() -> None:
    m = demo_model()
    dev = m.devices["lab"]
    assert dev.status == "online"
    assert list(dev.entities) == ["temperature", "motion"]
    t = dev.entities["temperature"]
    assert (t.value, t.unit, t.seq, t.count, t.updated) == (22.0, "°C", 3, 4, 3.0)
    assert list(t.history) == [20.5, 21.0, 21.5, 22.0]
    assert list(dev.entities["motion"].history) == []  # booleans are not plotted


def test_model_returns_a_seen_record_per_reading() -> None:
    m = ViewModel()
    assert m.apply("pi2mqtt/a/humidity", reading(55.25, "%"), 1.0) == Seen("a", "humidity", "55.25", "%")
    assert m.apply("pi2mqtt/a/status", b"offline", 2.0) == Seen("a", "status", "offline")
    assert m.apply("pi2mqtt/a/door", reading(False), 3.0) == Seen("a", "door", "off")


def test_model_age_of_retained_reading_comes_from_its_ts() -> None:
    sent = parse_ts("2026-11-21T10:00:00.123Z")
    assert sent == pytest.approx(1795255200.123)
    m = ViewModel()
    m.apply("pi2mqtt/a/old", reading(1.0), sent + 7200, retained=True)
    m.apply("pi2mqtt/a/live", reading(1.0), sent + 7200)
    m.apply("pi2mqtt/a/future", reading(1.0), sent - 60, retained=True)  # device clock ahead
    ents = m.devices["a"].entities
    assert ents["old"].updated == sent
    assert ents["live"].updated == sent + 7200
    assert ents["future"].updated == sent - 60
    text = "\n".join(rendered_lines(m, now=sent + 7200))
    assert re.search(r"old\s+1\s+2h", text) and re.search(r"live\s+1\s+0\.0s", text)
    assert parse_ts("yesterday") is None


def test_model_radio_panel_fields() -> None:
    radio = demo_model().devices["lab"].radio
    assert radio is not None
    assert radio.frequency == 98.5
    assert radio.state["rssi"] == 42 and radio.state["stereo"] is True
    assert radio.rds["ps"] == "RADIO 1 " and radio.rds["pi"] == "C201"
    assert list(radio.rssi_history) == [42.0]
    assert [p["name"] for p in radio.presets] == ["RADIO 1", "JAZZ"]
    ents = demo_model().devices["lab"].entities
    assert "radio" not in ents and "radio_rds" not in ents and "radio_presets" not in ents


def test_model_counts_diagnostics_commands_replies_backfill_without_entities() -> None:
    m = ViewModel()
    m.apply("pi2mqtt/a/diagnostics", b'{"frames_ok": 3}', 1.0)
    m.apply("pi2mqtt/a/diagnostics/link", b'{"crc": 0}', 1.0)
    m.apply("pi2mqtt/a/led/set", b'{"value": true}', 1.0)
    m.apply("pi2mqtt/a/led/set/reply", b'{"ok": true}', 1.0)
    m.apply("pi2mqtt/a/temp/backfill", reading(1.0), 1.0)
    m.apply("pi2mqtt/a/radio/event", b'{"event": "tuned"}', 1.0)
    dev = m.devices["a"]
    assert (dev.diagnostics, dev.commands, dev.replies, dev.backfill) == (2, 1, 1, 1)
    assert dev.entities == {}
    assert dev.radio is not None and dev.radio.events == 1
    assert dev.messages == 6


@pytest.mark.parametrize(
    "payload",
    [b"", b"not json", b"\xff\xfe\x00", b"[1, 2]", b'{"no_value": 1}', b"NaN", b"1e999",
     b'{"value": {"nested": [1, 2]}}', b"[" * 5000, b'{"value": 1, "unit": 5, "seq": "x"}'],
)
def test_model_tolerates_garbage_payloads(payload: bytes) -> None:
    m = ViewModel()
    m.apply("pi2mqtt/a/weird", payload, 1.0)
    m.apply("pi2mqtt/a/status", payload, 1.0)
    m.apply("pi2mqtt/a/radio", payload, 1.0)
    m.apply("pi2mqtt/a/radio_rds", payload, 1.0)
    m.apply("pi2mqtt/a/radio_presets", payload, 1.0)
    assert "weird" in m.devices["a"].entities
    for e in m.devices["a"].entities.values():
        assert all(isinstance(v, float) for v in e.history)
    render(m, 80, 24)  # and it still renders


def test_render_and_plain_lines_neutralise_control_characters() -> None:
    m = ViewModel()
    seen = m.apply("pi2mqtt/a\x1b]0;x/evil\x1c", reading("\x1b[2J\nboom\u2028", "\x07"), 1.0)
    assert seen is not None
    line = plain_line("10:00:00", seen)
    assert "\x1b" not in line and "\n" not in line and "\x07" not in line and "boom" in line
    console = Console(file=io.StringIO(), width=80, height=24, color_system="truecolor", force_terminal=True)
    console.print(render(m, 80, 24))
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert "\x1b[2J" not in out and "\x1b]0;" not in out and "\x07" not in out and "boom" in out


def test_model_ignores_topics_outside_device_shape() -> None:
    m = ViewModel("pi2mqtt")
    for topic in ("hwsim/a/button", "pi2mqtt", "pi2mqtt/a", "pi2mqtt//x", "pi2mqtt/a//b", "pi2mqttx/a/b"):
        assert m.apply(topic, reading(1), 1.0) is None
    assert m.devices == {} and m.ignored == 6 and m.total == 6


@settings(max_examples=200, deadline=None)
@given(
    topics=st.lists(
        st.tuples(
            st.lists(st.sampled_from(["pi2mqtt", "a", "b", "radio", "radio_rds", "radio_presets", "event", "status", "set", "reply",
                                      "diagnostics", "", "ünï", "x" * 40]), max_size=5),
            st.one_of(st.binary(max_size=60), st.builds(lambda v: reading(v), st.one_of(
                st.floats(allow_nan=True), st.integers(), st.text(max_size=80), st.booleans(), st.none()))),
        ),
        max_size=30,
    ),
    width=st.integers(20, 160),
    height=st.integers(2, 60),
)
def test_model_and_render_never_raise_and_fit(topics: list[tuple[list[str], bytes]], width: int, height: int) -> None:
    m = ViewModel()
    for i, (levels, payload) in enumerate(topics):
        m.apply("/".join(["pi2mqtt", *levels]), payload, float(i))
    lines = rendered_lines(m, width, height)
    assert len(lines) <= height
    assert all(cell_len(line) <= width for line in lines)


# ---- helpers for rendering -------------------------------------------------------

def rendered_lines(m: ViewModel, width: int = 80, height: int = 24, now: float | None = None) -> list[str]:
    console = Console(record=True, width=width, height=height, file=io.StringIO(), color_system=None)
    console.print(render(m, width, height, now=now, source="mqtt://127.0.0.1:1883"))
    return console.export_text().splitlines()


def test_sparkline_and_formatting() -> None:
    assert sparkline([1.0, 2.0, 3.0], 10) == "▁▅█"
    assert sparkline([5.0, 5.0], 10) == "▄▄"
    assert sparkline([float(i) for i in range(50)], 4) == "▁▃▆█"
    assert sparkline([], 5) == ""
    assert format_value(None) == "—" and format_value(True) == "on" and format_value(21.50) == "21.5"
    assert format_age(0.42) == "0.4s" and format_age(75) == "1m" and format_age(7300) == "2h"


# ---- rendering -------------------------------------------------------------------

def test_render_shows_devices_entities_values_and_radio_in_80x24() -> None:
    lines = rendered_lines(demo_model(), now=4.0)
    text = "\n".join(lines)
    assert len(lines) <= 24 and all(cell_len(line) <= 80 for line in lines)
    assert "lab" in text and "online" in text
    assert re.search(r"temperature\s+22 °C\s+1\.0s\s+▁▃▆█", text)
    assert re.search(r"motion\s+on\s+2\.0s", text)
    assert "98.50 MHz" in text and "RSSI 42" in text and "stereo" in text
    assert "RADIO 1" in text and "PI C201" in text and "PTY News" in text and "the news at ten" in text
    assert " TP" in text and " TA" not in text
    assert lines[-1].startswith("mqtt://127.0.0.1:1883") and "msgs" in lines[-1]


def test_render_many_entities_uses_two_columns_then_truncates() -> None:
    m = demo_model()
    for i in range(30):
        m.apply(f"pi2mqtt/lab/adc_{i:02d}", reading(i / 10, "V"), 3.0)
    lines = rendered_lines(m, now=4.0)
    assert len(lines) <= 24 and all(cell_len(line) <= 80 for line in lines)
    assert any(line.count("adc_") == 2 for line in lines)  # two columns
    for i in range(20):
        m.apply(f"pi2mqtt/other/e{i}", reading(i), 3.0)
    lines = rendered_lines(m, now=4.0)
    text = "\n".join(lines)
    assert len(lines) <= 24 and all(cell_len(line) <= 80 for line in lines)
    assert "other" in text and "more" in text


def test_render_waiting_message_when_empty() -> None:
    lines = rendered_lines(ViewModel("home"))
    assert "waiting for pi2mqtt devices under home/#" in lines[0]


def test_summary_counts_per_device_and_entity() -> None:
    s = Summary.of(demo_model())
    assert s.total == 9
    assert s.entity_count("lab", "temperature") == 4
    assert s.entity_count("lab", "radio") == 1 and s.entity_count("lab", "radio_presets") == 1
    assert s.entity_count("nope", "x") == 0
    text = s.format()
    assert "9 messages from 1 device(s)" in text and "temperature" in text


def test_broker_url_parsing() -> None:
    def one(url: str) -> tuple[str, int, bool, str | None, str | None]:
        [(given, b)] = parse_urls(url)
        assert given == url
        return (b.host, b.port, b.tls, b.username, b.password)

    assert one("mqtt://h:1884") == ("h", 1884, False, None, None)
    assert one("mqtts://u:p%40ss@h") == ("h", 8883, True, "u", "p@ss")
    assert one("localhost") == ("localhost", 1883, False, None, None)
    for bad in ("http://h", "mqtt://h:99999", "mqtt://"):
        with pytest.raises(BrokerError):
            parse_urls(bad)


def test_broker_url_list_parsing() -> None:
    got = parse_urls("mqtt://a:1884, b ,ws://c/mqtt")
    assert [g for g, _ in got] == ["mqtt://a:1884", "b", "ws://c/mqtt"]
    assert [(b.host, b.port, b.websocket) for _, b in got] == [("a", 1884, False), ("b", 1883, False), ("c", 80, True)]
    for bad in ("mqtt://a,", "mqtt://a,mqtts://b", "mqtt://a,mqtt://a:1883"):
        with pytest.raises(BrokerError):
            parse_urls(bad)


# ---- watch against real brokers ---------------------------------------------------

class LineSink(io.StringIO):
    """A text stream that lets a test await written lines."""

    def __init__(self) -> None:
        super().__init__()
        self.cond = threading.Condition()

    def write(self, s: str) -> int:
        with self.cond:
            n = super().write(s)
            self.cond.notify_all()
            return n

    def wait_lines(self, n: int, timeout: float = 10.0) -> list[str]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.getvalue().splitlines()) < n:
                left = deadline - time.monotonic()
                assert left > 0, f"timed out waiting for {n} lines; got {self.getvalue()!r}"
                self.cond.wait(left)
            return self.getvalue().splitlines()


def test_watch_plain_lines_from_real_mosquitto(broker: Mosquitto, subscriber: Subscriber) -> None:
    out, ready, stop = LineSink(), threading.Event(), threading.Event()
    model = ViewModel()
    result: list[int] = []
    t = threading.Thread(target=lambda: result.append(
        watch(broker.url, duration=30, plain=True, out=out, model=model, stop=stop, ready=ready)))
    t.start()
    try:
        assert ready.wait(10)
        subscriber.publish("pi2mqtt/pi-lab/status", "online", retain=True)
        subscriber.publish("pi2mqtt/pi-lab/cpu_temp", reading(48.2, "°C"))
        subscriber.publish("pi2mqtt/pi-lab/led/set/reply", b'{"ok": true}')
        subscriber.publish("pi2mqtt/pi-lab/button", reading(True))
        lines = out.wait_lines(3)
    finally:
        stop.set()
        t.join(10)
    assert result == [0]
    assert re.fullmatch(r"\d\d:\d\d:\d\d pi-lab status online", lines[0])
    assert re.fullmatch(r"\d\d:\d\d:\d\d pi-lab cpu_temp 48.2 °C", lines[1])
    assert re.fullmatch(r"\d\d:\d\d:\d\d pi-lab button on", lines[2])
    assert Summary.of(model).entity_count("pi-lab", "cpu_temp") == 1


class ByteSink(io.BytesIO):
    """A byte stream that lets a test await a newline."""

    def __init__(self) -> None:
        super().__init__()
        self.cond = threading.Condition()

    def write(self, b: Any) -> int:
        with self.cond:
            n = super().write(b)
            self.cond.notify_all()
            return n

    def wait_line(self, timeout: float = 10.0) -> bytes:
        with self.cond:
            assert self.cond.wait_for(lambda: b"\n" in self.getvalue(), timeout), "no line written"
            return self.getvalue()


def test_watch_plain_on_an_ascii_only_stream_replaces_what_it_cannot_encode(
    broker: Mosquitto, subscriber: Subscriber
) -> None:
    raw = ByteSink()
    out = io.TextIOWrapper(raw, encoding="ascii")
    subscriber.publish("pi2mqtt/c/temp", reading(21.5, "°C"), retain=True)
    stop, result = threading.Event(), []
    t = threading.Thread(target=lambda: result.append(watch(broker.url, plain=True, out=out, stop=stop)))
    t.start()
    try:
        line = raw.wait_line()
    finally:
        stop.set()
        t.join(10)
    assert result == [0]
    assert re.fullmatch(rb"\d\d:\d\d:\d\d c temp 21.5 \?C\n", line)
    assert not out.closed  # the caller's stream is left open


def test_watch_returns_after_duration(broker: Mosquitto) -> None:
    out = io.StringIO()
    started = time.monotonic()
    assert watch(broker.url, duration=0.3, plain=True, out=out) == 0
    assert time.monotonic() - started < 10


def test_watch_unreachable_broker_is_one_line_and_code_1(broker: Mosquitto) -> None:
    broker.stop()
    err = io.StringIO()
    assert watch(broker.url, duration=1, plain=True, out=io.StringIO(), err=err) == 1
    lines = err.getvalue().splitlines()
    assert len(lines) == 1 and "cannot reach the broker" in lines[0] and broker.url in lines[0]


def test_watch_skips_an_unreachable_broker_of_the_list(broker: Mosquitto, subscriber: Subscriber,
                                                       mosquitto_factory: Any) -> None:
    dead = mosquitto_factory("dead")
    dead.stop()
    out, ready, stop = LineSink(), threading.Event(), threading.Event()
    result: list[int] = []
    t = threading.Thread(target=lambda: result.append(
        watch(f"{dead.url},{broker.url}", duration=30, plain=True, out=out, stop=stop, ready=ready)))
    t.start()
    try:
        assert ready.wait(20)
        subscriber.publish("pi2mqtt/pi-lab/status", "online", retain=True)
        lines = out.wait_lines(1)
    finally:
        stop.set()
        t.join(10)
    assert result == [0]
    assert re.fullmatch(r"\d\d:\d\d:\d\d pi-lab status online", lines[0])


def test_watch_no_broker_of_the_list_answers_is_one_line_and_code_1(mosquitto_factory: Any) -> None:
    a, b = mosquitto_factory("a"), mosquitto_factory("b")
    a.stop()
    b.stop()
    err = io.StringIO()
    assert watch(f"{a.url},{b.url}", duration=1, plain=True, out=io.StringIO(), err=err) == 1
    lines = err.getvalue().splitlines()
    assert len(lines) == 1 and "no broker of the list" in lines[0], lines
    assert a.url in lines[0] and b.url in lines[0]


def test_watch_moves_to_the_next_broker_when_its_broker_goes(mosquitto_factory: Any) -> None:
    a, b = mosquitto_factory("a"), mosquitto_factory("b")
    on_b = Subscriber(b.port).connect()
    on_b.publish("pi2mqtt/pi-b/status", "online", retain=True)
    out, ready, stop = LineSink(), threading.Event(), threading.Event()
    result: list[int] = []
    t = threading.Thread(target=lambda: result.append(
        watch(f"{a.url},{b.url}", duration=60, plain=True, out=out, stop=stop, ready=ready)))
    t.start()
    try:
        assert ready.wait(20)
        assert "pi-b" not in out.getvalue()  # on a: b's retained status is not seen
        a.stop()
        with out.cond:
            assert out.cond.wait_for(lambda: "pi-b status online" in out.getvalue(), 30), out.getvalue()
    finally:
        stop.set()
        t.join(10)
        on_b.close()
    assert result == [0]
    assert "connection lost" in out.getvalue()


def test_watch_live_view_through_a_pty_quits_on_q(broker: Mosquitto) -> None:
    b = broker
    pub = Subscriber(b.port).connect()
    pub.publish("pi2mqtt/lab/status", "online", retain=True)
    pub.publish("pi2mqtt/lab/pressure", reading(1013.25, "hPa"), retain=True)
    pub.publish("pi2mqtt/lab/radio", json.dumps(RADIO).encode(), retain=True)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    # duration=60: only the q key can end it within the test's wait.
    code = f"import sys; from device.view import watch; sys.exit(watch({b.url!r}, duration=60))"
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=slave, stdout=slave, stderr=slave,
                            cwd=REPO, env=dict(os.environ, TERM="xterm-256color"))
    os.close(slave)
    raw = b""
    sent_q = False
    try:
        while select.select([master], [], [], 15)[0]:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the pty
                break
            if not chunk:
                break
            raw += chunk
            if not sent_q and b"MHz" in raw and b"hPa" in raw:
                os.write(master, b"q")
                sent_q = True
        assert sent_q, f"the view never showed the readings: {raw[-500:]!r}"
        assert proc.wait(15) == 0
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    pub.close()
    text = raw.decode("utf-8", "replace")
    screen = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", text)
    assert "lab" in screen and "online" in screen
    assert re.search(r"pressure\s+1013\.25 hPa", screen)
    assert "98.50 MHz" in screen and "q quits" in screen
    assert "\x1b[?1049h" in text and text.rstrip().endswith("\x1b[?1049l")  # alternate screen left


def test_render_selected_device_gets_keys_line_and_everything_fits_80x24() -> None:
    m = demo_model()
    for name in ("doorbell", "front_door", "hall_motion", "daylight", "tank_level", "soil_moisture", "battery",
                 "cpu_temp", "porch_light", "desk_lamp", "pump", "room_temperature", "room_humidity",
                 "room_pressure"):
        m.apply(f"pi2mqtt/lab/{name}", reading(1.5), 3.0)
    m.apply("pi2mqtt/other/status", b"online", 3.0)
    m.apply("pi2mqtt/other/radio", json.dumps(RADIO).encode(), 3.0)
    console = Console(record=True, width=80, height=24, file=io.StringIO(), color_system=None)
    console.print(render(m, 80, 24, now=4.0, selected="lab", note="seek up ✓"))
    lines = console.export_text().splitlines()
    assert len(lines) <= 24 and all(cell_len(line) <= 80 for line in lines)
    text = "\n".join(lines)
    assert "▶ lab" in text and "● other" in text
    assert sum("keys" in line for line in lines) == 1 and "seek up ✓" in text
    assert "presets  1 RADIO 1 98.5  2 JAZZ 101.1" in text
    assert "room_pressure" in text  # 14-cell names in two columns


def test_watch_with_piped_output_still_quits_on_q(broker: Mosquitto) -> None:
    # issue 15: `pi2mqtt demo | tee log` — plain lines to a pipe, keys from the terminal.
    b = broker
    pub = Subscriber(b.port).connect()
    pub.publish("pi2mqtt/lab/pressure", reading(1013.25, "hPa"), retain=True)
    master, slave = pty.openpty()
    code = f"import sys; from device.view import watch; sys.exit(watch({b.url!r}, duration=60))"
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=slave, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, cwd=REPO)
    os.close(slave)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # printed from the plain loop: the key reader is on
        assert b"pressure" in line and b"1013.25 hPa" in line, line
        os.write(master, b"q")
        assert proc.wait(15) == 0  # duration=60: only q ends it this soon
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
        pub.close()


def test_watch_over_websocket(mosquitto_factory: Any) -> None:
    ws_port = free_port()
    b = mosquitto_factory("ws", extra=f"listener {ws_port} 127.0.0.1\nprotocol websockets\n")
    wait_port(ws_port)  # Mosquitto opens its WebSocket listener after the TCP one
    sub = Subscriber(b.port).connect()
    sub.publish("pi2mqtt/pi-ws/status", "online", retain=True)
    out, ready, stop = LineSink(), threading.Event(), threading.Event()
    result: list[int] = []
    t = threading.Thread(target=lambda: result.append(
        watch(f"ws://127.0.0.1:{ws_port}/mqtt", duration=30, plain=True, out=out, stop=stop, ready=ready)))
    t.start()
    try:
        assert ready.wait(20)
        lines = out.wait_lines(1)
    finally:
        stop.set()
        t.join(10)
        sub.close()
    assert result == [0]
    assert re.fullmatch(r"\d\d:\d\d:\d\d pi-ws status online", lines[0])
