"""The view's radio panel and keys: pure key mapping, and through a pty against a real daemon and Mosquitto."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory, MockPWMPin

from device.config import parse_config
from device.core.daemon import Daemon
from device.core.services import Service, ServiceContext
from device.view.keys import describe_command, parse_keys, radio_command, status_note
from device.view.viewmodel import RadioState, ViewModel
from tests.mosquitto import Mosquitto
from tests.mqttwait import Subscriber

REPO = Path(__file__).resolve().parents[2]


# ---- keys (pure) -------------------------------------------------------------------

def test_keys_parse_arrows_tab_and_characters() -> None:
    assert parse_keys("\x1b[C\x1b[D\x1bOA\x1b[B\tq+\x1b[Z\x1b") == [
        "right", "left", "up", "down", "tab", "q", "+", "backtab", "esc"]
    assert parse_keys("") == []


def test_keys_map_to_radio_commands() -> None:
    r = RadioState(state={"mute": False, "power": True})
    assert radio_command("right", r) == {"cmd": "step", "dir": "up"}
    assert radio_command("left", r) == {"cmd": "step", "dir": "down"}
    assert radio_command("up", r) == radio_command("s", r) == {"cmd": "seek", "dir": "up"}
    assert radio_command("down", r) == radio_command("S", r) == {"cmd": "seek", "dir": "down"}
    assert radio_command("3", r) == {"cmd": "preset_recall", "slot": 3}
    assert radio_command("+", r) == {"cmd": "volume", "delta": 1}
    assert radio_command("-", r) == {"cmd": "volume", "delta": -1}
    assert radio_command("m", r) == {"cmd": "mute", "on": True}
    assert radio_command("m", RadioState(state={"mute": True})) == {"cmd": "mute", "on": False}
    assert radio_command("p", r) == {"cmd": "power", "on": False}
    assert radio_command("x", r) == {"cmd": "cancel"}
    assert radio_command("0", r) is None and radio_command("z", r) is None and radio_command("tab", r) is None
    assert describe_command({"cmd": "seek", "dir": "up"}) == "seek up"
    assert describe_command({"cmd": "volume", "delta": -1}) == "volume -1"
    assert describe_command({"cmd": "preset_recall", "slot": 2}) == "preset 2"


def test_keys_store_a_preset_after_p() -> None:
    radio = RadioState("radio", state={"value": 98.5, "power": True})
    assert radio_command("3", radio, storing=True) == {"cmd": "preset_set", "slot": 3}
    assert radio_command("0", radio, storing=True) == {"cmd": "preset_set"}
    assert radio_command("s", radio, storing=True) is None  # any other key disarms, sends nothing
    assert radio_command("3", radio) == {"cmd": "preset_recall", "slot": 3}
    assert describe_command({"cmd": "preset_set", "slot": 3}) == "store in slot 3"


def test_keys_status_note_matches_the_reply_by_id() -> None:
    assert status_note("seek up", "w1", None) == "seek up …"
    assert status_note("seek up", "w1", {"ok": True, "id": "w0"}) == "seek up …"
    assert status_note("seek up", "w1", {"ok": True, "id": "w1"}) == "seek up ✓"
    assert status_note("tune", "w2", {"ok": False, "id": "w2", "code": "OUT_OF_BAND", "message": "no"}) == \
        "tune ✗ OUT_OF_BAND: no"


def test_model_follows_a_radio_with_another_name() -> None:
    m = ViewModel()
    state = {"value": 99.0, "ts": "2026-11-21T10:00:00.000Z", "seq": 1, "min_mhz": 87.5, "power": True}
    m.apply("pi2mqtt/a/fm", json.dumps(state).encode(), 1.0)
    m.apply("pi2mqtt/a/fm_rds", b'{"value": "X", "ps": "X"}', 1.0)
    m.apply("pi2mqtt/a/fm/set/reply", b'{"ok": true, "id": "k"}', 1.0)
    m.apply("pi2mqtt/a/fm/event", b'{"event": "tuned", "mhz": 99.0}', 1.0)
    dev = m.devices["a"]
    assert dev.radio is not None and dev.radio.name == "fm" and dev.entities == {}
    assert dev.radio.rds["ps"] == "X" and dev.radio.last_reply == {"ok": True, "id": "k"}
    assert dev.radio.last_event == {"event": "tuned", "mhz": 99.0} and dev.radio.events == 1


# ---- through a pty, against a daemon with a radio service -------------------------

class EchoRadio(Service):
    """A radio service that speaks the contract's state and replies; records the commands."""

    name = "radio"

    def __init__(self) -> None:
        self.ctx: ServiceContext | None = None
        self.mhz = 98.5
        self.volume = 8
        self.mute = False
        self.received: list[dict[str, Any]] = []

    def _publish(self) -> None:
        assert self.ctx is not None
        self.ctx.publish("radio", self.mhz, unit="MHz", extra={
            "power": True, "band": "europe", "min_mhz": 87.5, "max_mhz": 108.0, "step_khz": 100,
            "volume": self.volume, "mute": self.mute, "stereo": True, "rssi": 47, "snr": None,
            "station": True, "preset": "RADIO 1" if self.mhz == 98.5 else None, "busy": None,
            "chip": "rda5807m", "link": "up"})

    def start(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self._publish()
        ctx.publish("radio_rds", "RADIO 1", extra={
            "pi": "C201", "ps": "RADIO 1", "radiotext": "Morning show with the news", "pty": 10,
            "pty_name": "Pop Music", "tp": True, "ta": False, "af": [], "clock": None})
        ctx.publish("radio_presets", [{"slot": 1, "name": "RADIO 1", "mhz": 98.5, "pi": "C201"},
                                      {"slot": 2, "name": "JAZZ", "mhz": 101.1, "pi": None}])

    def command(self, payload: bytes) -> bytes:
        cmd = json.loads(payload)
        self.received.append(cmd)
        if cmd["cmd"] == "step":
            self.mhz = round(self.mhz + (0.1 if cmd["dir"] == "up" else -0.1), 1)
        elif cmd["cmd"] == "volume":
            self.volume += cmd.get("delta", 0)
        elif cmd["cmd"] == "mute":
            self.mute = cmd["on"]
        self._publish()
        return json.dumps({"ok": True, "id": cmd.get("id"), "cmd": cmd["cmd"]}).encode()


@pytest.fixture
def demo_daemon(broker: Mosquitto, tmp_path: Path) -> Iterator[tuple[Daemon, EchoRadio]]:
    """The demo's GPIO devices (examples/demo.toml) on MockFactory, plus a radio; device id `demo`."""
    factory = MockFactory(pin_class=MockPWMPin)
    old = Device.pin_factory
    Device.pin_factory = factory
    demo = tomllib.loads((REPO / "examples" / "demo.toml").read_text())
    cpu = tmp_path / "cpu_temp"
    cpu.write_text("48200\n")
    doc: dict[str, Any] = {"device": {"id": "demo", "name": "pi2mqtt demo"}, "mqtt": {"url": broker.url},
                           "homeassistant": {"enabled": False}}
    for kind in ("button", "door", "motion", "led", "pwm_led", "relay"):
        doc[kind] = demo[kind]
    doc["cpu_temperature"] = [{**c, "sensor_file": str(cpu)} for c in demo["cpu_temperature"]]
    radio = EchoRadio()
    (tmp_path / "state").mkdir()
    d = Daemon(parse_config(doc), pin_factory=factory, state_dir=tmp_path / "state")
    d.add_service(radio)
    d.start()
    try:
        yield d, radio
    finally:
        d.stop()
        Device.pin_factory = old
        factory.close()


class Screen:
    """A child on an 80x24 pty (by default `watch(url)`); collects what it draws."""

    def __init__(self, url: str, argv: list[str] | None = None, env: dict[str, str] | None = None) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        code = f"import sys; from device.view import watch; sys.exit(watch({url!r}, duration=60))"
        self.proc = subprocess.Popen(argv or [sys.executable, "-c", code], stdin=slave, stdout=slave,
                                     stderr=slave, cwd=REPO, env=dict(os.environ, TERM="xterm-256color", **(env or {})))
        os.close(slave)
        self.raw = b""

    def read_until(self, pattern: str, timeout: float = 15.0) -> str:
        """Read until the text drawn since the last call matches `pattern`; return the screen text."""
        start = len(self.raw)
        deadline = time.monotonic() + timeout
        while True:
            text = plain(self.raw[start:])
            if re.search(pattern, text):
                return text
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.master], [], [], left)[0]:
                raise AssertionError(f"screen never showed {pattern!r}: {text[-800:]!r}")
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                raise AssertionError(f"the view ended before showing {pattern!r}") from None
            self.raw += chunk

    def key(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def close(self) -> int | None:
        try:
            self.key("q")
            return self.proc.wait(15)
        finally:
            os.close(self.master)
            if self.proc.poll() is None:
                self.proc.kill()


def plain(raw: bytes) -> str:
    return re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", raw.decode("utf-8", "replace"))


def test_view_shows_demo_devices_and_radio_in_80x24_and_keys_send_commands(
    demo_daemon: tuple[Daemon, EchoRadio], broker: Mosquitto, subscriber: Subscriber,
) -> None:
    _, radio = demo_daemon
    subscriber.subscribe("pi2mqtt/+/radio/set")
    screen = Screen(broker.url)
    try:
        text = screen.read_until(r"keys .*Tab")
        text = screen.read_until(r"porch_light") if "porch_light" not in text else text
        for shown in ("demo", "98.50 MHz", "RADIO 1", "RSSI 47", "PTY Pop Music", "Morning show",
                      "presets", "2 JAZZ 101.1", "front_door", "cpu_temp", "48.2 °C", "desk_lamp"):
            assert shown in text, shown

        screen.key("\x1b[C")  # → step up
        m = subscriber.wait_topic("pi2mqtt/demo/radio/set")
        cmd = m.json()
        assert {k: v for k, v in cmd.items() if k != "id"} == {"cmd": "step", "dir": "up"}
        screen.read_until(r"98\.60 MHz")
        screen.read_until(r"step up ✓")

        for key, expected in (("s", {"cmd": "seek", "dir": "up"}), ("2", {"cmd": "preset_recall", "slot": 2}),
                              ("+", {"cmd": "volume", "delta": 1}), ("m", {"cmd": "mute", "on": True})):
            n = len(subscriber.on("pi2mqtt/demo/radio/set"))
            screen.key(key)
            msgs = subscriber.wait_count(lambda m: m.topic == "pi2mqtt/demo/radio/set", n + 1)
            got = msgs[-1].json()
            assert {k: v for k, v in got.items() if k != "id"} == expected, key
        screen.read_until(r"muted")
        # issue 15: a key stores a preset — P arms it, the digit picks the slot.
        n = len(subscriber.on("pi2mqtt/demo/radio/set"))
        screen.key("P")
        screen.read_until(r"store in slot: press 1-9")
        screen.key("3")
        msgs = subscriber.wait_count(lambda m: m.topic == "pi2mqtt/demo/radio/set", n + 1)
        assert {k: v for k, v in msgs[-1].json().items() if k != "id"} == {"cmd": "preset_set", "slot": 3}
        screen.read_until(r"store in slot 3")
        assert [c["cmd"] for c in radio.received] == ["step", "seek", "preset_recall", "volume", "mute",
                                                      "preset_set"]
        assert len({c["id"] for c in radio.received}) == 6
    finally:
        assert screen.close() == 0


def test_view_tab_moves_the_keys_to_the_other_device(
    demo_daemon: tuple[Daemon, EchoRadio], broker: Mosquitto, subscriber: Subscriber,
) -> None:
    subscriber.subscribe("pi2mqtt/+/radio/set")
    lab = {"value": 90.0, "ts": "2026-11-21T10:00:00.000Z", "seq": 1, "min_mhz": 87.5, "power": True,
           "volume": 3, "mute": False}
    subscriber.publish("pi2mqtt/lab/status", "online", retain=True)
    subscriber.publish("pi2mqtt/lab/radio", json.dumps(lab), retain=True)
    screen = Screen(broker.url)
    try:
        screen.read_until(r"90\.00 MHz")
        screen.read_until(r"98\.50 MHz")
        screen.key("\x1b[C")
        first = subscriber.wait_for(lambda m: m.topic.endswith("/radio/set"))
        screen.read_until(r"step up")
        screen.key("\t")
        screen.read_until(r"▶")
        screen.key("s")
        second = subscriber.wait_for(lambda m: m.topic.endswith("/radio/set") and m.json()["cmd"] == "seek")
        assert {first.topic, second.topic} == {"pi2mqtt/demo/radio/set", "pi2mqtt/lab/radio/set"}
    finally:
        assert screen.close() == 0


def test_demo_live_view_in_80x24_acts_on_keys(broker: Mosquitto, subscriber: Subscriber, tmp_path: Path) -> None:
    """`pi2mqtt demo` itself (hwsim devices, the real radio service) on a pty, driven by keys."""
    subscriber.subscribe("pi2mqtt/demo/radio/set")
    subscriber.subscribe("pi2mqtt/demo/radio/set/reply")
    screen = Screen(broker.url, [sys.executable, "-m", "device", "demo", "--broker", broker.url,
                                 "--duration", "60"], env={"STATE_DIRECTORY": str(tmp_path / "state")})
    try:
        text = screen.read_until(r"FM \d+\.\d\d MHz", timeout=30)
        text += screen.read_until(r"keys .*step")
        for shown in ("demo", "RSSI", "RDS", "porch_light"):
            assert shown in plain(screen.raw), shown
        screen.key("\x1b[C")
        sent = subscriber.wait_topic("pi2mqtt/demo/radio/set", timeout=15).json()
        assert sent["cmd"] == "step" and sent["dir"] == "up" and str(sent["id"]).startswith("watch-")
        reply = subscriber.wait_topic("pi2mqtt/demo/radio/set/reply",
                                      where=lambda m: m.json().get("id") == sent["id"], timeout=15).json()
        screen.read_until("step up ✓" if reply["ok"] else "step up ✗")
    finally:
        assert screen.close() == 0
