"""The simulated co-processor: the real firmware link server on a pseudo-terminal.

`SimMcu` makes a pty, points a stable symlink (``link_path``) at its slave side,
and runs `p2mfw.server.LinkServer` — the same code the Pico runs — in a thread
with a port object over the pty master. The daemon opens ``link_path`` with
pyserial exactly as it opens /dev/ttyACM0 on a Pi.

The port paces both directions at the line rate (8N1: 10 bits per byte): a frame
the firmware writes reaches the host ``len * 10 / baud`` seconds after the line
is free (through a transmit FIFO, as on the RP2040's UART), and bytes the host
writes become readable by the firmware only after they would have crossed the wire.

Faults: `unplug` (link and fds gone: pyserial fails), `replug` (a new pty behind
the same link), `reboot` (fresh firmware state, reply cache lost, handshake
needed), `inject_garbage`, `drop_next(n)` / `corrupt_next(n)` frames towards the
host. `register_controls` exposes them as hwsim control paths ``mcu/<fault>``.

At every (re)boot ``build(server, i2c)`` attaches the drivers; by default the
firmware's own driver list (`p2mfw.main.attach_drivers`) with the board's `pins`
(as `board_pico.make_pins` gives them on a Pico: "tuner_rst", "sda", "i2c_init"),
here `hwsim.i2c.McuPin` lines wired to the chip models by the caller.
"""

from __future__ import annotations

import logging
import os
import select
import threading
import time
import tty
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from p2mfw.server import LinkServer

from hwsim.i2c import SimI2C

log = logging.getLogger(__name__)

BITS_PER_BYTE = 10
TX_FIFO = 1024
"""Bytes the firmware can queue for sending before write() blocks (board_pico TX_BUF)."""
EAGAIN_PATIENCE = 0.2
"""How long a full pty buffer may stall a write before the rest is dropped."""

BuildFn = Callable[[LinkServer, SimI2C], object]


class ControlRegistrar(Protocol):
    """Where hwsim control paths are registered (the lead's MQTT bridge)."""

    def register(self, path: str, handler: Callable[[str], object]) -> None: ...


def _driver_build(pins: dict[str, object] | None) -> BuildFn:
    def build(server: LinkServer, i2c: SimI2C) -> None:
        from p2mfw.main import attach_drivers

        attach_drivers(server, i2c, pins=pins)

    return build


class _PtyPort:
    """The firmware's view of the UART: non-blocking read(n), write(buf), both paced.

    Writes go into a transmit FIFO of `TX_FIFO` bytes (as `machine.UART(txbuf=...)`):
    `write` returns at once unless the FIFO is full, and a wire thread hands each
    frame to the pty when its last bit would have left the pin. Each frame's time
    on the line follows the previous one's, so late wake-ups add latency, never gaps.
    """

    def __init__(self, mcu: SimMcu) -> None:
        self._mcu = mcu
        self._rx: deque[tuple[float, bytes]] = deque()
        self._rx_clock = 0.0
        self._tx_free = 0.0
        self._tx_lock = threading.Lock()
        self._txq: deque[tuple[float, bytes]] = deque()
        self._txq_cond = threading.Condition()

    def reset_rx(self) -> None:
        self._rx.clear()

    def reset_tx(self) -> None:
        with self._txq_cond:
            self._txq.clear()

    def next_rx_wait(self, now: float) -> float | None:
        return max(0.0, self._rx[0][0] - now) if self._rx else None

    def read(self, n: int) -> bytes | None:
        now = time.monotonic()
        data = self._mcu._read_fd()
        if data:
            start = max(now, self._rx_clock)
            self._rx_clock = start + len(data) * BITS_PER_BYTE / self._mcu.baud
            self._rx.append((self._rx_clock, data))
        out = bytearray()
        while self._rx and self._rx[0][0] <= now and len(out) < n:
            t, chunk = self._rx.popleft()
            take = chunk[: n - len(out)]
            out += take
            if len(take) < len(chunk):
                self._rx.appendleft((t, chunk[len(take) :]))
        return bytes(out) if out else None

    def write(self, buf: bytes) -> int:
        self._send(self._mcu._fault(bytes(buf)), len(buf))
        return len(buf)

    def write_raw(self, data: bytes, paced: bool = True) -> None:
        if paced:
            self._send(data, len(data))
        else:
            self._mcu._write_fd(data)

    def _send(self, wire: bytes, nbytes: int) -> None:
        """Queue `wire` to leave after `nbytes` of line time; block while the FIFO is full."""
        with self._tx_lock:
            now = time.monotonic()
            start = max(now, self._tx_free)
            self._tx_free = start + nbytes * BITS_PER_BYTE / self._mcu.baud
            due = self._tx_free
        with self._txq_cond:
            self._txq.append((due, wire))
            self._txq_cond.notify()
        backlog = due - now - TX_FIFO * BITS_PER_BYTE / self._mcu.baud
        if backlog > 0:
            time.sleep(backlog)

    def wire_loop(self, stop: threading.Event) -> None:
        """The wire thread: deliver queued frames to the host when they are due."""
        while not stop.is_set():
            with self._txq_cond:
                if not self._txq:
                    self._txq_cond.wait(0.05)
                    continue
                due, wire = self._txq[0]
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            with self._txq_cond:
                if not self._txq or self._txq[0][0] != due:
                    continue  # cleared meanwhile (unplugged)
                self._txq.popleft()
            if wire:
                self._mcu._write_fd(wire)


