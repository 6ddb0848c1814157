"""The serial port that carries the link: a thin pyserial adapter around `LinkSession`.

`LinkPort` owns one reader thread. It opens the port (pyserial flushes input on
open, so the host speaks first: it sends HELLO), feeds every byte it reads to the
sans-IO session, writes the retransmissions the session asks for, resolves the
callers' futures and calls `on_event(name, data)` for the firmware's events.

Recovery, all inside the reader thread, which never lets an exception out:

* the device vanishes (pyserial raises SerialException; `in_waiting` on a dead pty
  raises a plain OSError): outstanding requests fail with LinkError, state
  "down", reopen attempts back off from 50 ms to `reconnect_cap` (0.5 s), and a
  reopened port starts a new handshake;
* the firmware reboots (``link.boot`` event, or ERROR ``hello_required``): new
  handshake, held requests are then retransmitted;
* `reset_after` consecutive timeouts (requests or handshakes): pulse the reset
  line (a gpiozero OutputDevice, active low, on the RP2040's RUN pin) if one is
  configured, then handshake again.

`state` is "connecting", "up", "down" or "version_mismatch"; `counters()` is the
dict published on the diagnostics topic.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import serial

from device.errors import (
    CommandError,
    LinkError,
    LinkTimeout,
    LinkVersionMismatch,
)
from device.link.frame import NEED_DATA
from device.link.messages import HelloAck, LinkMap, LinkValue
from device.link.session import (
    BACKOFF,
    MAX_BACKOFF,
    MAX_IN_FLIGHT,
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

if TYPE_CHECKING:
    from gpiozero import OutputDevice

log = logging.getLogger(__name__)

READ_TIMEOUT = 0.02
RECONNECT_MIN = 0.05
RESET_PULSE = 0.05

EventCallback = Callable[[str, LinkValue], None]
StateCallback = Callable[[str], None]


class LinkPort:
    """The co-processor link on a serial device path; thread-safe `request`."""

    def __init__(
        self,
        path: str,
        baud: int = 115200,
        *,
        reset_pin: int | str | None = None,
        on_event: EventCallback | None = None,
        on_state: StateCallback | None = None,
        hello_timeout: float = 0.3,
        reset_after: int = 3,
        reconnect_cap: float = 0.5,
        pin_factory: object | None = None,
    ) -> None:
        self.path = path
        self.baud = baud
        self._on_event = on_event
        self._on_state = on_state
        self._hello_timeout = hello_timeout
        self._reset_after = reset_after
        self._reconnect_cap = reconnect_cap
        self._reset_pin = reset_pin
        self._pin_factory = pin_factory
        self._reset_dev: OutputDevice | None = None
        self._session = LinkSession()
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._wlock = threading.Lock()
        self._futures: dict[int, concurrent.futures.Future[LinkMap]] = {}
        self._ser: serial.Serial | None = None
        self._broken = False
        self._stop = threading.Event()
        self._state = "down"
        self._mismatch: str | None = None
        self._consecutive = 0
        self._c = {"reconnects": 0, "resets": 0, "opens": 0, "write_errors": 0}
        self._callbacks: list[Callable[[], None]] = []
        self._thread = threading.Thread(target=self._run, name=f"link {path}", daemon=True)
        self._thread.start()

    # -- public API ------------------------------------------------------------------
    @property
    def state(self) -> str:
        return self._state

    @property
    def peer(self) -> HelloAck | None:
        """The firmware's HELLO_ACK (`HelloAck`) once a handshake succeeded, else None."""
        return self._session.peer

    def counters(self) -> dict[str, int | float | str]:
        with self._lock:
            d: dict[str, int | float | str] = dict(self._session.counters())
            d.update(self._c)
            d["state"] = self._state
            return d

    def wait_up(self, timeout: float) -> bool:
        """Wait until the link is up; False after `timeout` seconds."""
        with self._cond:
            return self._cond.wait_for(lambda: self._state == "up", timeout)

    def submit(
        self, method: str, args: LinkMap | None = None, timeout: float = 0.5, retries: int = 3
    ) -> concurrent.futures.Future[LinkMap]:
        """Send a request; the future resolves to the result dict or raises a LinkError.

        While the link is not up (or 16 requests are in flight) this waits up to
        `timeout` seconds for it, then raises LinkError.
        """
        with self._cond:
            ok = self._cond.wait_for(
                lambda: self._stop.is_set()
                or self._state == "version_mismatch"
                or (self._state == "up" and self._session.outstanding() < MAX_IN_FLIGHT),
                timeout,
            )
            if self._stop.is_set():
                raise LinkError(f"link {self.path} is closed")
            if self._state == "version_mismatch":
                raise LinkVersionMismatch(self._mismatch or "link protocol version mismatch")
            if not ok:
                raise LinkError(f"link {self.path} is {self._state}: cannot send {method!r}")
            seq, wire = self._session.send_request(method, args, time.monotonic(), timeout, retries)
            fut: concurrent.futures.Future[LinkMap] = concurrent.futures.Future()
            self._futures[seq] = fut
        self._write(wire)
        return fut

    def request(
        self, method: str, args: LinkMap | None = None, timeout: float = 0.5, retries: int = 3
    ) -> LinkMap:
        """Call `method` on the firmware and wait for its result.

        Raises LinkTimeout (no answer after every retry), CommandError (the firmware
        answered ERROR), LinkVersionMismatch, or LinkError (link down or lost).
        """
        fut = self.submit(method, args, timeout, retries)
        try:
            return fut.result(timeout=_budget(timeout, retries) + 1.0)
        except concurrent.futures.TimeoutError:
            raise LinkTimeout(f"{method}: no reply from the co-processor") from None

    def close(self) -> None:
        """Stop the reader thread (within ~0.5 s), close the port, fail what is waiting."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        self._thread.join(timeout=0.5)
        self._close_serial()
        with self._lock:
            futures, self._futures = self._futures, {}
        for fut in futures.values():
            _fail(fut, LinkError(f"link {self.path} closed"))
        if self._reset_dev is not None:
            try:
                self._reset_dev.close()
            except Exception:  # pragma: no cover - gpiozero teardown
                log.exception("closing the reset line failed")
            self._reset_dev = None

    def __enter__(self) -> LinkPort:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reader thread ------------------------------------------------------------------
    def _run(self) -> None:
        backoff = RECONNECT_MIN
        while not self._stop.is_set():
            try:
                if self._ser is None:
                    if not self._open():
                        self._stop.wait(backoff)
                        backoff = min(backoff * 2, self._reconnect_cap)
                        continue
                    backoff = RECONNECT_MIN
                self._step()
            except (serial.SerialException, OSError) as e:
                self._lost(e)
            except Exception:  # never let the reader thread die
                log.exception("link %s: unexpected error in the reader thread", self.path)
                self._stop.wait(0.1)
            self._run_callbacks()

    def _open(self) -> bool:
        try:
            ser = serial.Serial(self.path, self.baud, timeout=READ_TIMEOUT, write_timeout=1.0)
        except (serial.SerialException, OSError, ValueError):
            self._set_state("down")
            return False
        with self._lock:
            self._ser = ser
            self._broken = False
            if self._c["opens"]:
                self._c["reconnects"] += 1
            self._c["opens"] += 1
        log.info("link %s: port open, handshaking", self.path)
        self._handshake()
        return True

    def _step(self) -> None:
        ser = self._ser
        assert ser is not None
        if self._broken:
            raise serial.SerialException("write failed")
        data = ser.read(max(1, ser.in_waiting))
        now = time.monotonic()
        with self._lock:
            if data:
                self._session.receive_data(data, now)
            self._drain()
            out = self._session.check_timeouts(now)
            self._drain()
        if out:
            self._write(out)

    def _lost(self, err: BaseException) -> None:
        log.warning("link %s: port lost (%s); reconnecting", self.path, err)
        self._close_serial()
        with self._lock:
            self._session.connection_lost()
            self._drain()
        self._set_state("down")

    def _close_serial(self) -> None:
        ser, self._ser = self._ser, None
        if ser is not None:
            try:
                ser.close()
            except Exception:
                pass

    def _write(self, data: bytes) -> None:
        ser = self._ser
        if ser is None or not data:
            return
        try:
            with self._wlock:
                ser.write(data)
        except (serial.SerialException, OSError):
            self._c["write_errors"] += 1
            self._broken = True

    def _handshake(self) -> None:
        with self._lock:
            wire = self._session.start_handshake(time.monotonic(), self._hello_timeout)
        self._set_state("connecting")
        self._write(wire)

    # -- session events (called with the lock held) ---------------------------------------
    def _drain(self) -> None:
        while True:
            ev = self._session.next_event()
            if ev is NEED_DATA:
                return
            assert not isinstance(ev, type(NEED_DATA))
            self._on(ev)

    def _on(self, ev: SessionEvent) -> None:
        if isinstance(ev, Reply):
            self._consecutive = 0
            self._resolve(ev.seq, result=ev.result or {})
        elif isinstance(ev, Failed):
            self._consecutive = 0
            self._resolve(ev.seq, exc=CommandError(ev.code, ev.message, method=ev.method))
        elif isinstance(ev, TimedOut):
            self._resolve(ev.seq, exc=LinkTimeout(
                f"{ev.method}: no reply from the co-processor on {self.path} after {ev.attempts} tries"
            ))
            self._timed_out()
        elif isinstance(ev, Aborted):
            self._resolve(ev.seq, exc=LinkError(f"{ev.method}: link {self.path} lost"))
        elif isinstance(ev, Notification):
            if self._on_event is not None:
                cb, name, data = self._on_event, ev.name, ev.data
                self._callbacks.append(lambda: cb(name, data))
        elif isinstance(ev, LinkUp):
            self._consecutive = 0
            log.info("link %s: up, firmware %s, caps %s%s", self.path, ev.peer.fw_version,
                     ",".join(ev.peer.caps), " (after a reboot)" if ev.rebooted else "")
            self._set_state("up")
        elif isinstance(ev, PeerRebooted):
            level = logging.WARNING if self._state == "up" else logging.INFO
            log.log(level, "link %s: the co-processor (re)booted; handshaking", self.path)
            self._handshake()
        elif isinstance(ev, HandshakeFailed):
            self._timed_out()
            if self._session.state is LinkState.IDLE:
                self._handshake()
        elif isinstance(ev, VersionMismatch):
            self._mismatch = ev.message
            log.error("link %s: %s", self.path, ev.message)
            self._set_state("version_mismatch")
            for seq in list(self._futures):
                self._resolve(seq, exc=LinkVersionMismatch(ev.message))

    def _timed_out(self) -> None:
        self._consecutive += 1
        if self._consecutive < self._reset_after:
            return
        self._consecutive = 0
        self._pulse_reset()
        self._handshake()

    def _pulse_reset(self) -> None:
        if self._reset_pin is None:
            return
        try:
            if self._reset_dev is None:
                from gpiozero import OutputDevice

                self._reset_dev = OutputDevice(
                    self._reset_pin, active_high=False, initial_value=False,
                    pin_factory=self._pin_factory,
                )
            log.warning("link %s: stuck; pulsing reset line %s", self.path, self._reset_pin)
            self._reset_dev.on()
            self._stop.wait(RESET_PULSE)
            self._reset_dev.off()
            self._c["resets"] += 1
        except Exception:
            log.exception("link %s: could not pulse reset line %s", self.path, self._reset_pin)

    def _resolve(
        self, seq: int, result: LinkMap | None = None, exc: BaseException | None = None
    ) -> None:
        fut = self._futures.pop(seq, None)
        self._cond.notify_all()
        if fut is None:
            return
        if exc is not None:
            self._callbacks.append(lambda: _fail(fut, exc))
        else:
            self._callbacks.append(lambda: _succeed(fut, result or {}))

    def _set_state(self, state: str) -> None:
        with self._cond:
            if state == self._state:
                return
            self._state = state
            self._cond.notify_all()
            if self._on_state is not None:
                cb = self._on_state
                self._callbacks.append(lambda: cb(state))

    def _run_callbacks(self) -> None:
        with self._lock:
            todo, self._callbacks = self._callbacks, []
        for fn in todo:
            try:
                fn()
            except Exception:
                log.exception("link %s: callback failed", self.path)


def _budget(timeout: float, retries: int) -> float:
    """Worst-case seconds a request can take with the session's backoff."""
    total, wait = timeout, timeout
    for _ in range(retries):
        wait = min(wait * BACKOFF, MAX_BACKOFF)
        total += max(wait, timeout)
    return total


def _fail(fut: concurrent.futures.Future[LinkMap], exc: BaseException) -> None:
    if not fut.done():
        fut.set_exception(exc)


def _succeed(fut: concurrent.futures.Future[LinkMap], result: LinkMap) -> None:
    if not fut.done():
        fut.set_result(result)


__all__ = ["LinkPort"]
