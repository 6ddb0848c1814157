"""End to end through a real pty: the firmware's LinkServer in SimMcu, the host's LinkPort (pyserial)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from device.errors import CommandError, LinkError, LinkVersionMismatch
from device.link.port import LinkPort
from hwsim.mcu import SimMcu

BAUD = 1_000_000
UP_TIMEOUT = 3.0


class Firmware:
    """The test's drivers: `echo`, and `count` which records every run."""

    def __init__(self) -> None:
        self.runs: list[dict[str, Any]] = []

    def build(self, server: Any, i2c: Any) -> None:
        server.register("echo", lambda args: args)

        def count(args: dict[str, Any]) -> dict[str, Any]:
            self.runs.append(args)
            return {"n": len(self.runs)}

        server.register("count", count)
        server.add_capability("echo")


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []
        self.states: list[str] = []
        self.cond = threading.Condition()

    def on_event(self, name: str, data: Any) -> None:
        with self.cond:
            self.events.append((name, data))
            self.cond.notify_all()

    def on_state(self, state: str) -> None:
        with self.cond:
            self.states.append(state)
            self.cond.notify_all()

    def wait(self, pred: Callable[[], bool], timeout: float) -> bool:
        with self.cond:
            return self.cond.wait_for(pred, timeout)


@pytest.fixture
def fw() -> Firmware:
    return Firmware()


@pytest.fixture
def mcu(tmp_path: Path, fw: Firmware) -> Iterator[SimMcu]:
    m = SimMcu(tmp_path / "ttyMCU", BAUD, build=fw.build)
    assert m.wait_booted(1, 2.0)
    yield m
    m.close()


@pytest.fixture
def rec() -> Recorder:
    return Recorder()


@pytest.fixture
def port(mcu: SimMcu, rec: Recorder) -> Iterator[LinkPort]:
    p = LinkPort(str(mcu.link_path), BAUD, on_event=rec.on_event, on_state=rec.on_state)
    assert p.wait_up(UP_TIMEOUT), p.counters()
    yield p
    p.close()


def _request_until_ok(port: LinkPort, method: str, args: dict[str, Any], within: float) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while True:
        try:
            return port.request(method, args, timeout=0.2, retries=2)
        except LinkError:
            if time.monotonic() > deadline:
                raise
            port.wait_up(0.2)


def test_pty_link_handshake_and_request(port: LinkPort, rec: Recorder) -> None:
    assert port.state == "up"
    assert port.peer.fw_version == "0.1.0" and "echo" in port.peer.caps
    assert port.request("echo", {"a": 1, "f": 2.5, "s": "x", "l": [1, None]}) == {
        "a": 1, "f": 2.5, "s": "x", "l": [1, None]
    }
    with pytest.raises(CommandError) as e:
        port.request("missing")
    assert e.value.code == "unknown_method"
    assert "up" in rec.states


def test_pty_link_events_reach_on_event(port: LinkPort, mcu: SimMcu, rec: Recorder) -> None:
    assert mcu.server is not None
    mcu.server.emit("rds", {"a": 0x1234, "b": 1})
    assert rec.wait(lambda: ("rds", {"a": 0x1234, "b": 1}) in rec.events, 2.0)


def test_pty_link_unplug_then_replug_recovers(port: LinkPort, mcu: SimMcu, rec: Recorder) -> None:
    mcu.unplug()
    assert rec.wait(lambda: port.state == "down", 2.0)
    with pytest.raises(LinkError):
        port.request("echo", {}, timeout=0.1, retries=0)
    time.sleep(5.0)  # the scenario under test: 5 s without the device
    mcu.replug()
    assert _request_until_ok(port, "echo", {"back": True}, within=3.0) == {"back": True}
    assert port.counters()["reconnects"] >= 1


def test_pty_link_mcu_reboot_is_noticed_and_recovered(port: LinkPort, mcu: SimMcu) -> None:
    before = port.peer.boot_id
    mcu.reboot()
    assert mcu.wait_booted(2, 2.0)
    assert _request_until_ok(port, "echo", {"after": "reboot"}, within=3.0) == {"after": "reboot"}
    assert port.wait_up(2.0)
    assert port.peer.boot_id != before
    assert port.counters()["reboots_seen"] >= 1