class SimMcu:
    """A simulated RP2040 running the firmware's link server behind `link_path`."""

    def __init__(
        self,
        link_path: str | os.PathLike[str],
        baud: int = 115200,
        build: BuildFn | None = None,
        *,
        i2c: SimI2C | None = None,
        fw_version: str = "0.1.0",
        caps: tuple[str, ...] = (),
        pins: dict[str, object] | None = None,
    ) -> None:
        self.link_path = Path(link_path)
        self.baud = baud
        self.fw_version = fw_version
        self.caps = tuple(caps)
        self._build = build if build is not None else _driver_build(pins)
        self._i2c = i2c if i2c is not None else SimI2C()
        self._fd_lock = threading.Lock()
        self._master: int | None = None
        self._slave: int | None = None
        self._port = _PtyPort(self)
        self._server: LinkServer | None = None
        self._reboot = threading.Event()
        self._stop = threading.Event()
        self._booted = threading.Condition()
        self._drop = 0
        self._corrupt = 0
        self.boots = 0
        self.stats = {"dropped": 0, "corrupted": 0, "garbage_bytes": 0, "tx_overruns": 0}
        self._plug()
        self._thread = threading.Thread(target=self._run, name=f"hwsim mcu {self.link_path}", daemon=True)
        self._wire = threading.Thread(
            target=self._port.wire_loop, args=(self._stop,), name=f"hwsim wire {self.link_path}", daemon=True
        )
        self._thread.start()
        self._wire.start()

    # -- what tests and the lead use -------------------------------------------------------
    @property
    def i2c(self) -> SimI2C:
        """The simulated I2C bus; attach chip models to it."""
        return self._i2c

    @property
    def server(self) -> LinkServer | None:
        """The firmware's current LinkServer (a new one after each reboot)."""
        return self._server

    @property
    def plugged(self) -> bool:
        return self._master is not None

    def wait_booted(self, boots: int = 1, timeout: float = 2.0) -> bool:
        """Wait until the firmware has booted `boots` times in total."""
        with self._booted:
            return self._booted.wait_for(lambda: self.boots >= boots, timeout)

    def unplug(self) -> None:
        """Yank the cable: the link disappears and the host's reads and writes fail."""
        with self._fd_lock:
            try:
                self.link_path.unlink()
            except FileNotFoundError:
                pass
            for fd in (self._master, self._slave):
                if fd is not None:
                    os.close(fd)
            self._master = self._slave = None
        self._port.reset_rx()
        self._port.reset_tx()
        log.info("hwsim mcu %s: unplugged", self.link_path)

    def replug(self) -> None:
        """Plug back in: a new pty behind the same link path (no-op if plugged)."""
        if not self.plugged:
            self._plug()
            log.info("hwsim mcu %s: replugged", self.link_path)

    def reboot(self) -> None:
        """Restart the firmware: fresh server, reply cache and session lost."""
        self._reboot.set()

    def inject_garbage(self, data: bytes, paced: bool = True) -> None:
        """Put raw bytes on the line towards the host (paced at the line rate unless told)."""
        self.stats["garbage_bytes"] += len(data)
        self._port.write_raw(bytes(data), paced)

    def drop_next(self, n: int = 1) -> None:
        """Lose the next `n` frames the firmware sends."""
        self._drop += n

    def corrupt_next(self, n: int = 1) -> None:
        """Flip a bit in each of the next `n` frames the firmware sends."""
        self._corrupt += n

    def clear_faults(self) -> None:
        """Cancel pending drop and corrupt faults."""
        self._drop = self._corrupt = 0

    def register_controls(self, registry: ControlRegistrar) -> None:
        """Expose the faults as control paths ``mcu/unplug|replug|reboot|garbage|drop|corrupt``."""
        registry.register("mcu/unplug", lambda payload: self.unplug())
        registry.register("mcu/replug", lambda payload: self.replug())
        registry.register("mcu/reboot", lambda payload: self.reboot())
        registry.register("mcu/garbage", self._garbage_control)
        registry.register("mcu/drop", lambda payload: self.drop_next(_count(payload, 1)))
        registry.register("mcu/corrupt", lambda payload: self.corrupt_next(_count(payload, 1)))

    def close(self) -> None:
        """Stop the firmware thread and remove the pty and the link."""
        self._stop.set()
        self._thread.join(timeout=1.0)
        self._wire.join(timeout=1.0)
        self.unplug()

    def __enter__(self) -> SimMcu:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals --------------------------------------------------------------------------
    def _garbage_control(self, payload: str | bytes) -> None:
        n = _count(payload, 256)
        threading.Thread(
            target=self.inject_garbage, args=(os.urandom(n),), name="hwsim garbage", daemon=True
        ).start()

    def _plug(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        tmp = self.link_path.with_name(f".{self.link_path.name}.{os.getpid()}.tmp")
        try:
            tmp.unlink()
        except FileNotFoundError:
            pass
        os.symlink(os.ttyname(slave), tmp)
        with self._fd_lock:
            self._master, self._slave = master, slave
            os.replace(tmp, self.link_path)

    def _read_fd(self) -> bytes:
        with self._fd_lock:
            if self._master is None:
                return b""
            try:
                return os.read(self._master, 4096)
            except (BlockingIOError, InterruptedError):
                return b""
            except OSError:
                return b""

    def _write_fd(self, data: bytes) -> None:
        view = memoryview(data)
        stalled_since: float | None = None
        while view:
            with self._fd_lock:
                if self._master is None:
                    return  # unplugged: the bytes go nowhere
                try:
                    n = os.write(self._master, view)
                except (BlockingIOError, InterruptedError):
                    n = 0
                except OSError:
                    return
            if n:
                view = view[n:]
                stalled_since = None
                continue
            now = time.monotonic()
            if stalled_since is None:
                stalled_since = now
            elif now - stalled_since > EAGAIN_PATIENCE:
                self.stats["tx_overruns"] += 1
                return
            time.sleep(0.001)

    def _fault(self, frame: bytes) -> bytes:
        if self._drop > 0:
            self._drop -= 1
            self.stats["dropped"] += 1
            return b""
        if self._corrupt > 0 and len(frame) > 2:
            self._corrupt -= 1
            self.stats["corrupted"] += 1
            b = bytearray(frame)
            i = len(b) // 2
            b[i] ^= 0x01 if b[i] != 0x01 else 0x02  # never makes a 0x00 delimiter
            return bytes(b)
        return frame

    def _boot(self) -> LinkServer:
        self._reboot.clear()
        self._port.reset_rx()
        server = LinkServer(self._port, fw_version=self.fw_version, caps=list(self.caps))
        try:
            self._build(server, self._i2c)
        except Exception:
            log.exception("hwsim mcu: attaching drivers failed")
        self._server = server
        with self._booted:
            self.boots += 1
            self._booted.notify_all()
        return server

    def _run(self) -> None:
        server = self._boot()
        while not self._stop.is_set():
            if self._reboot.is_set():
                server = self._boot()
            try:
                server.poll()
            except Exception:  # the firmware's poll() never raises; be safe anyway
                log.exception("hwsim mcu: poll raised")
            now = time.monotonic()
            wait = server.wait_hint_ms(5) / 1000.0
            rx_wait = self._port.next_rx_wait(now)
            if rx_wait is not None:
                wait = min(wait, rx_wait)
            if wait <= 0:
                continue
            fd = self._master
            if fd is None or rx_wait is not None:
                self._stop.wait(wait)
                continue
            try:
                select.select([fd], [], [], wait)
            except (OSError, ValueError):
                self._stop.wait(wait)


def _count(payload: str | bytes, default: int) -> int:
    """A count from a control payload (``b"5"`` or ``"5"``); empty means `default`."""
    text = payload.decode(errors="replace") if isinstance(payload, bytes | bytearray) else payload
    text = text.strip()
    if not text:
        return default
    try:
        n = int(float(text))
    except ValueError:
        raise ValueError(f"payload must be a count, got {text[:40]!r}") from None
    if n < 0:
        raise ValueError(f"payload must be a count >= 0, got {n}")
    return n


__all__ = ["SimMcu"]

