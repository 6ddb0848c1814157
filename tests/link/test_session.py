"""The sans-IO session, against the real firmware LinkServer in memory (no port, no threads)."""

from __future__ import annotations

from typing import Any

import pytest
from p2mfw.server import LinkServer

from device.errors import LocalProtocolError
from device.link.frame import NEED_DATA, encode_frame
from device.link.messages import ErrorReply, Event, HelloAck, MsgType, encode_message
from device.link.session import (
    Aborted,
    Failed,
    HandshakeFailed,
    LinkSession,
    LinkState,
    LinkUp,
    Notification,
    PeerRebooted,
    Reply,
    SessionEvent,
    TimedOut,
    VersionMismatch,
)


class MemPort:
    def __init__(self) -> None:
        self.inbox = bytearray()
        self.out = bytearray()

    def read(self, n: int) -> bytes | None:
        data, self.inbox = bytes(self.inbox[:n]), self.inbox[n:]
        return data or None

    def write(self, buf: bytes) -> int:
        self.out += buf
        return len(buf)


class Bench:
    """A session wired to a firmware server; `lose_next_reply` drops MCU->host frames."""

    def __init__(self, boot_id: int = 1) -> None:
        self.session = LinkSession()
        self.port = MemPort()
        self.runs: list[dict[str, Any]] = []
        self.boot(boot_id)

    def boot(self, boot_id: int) -> None:
        self.server = LinkServer(self.port, fw_version="0.1.0", caps=["echo"], boot_id=boot_id)

        def echo(args: dict[str, Any]) -> dict[str, Any]:
            self.runs.append(args)
            return args

        self.server.register("echo", echo)

    def to_mcu(self, data: bytes) -> None:
        self.port.inbox += data

    def pump(self, now: float, drop: bool = False, bytewise: bool = False) -> list[SessionEvent]:
        while self.port.inbox:
            self.server.poll()
        self.server.poll()
        out, self.port.out = bytes(self.port.out), bytearray()
        if drop:
            out = b""
        chunks = [out[i : i + 1] for i in range(len(out))] if bytewise else [out]
        events: list[SessionEvent] = []
        for c in chunks:
            self.session.receive_data(c, now)
            while (ev := self.session.next_event()) is not NEED_DATA:
                assert not isinstance(ev, type(NEED_DATA))
                events.append(ev)
        return events

    def up(self, now: float = 0.0) -> LinkUp:
        self.to_mcu(self.session.start_handshake(now))
        evs = [e for e in self.pump(now) if not isinstance(e, PeerRebooted)]
        assert len(evs) == 1 and isinstance(evs[0], LinkUp)
        return evs[0]


def test_session_handshake_reports_peer() -> None:
    b = Bench(boot_id=99)
    assert b.session.state is LinkState.IDLE
    up = b.up()
    assert up == LinkUp(HelloAck(1, 0, 256, 99, "0.1.0", ("echo",)), rebooted=False)
    assert b.session.state is LinkState.UP


@pytest.mark.parametrize("bytewise", [False, True], ids=["whole", "bytewise"])
def test_session_request_gets_reply(bytewise: bool) -> None:
    b = Bench()
    b.up()
    seq, wire = b.session.send_request("echo", {"x": 1}, now=1.0)
    b.to_mcu(wire)
    assert b.pump(1.25, bytewise=bytewise) == [Reply(seq, "echo", {"x": 1}, 1, 0.25)]
    assert b.session.counters()["rtt_ms_last"] == 250.0


def test_session_error_reply_becomes_failed() -> None:
    b = Bench()
    b.up()
    seq, wire = b.session.send_request("nope", None, now=0.0)
    b.to_mcu(wire)
    assert b.pump(0.1) == [Failed(seq, "nope", "unknown_method", "nope")]


def test_session_refuses_to_send_before_handshake() -> None:
    with pytest.raises(LocalProtocolError):
        LinkSession().send_request("echo", {}, now=0.0)


def test_session_retry_is_answered_from_the_firmware_cache() -> None:
    b = Bench()
    b.up()
    seq, wire = b.session.send_request("echo", {"n": 1}, now=0.0, timeout=0.5, retries=2)
    b.to_mcu(wire)
    assert b.pump(0.1, drop=True) == []          # the reply is lost on the way
    assert b.session.check_timeouts(0.4) == b""  # not yet due
    again = b.session.check_timeouts(0.5)
    assert again == wire                          # same seq, same bytes
    b.to_mcu(again)
    assert b.pump(0.6) == [Reply(seq, "echo", {"n": 1}, 2, pytest.approx(0.1))]
    assert b.runs == [{"n": 1}]                   # the handler ran once
    assert b.session.counters()["retries"] == 1