def test_pty_link_megabyte_of_garbage(port: LinkPort, mcu: SimMcu, rec: Recorder) -> None:
    mcu_before = port.request("link.stats", timeout=2.0, retries=0)
    before = port.counters()
    mcu.inject_garbage(os.urandom(1 << 20), paced=False)
    # The link still works afterwards.
    assert _request_until_ok(port, "echo", {"still": "here"}, within=5.0) == {"still": "here"}
    time.sleep(0.3)  # let late duplicates of that request arrive before counting
    mcu_after = port.request("link.stats", timeout=2.0, retries=0)
    c = port.counters()
    rejected = sum(c[k] - before[k] for k in ("crc_errors", "cobs_errors", "oversize"))
    assert rejected > 1000
    assert c["garbage_bytes"] - before["garbage_bytes"] > (1 << 20) * 0.9
    # No false frame: the host accepted exactly the frames the firmware sent.
    assert c["frames_ok"] - before["frames_ok"] == mcu_after["frames_sent"] - mcu_before["frames_sent"]
    assert c["bad_messages"] == 0
    assert [e for e in rec.events if e[0] != "link.boot"] == []


def test_pty_link_dropped_and_corrupted_frames_are_retried(port: LinkPort, mcu: SimMcu) -> None:
    mcu.drop_next(1)
    assert port.request("echo", {"d": 1}, timeout=0.2, retries=3) == {"d": 1}
    mcu.corrupt_next(1)
    assert port.request("echo", {"c": 1}, timeout=0.2, retries=3) == {"c": 1}
    c = port.counters()
    assert c["retries"] >= 2 and c["crc_errors"] >= 1
    assert mcu.stats["dropped"] == 1 and mcu.stats["corrupted"] == 1


def test_pty_link_duplicate_request_runs_handler_once(port: LinkPort, mcu: SimMcu, fw: Firmware) -> None:
    mcu.drop_next(1)  # the reply is lost: the host retries the same seq
    assert port.request("count", {"x": 1}, timeout=0.2, retries=3) == {"n": 1}
    assert fw.runs == [{"x": 1}]
    stats = port.request("link.stats")
    assert stats["duplicates"] == 1


def test_pty_link_stuck_mcu_is_reset_through_the_reset_line(mcu: SimMcu) -> None:
    from gpiozero.pins.mock import MockFactory

    factory = MockFactory()
    pin = factory.pin(17)
    mcu.drop_next(10_000)  # the firmware answers nothing
    p = LinkPort(str(mcu.link_path), BAUD, reset_pin=17, pin_factory=factory,
                 hello_timeout=0.05, reset_after=2)
    try:
        deadline = time.monotonic() + 5.0
        while p.counters()["resets"] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert p.counters()["resets"] >= 1
        assert [s.state for s in pin.states][-2:] == [False, True]  # pulled low, released
        mcu.clear_faults()  # the reset "fixed" it
        mcu.reboot()
        assert p.wait_up(3.0)
    finally:
        p.close()
        factory.reset()


def test_pty_link_close_ends_the_reader_thread(mcu: SimMcu) -> None:
    p = LinkPort(str(mcu.link_path), BAUD)
    assert p.wait_up(UP_TIMEOUT)
    p.close()
    assert not p._thread.is_alive()
    assert p.state in ("up", "down", "connecting")


def test_pty_link_refuses_firmware_of_another_major(
    tmp_path: Path, fw: Firmware, rec: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    import p2mfw.proto

    monkeypatch.setattr(p2mfw.proto, "PROTO_MAJOR", 2)
    m = SimMcu(tmp_path / "ttyOLD", BAUD, build=fw.build, fw_version="2.0.0")
    p = LinkPort(str(m.link_path), BAUD, on_state=rec.on_state)
    try:
        assert rec.wait(lambda: "version_mismatch" in rec.states, 3.0)
        with pytest.raises(LinkVersionMismatch) as e:
            p.request("echo", {})
        assert "firmware 2.0.0" in str(e.value) and "protocol 2.0" in str(e.value)
    finally:
        p.close()
        m.close()
