"""`pi2mqtt watch`: subscribe to `<prefix>/#` and show it live, or as plain lines.

The paho adapter (`Feed`) only moves messages from paho's network thread into a
queue, inside a guarded callback; the calling thread owns the `ViewModel`, so
nothing is shared but the queue. On a terminal, a rich `Live` view (alternate
screen) is redrawn about four times a second from `render()`, and keys drive
the radio of the selected device (Tab chooses; `device.view.keys` has the map):
each key publishes one JSON command on `<prefix>/<id>/<radio>/set` with an `id`
of its own, and the keys line shows the matching reply. Otherwise, or with
`plain=True`, each reading becomes one line `HH:MM:SS device entity value unit`
(local time of receipt), flushed at once so pipes see it immediately.

A broker that cannot be reached, refuses the connection or fails TLS gives one
line on stderr and return code 1; Ctrl-C, `duration` or the `stop` event end
the view with 0.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import json
import logging
import os
import queue
import select
import sys
import termios
import threading
import time
import tty
from collections.abc import Iterator
from types import TracebackType
from typing import TextIO

from rich.console import Console, Group
from rich.live import Live

from device.errors import BrokerError
from device.view.feed import CONNECT_TIMEOUT, Feed
from device.view.fleet import FLEET_MIN, FleetState, fleet_rows, render_fleet
from device.view.keys import STORE_HELP, describe_command, parse_keys, radio_command, status_note
from device.view.render import plain_line, render
from device.view.viewmodel import ViewModel

log = logging.getLogger("pi2mqtt.watch")

REFRESH_PER_SECOND = 4


def watch(
    url: str,
    prefix: str = "pi2mqtt",
    duration: float | None = None,
    plain: bool | None = None,
    out: TextIO = sys.stdout,
    *,
    model: ViewModel | None = None,
    stop: threading.Event | None = None,
    ready: threading.Event | None = None,
    err: TextIO | None = None,
    ca_file: str | None = None,
) -> int:
    """Show every pi2mqtt device under `prefix` on the broker at `url`; return the exit code.

    `model` lets a caller (the demo) read the counts afterwards (`Summary.of`);
    `stop` ends the view from another thread; `ready` is set once subscribed.
    """
    err = err if err is not None else sys.stderr
    model = model if model is not None else ViewModel(prefix)
    stop = stop if stop is not None else threading.Event()
    try:
        feed = Feed(url, prefix, ca_file)
        feed.start()
    except BrokerError as exc:  # TlsError included
        print(f"pi2mqtt watch: {exc}", file=err)
        return 1
    except KeyboardInterrupt:
        return 0
    try:
        if not feed.subscribed.wait(CONNECT_TIMEOUT):
            print(f"pi2mqtt watch: the broker at {url} did not confirm the subscription", file=err)
            return 1
        if ready is not None:
            ready.set()
        deadline = None if duration is None else time.monotonic() + duration
        if plain is None:
            plain = not _is_tty(out)
        with _tolerant(out) as stream:
            if plain:
                _plain_loop(feed, model, stream, stop, deadline)
            else:
                _live_loop(feed, model, stream, stop, deadline)
    except KeyboardInterrupt:
        pass
    except BrokenPipeError:
        # `pi2mqtt watch | head`: the reader left; end quietly, and keep Python's
        # final flush of stdout from complaining about the pipe.
        if out is sys.stdout:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    finally:
        feed.close()
    return 0


@contextlib.contextmanager
def _tolerant(out: TextIO) -> Iterator[TextIO]:
    """`out`, or a view of it that writes `?` for what its encoding cannot show (LANG=C)."""
    encoding = getattr(out, "encoding", None) or "utf-8"
    buffer = getattr(out, "buffer", None)
    try:
        utf8 = codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        utf8 = True  # an encoding we cannot name: leave the stream alone
    if utf8 or buffer is None:
        yield out
        return
    out.flush()
    wrapper = io.TextIOWrapper(buffer, encoding=encoding, errors="replace", write_through=True)
    try:
        yield wrapper
    finally:
        wrapper.flush()
        wrapper.detach()  # leave the caller's stream open


def _is_tty(out: TextIO) -> bool:
    try:
        return out.isatty()
    except (AttributeError, ValueError):
        return False


def _remaining(deadline: float | None, cap: float) -> float:
    if deadline is None:
        return cap
    return min(cap, deadline - time.monotonic())


def _plain_loop(feed: Feed, model: ViewModel, out: TextIO, stop: threading.Event,
                deadline: float | None, keys: TextIO | None = None) -> None:
    """Plain lines; `q` from a terminal stdin still quits when the output is piped (`| tee`)."""
    with KeyReader(keys) as keyboard:
        _plain_lines(feed, model, out, stop, deadline, keyboard)


def _plain_lines(feed: Feed, model: ViewModel, out: TextIO, stop: threading.Event,
                 deadline: float | None, keyboard: KeyReader) -> None:
    was_connected = True
    while not stop.is_set():
        if any(k in QUIT_KEYS for k in parse_keys(keyboard.keys())):
            break
        wait = _remaining(deadline, 0.1)
        if wait <= 0:
            break
        if was_connected != feed.connected:
            was_connected = feed.connected
            state = "connection back" if was_connected else "connection lost, reconnecting"
            out.write(f"{time.strftime('%H:%M:%S')} -- broker {state}\n")
            out.flush()
        try:
            topic, payload, at, retained = feed.messages.get(timeout=wait)
        except queue.Empty:
            continue
        lines = []
        while True:
            seen = model.apply(topic, payload, at, retained)
            if seen is not None:
                lines.append(plain_line(time.strftime("%H:%M:%S", time.localtime(at)), seen) + "\n")
            try:
                topic, payload, at, retained = feed.messages.get_nowait()
            except queue.Empty:
                break
        out.write("".join(lines))
        out.flush()


class KeyReader:
    """Single keys from a terminal stdin in cbreak mode (Ctrl-C still interrupts).

    Inactive (reads nothing) when stdin is not a terminal; the terminal mode is
    restored on exit, also after an exception.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream if stream is not None else sys.stdin
        self._fd: int | None = None
        self._saved: list[int | list[bytes | int]] | None = None  # termios attributes

    def __enter__(self) -> KeyReader:
        try:
            fd = self._stream.fileno()
            if os.isatty(fd):
                self._saved = termios.tcgetattr(fd)
                tty.setcbreak(fd)
                self._fd = fd
        except (AttributeError, OSError, ValueError, termios.error):
            self._fd = None
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._fd is not None and self._saved is not None:
            try:
                termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)
            except termios.error:
                pass
        self._fd = None

    def keys(self) -> str:
        """Whatever keys are waiting (never blocks); '' when none or inactive."""
        if self._fd is None:
            return ""
        try:
            if not select.select([self._fd], [], [], 0)[0]:
                return ""
            return os.read(self._fd, 64).decode("utf-8", "replace")
        except OSError:
            return ""


