"""The host's link session: handshake, requests by seq, retries, events (sans-IO).

Theory of operation
-------------------
`LinkSession` is a state machine fed with bytes and the current time; it never
touches a port, a thread or a clock. The adapter (`device.link.port`) writes what
the send methods return, feeds what it reads to `receive_data`, drains
`next_event()` until NEED_DATA, and calls `check_timeouts(now)` regularly,
writing the retransmissions it returns.

States (all transitions are in `_TRANSITIONS`)::

    IDLE --hello--> HANDSHAKING --ack(same major)--> UP
                         |  \\--ack(other major)--> VERSION_MISMATCH
                         \\--hello gave up--> IDLE
    UP --peer rebooted (link.boot event, or ERROR hello_required)--> IDLE
    any --connection lost--> IDLE

Requests are tracked by their 8-bit seq (1..255, 0 is never used). A request
is retransmitted with the *same* seq after `timeout`, then after timeout * 1.5,
* 1.5^2 ... (capped at 2 s) until `retries` retransmissions have gone unanswered;
then `TimedOut`. The firmware answers a retransmission from its reply cache, so a
handler never runs twice. A reply whose seq is not outstanding (the answer to a
retransmission that crossed the first reply) is counted as `late_replies`.

While not UP, outstanding requests are held (not retransmitted, but their clock
runs); once the link is UP again they are retransmitted at the next
`check_timeouts`. `connection_lost()` aborts them all.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass, field

from device.errors import LocalProtocolError
from device.link.frame import NEED_DATA, Frame, FrameDecoder, NeedData
from device.link.messages import (
    E_HELLO_REQUIRED,
    EV_BOOT,
    PROTO_MAJOR,
    PROTO_MINOR,
    ErrorReply,
    Event,
    Hello,
    HelloAck,
    LinkMap,
    LinkValue,
    Malformed,
    Request,
    Response,
    decode_message,
    encode_message,
)

BACKOFF = 1.5
MAX_BACKOFF = 2.0
MAX_IN_FLIGHT = 16
"""At most this many requests outstanding (the firmware caches its last 24 replies)."""
RTT_WEIGHT = 0.125


class LinkState(enum.Enum):
    """Where the session stands with the co-processor."""

    IDLE = "idle"
    HANDSHAKING = "handshaking"
    UP = "up"
    VERSION_MISMATCH = "version_mismatch"


class _T(enum.Enum):
    HELLO_SENT = "hello_sent"
    ACK_OK = "ack_ok"
    ACK_OTHER_MAJOR = "ack_other_major"
    HELLO_GAVE_UP = "hello_gave_up"
    PEER_REBOOTED = "peer_rebooted"
    LOST = "lost"


_S = LinkState
_TRANSITIONS: dict[tuple[LinkState, _T], LinkState] = {
    **{(s, _T.HELLO_SENT): _S.HANDSHAKING for s in _S},
    **{(s, _T.LOST): _S.IDLE for s in _S},
    (_S.HANDSHAKING, _T.ACK_OK): _S.UP,
    (_S.HANDSHAKING, _T.ACK_OTHER_MAJOR): _S.VERSION_MISMATCH,
    (_S.HANDSHAKING, _T.HELLO_GAVE_UP): _S.IDLE,
    (_S.UP, _T.PEER_REBOOTED): _S.IDLE,
    (_S.IDLE, _T.PEER_REBOOTED): _S.IDLE,
    (_S.HANDSHAKING, _T.PEER_REBOOTED): _S.HANDSHAKING,
}


# -- events the session hands to its adapter ------------------------------------------
@dataclass(frozen=True)
class LinkUp:
    """The handshake succeeded; `rebooted` if the peer's boot id changed since last time."""

    peer: HelloAck
    rebooted: bool = False


@dataclass(frozen=True)
class VersionMismatch:
    """The firmware speaks another protocol major version; nothing will be sent to it."""

    peer: HelloAck

    @property
    def message(self) -> str:
        return (
            f"the co-processor firmware {self.peer.fw_version} speaks link protocol "
            f"{self.peer.major}.{self.peer.minor}, this pi2mqtt speaks {PROTO_MAJOR}.{PROTO_MINOR}: "
            "flash the firmware from the same pi2mqtt release (see firmware/README.md)"
        )


@dataclass(frozen=True)
class HandshakeFailed:
    """HELLO went unanswered after every retry."""

    attempts: int


@dataclass(frozen=True)
class PeerRebooted:
    """The firmware restarted (boot id, if it said); a new handshake is needed."""

    boot_id: int | None = None


@dataclass(frozen=True)
class Reply:
    """The answer to request `seq`."""

    seq: int
    method: str
    result: LinkMap | None
    attempts: int = 1
    rtt: float = 0.0


@dataclass(frozen=True)
class Failed:
    """The firmware answered request `seq` with ERROR."""

    seq: int
    method: str
    code: str
    message: str = ""