def test_session_gives_up_after_retries_with_backoff() -> None:
    b = Bench()
    b.up()
    seq, _wire = b.session.send_request("echo", {}, now=0.0, timeout=0.5, retries=2)
    sends = []
    now = 0.0
    events: list[SessionEvent] = []
    while not events and now < 10:
        now = round(now + 0.05, 2)
        if b.session.check_timeouts(now):
            sends.append(now)
        while (ev := b.session.next_event()) is not NEED_DATA:
            events.append(ev)  # type: ignore[arg-type]
    assert sends == [0.5, 1.25]                   # 0.5 s, then 0.75 s
    assert events == [TimedOut(seq, "echo", 3)]
    assert now == pytest.approx(1.25 + 1.125, abs=0.051)


def test_session_late_duplicate_reply_is_counted_not_delivered() -> None:
    b = Bench()
    b.up()
    seq, wire = b.session.send_request("echo", {"a": 1}, now=0.0)
    b.to_mcu(wire + wire)  # the retry crossed the first reply
    evs = b.pump(0.1)
    assert evs == [Reply(seq, "echo", {"a": 1}, 1, pytest.approx(0.1))]
    assert b.session.counters()["late_replies"] == 1


def test_session_notices_reboot_by_boot_event_and_recovers() -> None:
    b = Bench(boot_id=1)
    b.up()
    b.boot(boot_id=2)
    evs = b.pump(1.0)
    assert evs == [PeerRebooted(2)]
    assert b.session.state is LinkState.IDLE
    up = b.up(1.0)
    assert up.rebooted and up.peer.boot_id == 2


def test_session_notices_reboot_by_hello_required_and_resends() -> None:
    b = Bench(boot_id=1)
    b.up()
    b.boot(boot_id=2)
    b.server.poll()
    b.port.out = bytearray()  # the boot event was lost
    seq, wire = b.session.send_request("echo", {"k": 1}, now=2.0)
    b.to_mcu(wire)
    assert b.pump(2.1) == [PeerRebooted(None)]
    assert b.runs == []
    assert b.up(2.2).rebooted
    resend = b.session.check_timeouts(2.2)
    assert resend == wire
    b.to_mcu(resend)
    assert b.pump(2.3) == [Reply(seq, "echo", {"k": 1}, 2, pytest.approx(0.1))]


def test_session_events_are_delivered_and_gaps_counted() -> None:
    b = Bench()
    b.up()
    b.server.emit("rds", {"a": 1})
    b.server.emit("rds", {"a": 2})
    b.server.emit("rds", {"a": 3})
    b.port.out = b.port.out[: len(b.port.out) // 3]  # keep only the first event
    evs = b.pump(0.0)
    b.server.emit("rds", {"a": 4})
    evs += b.pump(0.0)
    assert [e for e in evs if isinstance(e, Notification)] == [
        Notification("rds", {"a": 1}, 1),
        Notification("rds", {"a": 4}, 4),
    ]
    assert b.session.counters()["events_lost"] == 2


def test_session_version_mismatch_is_one_clear_event() -> None:
    s = LinkSession()
    wire = s.start_handshake(0.0)
    assert wire
    ack = HelloAck(2, 3, 256, 5, "9.0.0", ())
    frame = encode_message(ack, seq=1, version=2)
    s.receive_data(frame, 0.1)
    ev = s.next_event()
    assert ev == VersionMismatch(HelloAck(2, 3, 256, 5, "9.0.0", ()))
    assert isinstance(ev, VersionMismatch)
    assert "2.3" in ev.message and "1.0" in ev.message and "firmware/README.md" in ev.message
    assert "9.0.0" in ev.message
    assert s.state is LinkState.VERSION_MISMATCH
    with pytest.raises(LocalProtocolError):
        s.send_request("echo", {}, 0.2)


def test_session_handshake_failure_and_connection_lost() -> None:
    s = LinkSession()
    s.start_handshake(0.0, timeout=0.1, retries=1)
    assert s.check_timeouts(0.1)  # HELLO retransmitted
    assert s.check_timeouts(0.3) == b""
    assert s.next_event() == HandshakeFailed(2)
    assert s.state is LinkState.IDLE
    b = Bench()
    b.up()
    seq, _ = b.session.send_request("echo", {}, now=0.0)
    b.session.connection_lost()
    assert b.session.next_event() == Aborted(seq, "echo")
    assert b.session.state is LinkState.IDLE


def test_session_counts_malformed_messages() -> None:
    s = LinkSession()
    s.start_handshake(0.0)
    s.receive_data(encode_frame(1, 0x77, 1, b"??"), 0.0)
    s.receive_data(encode_frame(1, MsgType.EVENT, 1, b"\x05ab"), 0.0)
    s.receive_data(encode_message(ErrorReply("x", "y"), 200), 0.0)  # nobody asked
    assert s.next_event() is NEED_DATA
    c = s.counters()
    assert c["bad_messages"] == 2 and c["late_replies"] == 1 and c["frames_ok"] == 3


def test_session_events_compare_by_value() -> None:
    assert Notification("rds", {"a": 1}, 3) == Notification("rds", {"a": 1}, 3)
    assert Event("x", 1) != Event("x", 2)