QUIT_KEYS = frozenset("qQ")


class Controls:
    """Which device the keys act on, and what the last key sent (state of the live loop)."""

    def __init__(self, model: ViewModel, feed: Feed) -> None:
        self.model = model
        self.feed = feed
        self.selected: str | None = None
        self.sent = ""
        self.sent_id = ""
        self.storing = False  # P was pressed: the next digit stores a preset
        self._count = 0

    def choose_default(self) -> None:
        """Keep a valid selection: the first device with a radio, else the first device."""
        devs = self.model.devices
        if self.selected in devs:
            return
        with_radio = [d.id for d in devs.values() if d.radio is not None]
        self.selected = with_radio[0] if with_radio else next(iter(devs), None)

    def handle(self, key: str) -> bool:
        """Act on one key; True when it asks to quit."""
        if key in QUIT_KEYS:
            return True
        self.choose_default()
        ids = list(self.model.devices)
        if key in ("tab", "backtab") and ids:
            i = ids.index(self.selected) if self.selected in ids else 0
            self.selected = ids[(i + (1 if key == "tab" else -1)) % len(ids)]
            self.sent = self.sent_id = ""
            return False
        dev = self.model.devices.get(self.selected or "")
        if dev is None or dev.radio is None:
            return False
        storing, self.storing = self.storing, False
        if key == "P" and not storing:
            self.storing = True
            return False
        cmd = radio_command(key, dev.radio, storing=storing)
        if cmd is None:
            return False
        self._count += 1
        self.sent_id = f"watch-{os.getpid()}-{self._count}"
        self.sent = describe_command(cmd)
        topic = f"{self.model.prefix}/{dev.id}/{dev.radio.name}/set"
        if not self.feed.publish(topic, json.dumps({**cmd, "id": self.sent_id})):
            self.sent += " (not connected)"
        return False

    def note(self) -> str:
        if self.storing:
            return STORE_HELP
        dev = self.model.devices.get(self.selected or "")
        if not self.sent or dev is None or dev.radio is None:
            return self.sent
        return status_note(self.sent, self.sent_id, dev.radio.last_reply)


def _handle_keys(keys: list[str], controls: Controls, fleet: FleetState, model: ViewModel) -> bool:
    """Keys to the fleet list first (when it is shown), then to the device view; True: quit."""
    for key in keys:
        if fleet.open is not None or len(model.devices) >= FLEET_MIN:
            ids = [d.id for d in fleet_rows(model, fleet, time.time())]
            if fleet.handle(key, ids):
                continue
            if fleet.open is None and key not in QUIT_KEYS:
                continue  # radio keys act only in a device opened from the list
            controls.selected = fleet.open
        if controls.handle(key):
            return True
    return False


def _live_loop(feed: Feed, model: ViewModel, out: TextIO, stop: threading.Event,
               deadline: float | None) -> None:
    console = Console(file=out)
    period = 1.0 / REFRESH_PER_SECOND
    controls = Controls(model, feed)
    fleet = FleetState()

    def frame() -> Group:
        state = "" if feed.connected else "  (reconnecting)"
        if fleet.open is not None or len(model.devices) >= FLEET_MIN:
            controls.selected = fleet.open
            return render_fleet(model, fleet, console.width, console.height, now=time.time(),
                                source=feed.url + state, note=controls.note())
        controls.choose_default()
        return render(model, console.width, console.height, now=time.time(),
                      source=feed.url + state, selected=controls.selected, note=controls.note())

    with KeyReader() as keyboard, Live(frame(), console=console, screen=True, auto_refresh=False,
                                       redirect_stdout=False, redirect_stderr=False) as live:
        next_draw = time.monotonic() + period
        while not stop.is_set():
            keys = parse_keys(keyboard.keys())
            if _handle_keys(keys, controls, fleet, model):
                break
            if keys:
                next_draw = time.monotonic()  # show the key's effect at once
            wait = _remaining(deadline, next_draw - time.monotonic())
            if deadline is not None and time.monotonic() >= deadline:
                break
            try:
                topic, payload, at, retained = feed.messages.get(timeout=max(0.0, min(wait, 0.05)))
                model.apply(topic, payload, at, retained)
                for _ in range(500):  # drain a burst, then look at the keys again
                    topic, payload, at, retained = feed.messages.get_nowait()
                    model.apply(topic, payload, at, retained)
            except queue.Empty:
                pass
            if time.monotonic() >= next_draw:
                live.update(frame(), refresh=True)
                next_draw = time.monotonic() + period