@dataclass(frozen=True)
class TimedOut:
    """Request `seq` got no answer after every retry."""

    seq: int
    method: str
    attempts: int


@dataclass(frozen=True)
class Aborted:
    """Request `seq` was abandoned because the connection was lost."""

    seq: int
    method: str


@dataclass(frozen=True)
class Notification:
    """An unsolicited event from the firmware."""

    name: str
    data: LinkValue = None
    seq: int = 0


SessionEvent = (
    LinkUp
    | VersionMismatch
    | HandshakeFailed
    | PeerRebooted
    | Reply
    | Failed
    | TimedOut
    | Aborted
    | Notification
)


@dataclass
class _Pending:
    seq: int
    method: str
    wire: bytes
    timeout: float
    retries: int
    deadline: float
    last_sent: float
    attempts: int = 1
    hello: bool = False


@dataclass
class _Counters:
    retries: int = 0
    timeouts: int = 0
    late_replies: int = 0
    bad_messages: int = 0
    events: int = 0
    events_lost: int = 0
    handshakes: int = 0
    reboots_seen: int = 0
    rtt_ms_last: float = 0.0
    rtt_ms_avg: float = 0.0
    extra: dict[str, int] = field(default_factory=dict)


class LinkSession:
    """Sans-IO host end of the link: bytes and time in, events and bytes out."""

    def __init__(self) -> None:
        self._decoder = FrameDecoder()
        self._state = LinkState.IDLE
        self._pending: dict[int, _Pending] = {}
        self._events: deque[SessionEvent] = deque()
        self._next_seq = 1
        self._now = 0.0
        self._boot_id: int | None = None
        self._last_event_seq: int | None = None
        self._c = _Counters()
        self.peer: HelloAck | None = None

    # -- state ------------------------------------------------------------------
    @property
    def state(self) -> LinkState:
        return self._state

    def _go(self, trigger: _T) -> None:
        self._state = _TRANSITIONS.get((self._state, trigger), self._state)

    def counters(self) -> dict[str, float]:
        c = self._c
        d: dict[str, float] = dict(self._decoder.stats())
        d.update(
            retries=c.retries,
            timeouts=c.timeouts,
            late_replies=c.late_replies,
            bad_messages=c.bad_messages,
            events=c.events,
            events_lost=c.events_lost,
            handshakes=c.handshakes,
            reboots_seen=c.reboots_seen,
            rtt_ms_last=round(c.rtt_ms_last, 3),
            rtt_ms_avg=round(c.rtt_ms_avg, 3),
        )
        return d

    def outstanding(self) -> int:
        return sum(1 for p in self._pending.values() if not p.hello)

    # -- sending ------------------------------------------------------------------
    def _alloc_seq(self) -> int:
        for _ in range(255):
            seq = self._next_seq
            self._next_seq = seq % 255 + 1
            if seq not in self._pending:
                return seq
        raise LocalProtocolError("no free sequence number")  # pragma: no cover

    def start_handshake(self, now: float, timeout: float = 0.3, retries: int = 2) -> bytes:
        """Send HELLO (dropping any HELLO still outstanding); returns the bytes to write."""
        for seq in [s for s, p in self._pending.items() if p.hello]:
            del self._pending[seq]
        seq = self._alloc_seq()
        wire = encode_message(Hello(PROTO_MAJOR, PROTO_MINOR), seq)
        self._pending[seq] = _Pending(seq, "HELLO", wire, timeout, retries, now + timeout, now, hello=True)
        self._c.handshakes += 1
        self._go(_T.HELLO_SENT)
        return wire

    def send_request(
        self,
        method: str,
        args: LinkMap | None,
        now: float,
        timeout: float = 0.5,
        retries: int = 3,
    ) -> tuple[int, bytes]:
        """Start a request; returns (seq, bytes to write). Only allowed while UP."""
        if self._state is not LinkState.UP:
            raise LocalProtocolError(f"cannot send {method!r}: the link is {self._state.value}")
        if self.outstanding() >= MAX_IN_FLIGHT:
            raise LocalProtocolError(f"more than {MAX_IN_FLIGHT} requests outstanding")
        if timeout <= 0 or retries < 0:
            raise LocalProtocolError("timeout must be > 0 and retries >= 0")
        seq = self._alloc_seq()
        wire = encode_message(Request(method, args), seq)
        self._pending[seq] = _Pending(seq, method, wire, timeout, retries, now + timeout, now)
        return seq, wire

    def check_timeouts(self, now: float) -> bytes:
        """Retransmit what is due and give up on what has no retries left; returns bytes to write."""
        out = bytearray()
        for p in list(self._pending.values()):
            if now < p.deadline:
                continue
            if p.attempts > p.retries:
                del self._pending[p.seq]
                self._c.timeouts += 1
                if p.hello:
                    self._go(_T.HELLO_GAVE_UP)
                    self._events.append(HandshakeFailed(p.attempts))
                else:
                    self._events.append(TimedOut(p.seq, p.method, p.attempts))
                continue
            wait = min(p.timeout * BACKOFF ** p.attempts, MAX_BACKOFF)
            p.attempts += 1
            p.deadline = now + max(wait, p.timeout)
            if p.hello or self._state is LinkState.UP:
                out += p.wire
                p.last_sent = now
                self._c.retries += 1
        return bytes(out)

    def next_deadline(self) -> float | None:
        """When `check_timeouts` next has work, or None."""
        return min((p.deadline for p in self._pending.values()), default=None)

    def cancel(self, seq: int) -> None:
        """Forget request `seq` (its caller gave up); a late reply is then counted and dropped."""
        self._pending.pop(seq, None)

    def connection_lost(self) -> None:
        """The port closed: abort every request, drop partial input, go IDLE."""
        for p in list(self._pending.values()):
            if not p.hello:
                self._events.append(Aborted(p.seq, p.method))
        self._pending.clear()
        self._decoder.discard_partial()
        self._last_event_seq = None
        self._go(_T.LOST)

    # -- receiving ----------------------------------------------------------------
    def receive_data(self, data: bytes, now: float = 0.0) -> None:
        """Buffer bytes read at time `now` (used for round-trip times)."""
        self._now = now
        self._decoder.receive_data(data)

    def next_event(self) -> SessionEvent | NeedData:
        """The next event, or NEED_DATA when the buffered bytes hold no more."""
        while not self._events:
            frame = self._decoder.next_frame()
            if frame is NEED_DATA:
                return NEED_DATA
            assert isinstance(frame, Frame)
            self._on_frame(frame)
        return self._events.popleft()

    def _on_frame(self, frame: Frame) -> None:
        msg = decode_message(frame)
        if isinstance(msg, Malformed):
            self._c.bad_messages += 1
        elif isinstance(msg, HelloAck):
            self._on_ack(frame.seq, msg)
        elif isinstance(msg, Response | ErrorReply):
            self._on_reply(frame.seq, msg)
        elif isinstance(msg, Event):
            self._on_event(frame.seq, msg)
        else:  # HELLO or REQUEST from the firmware: not in this protocol
            self._c.bad_messages += 1

    def _on_ack(self, seq: int, ack: HelloAck) -> None:
        p = self._pending.get(seq)
        if p is None or not p.hello or self._state is not LinkState.HANDSHAKING:
            self._c.late_replies += 1
            return
        del self._pending[seq]
        self.peer = ack
        if ack.major != PROTO_MAJOR:
            self._go(_T.ACK_OTHER_MAJOR)
            self._events.append(VersionMismatch(ack))
            return
        rebooted = self._boot_id is not None and self._boot_id != ack.boot_id
        self._boot_id = ack.boot_id
        self._go(_T.ACK_OK)
        for q in self._pending.values():  # held requests go out at the next check_timeouts
            q.deadline = self._now
            q.attempts = min(q.attempts, q.retries)
        self._events.append(LinkUp(ack, rebooted))

    def _on_reply(self, seq: int, msg: Response | ErrorReply) -> None:
        p = self._pending.get(seq)
        if p is None or p.hello:
            self._c.late_replies += 1
            return
        if isinstance(msg, ErrorReply) and msg.code == E_HELLO_REQUIRED:
            # The firmware has no session with us: it rebooted. Hold the request.
            if self._state is LinkState.UP:
                self._peer_rebooted(None)
            return
        del self._pending[seq]
        if isinstance(msg, ErrorReply):
            self._events.append(Failed(seq, p.method, msg.code, msg.message))
            return
        rtt = max(0.0, self._now - p.last_sent)
        ms = rtt * 1000.0
        c = self._c
        c.rtt_ms_avg = ms if c.rtt_ms_last == 0.0 else c.rtt_ms_avg + RTT_WEIGHT * (ms - c.rtt_ms_avg)
        c.rtt_ms_last = ms
        self._events.append(Reply(seq, p.method, msg.result, p.attempts, rtt))

    def _on_event(self, seq: int, ev: Event) -> None:
        self._c.events += 1
        if ev.name == EV_BOOT:
            self._last_event_seq = seq
            boot = ev.data.get("boot") if isinstance(ev.data, dict) else None
            if self._state is not LinkState.VERSION_MISMATCH:
                self._peer_rebooted(boot if isinstance(boot, int) else None)
            return
        if self._last_event_seq is not None:
            gap = (seq - self._last_event_seq - 1) & 0xFF
            self._c.events_lost += gap
        self._last_event_seq = seq
        self._events.append(Notification(ev.name, ev.data, seq))

    def _peer_rebooted(self, boot_id: int | None) -> None:
        self._c.reboots_seen += 1
        self._go(_T.PEER_REBOOTED)
        self._events.append(PeerRebooted(boot_id))
