"""The daemon's radio service: the thin adapter around `RadioMachine` (threads, link, clock, files).

Theory of operation
-------------------
All the radio's logic is in the sans-IO machine (device.radio.machine). This
adapter owns what the machine must not: one worker thread, the co-processor
link (`TunerLink`), the clock and the state directory (`RadioStore`).

Every input goes through one queue to the worker, stamped with
`time.monotonic()` when it happened: commands (`command()`, on the daemon's
command thread or the physical controls' thread, which then wait for the
reply), link events and link state changes (on the link's reader thread),
and a `Tick` whenever the machine's `deadline` passes. The worker feeds
the machine one input at a time and carries out what comes back, in order:
a `ChipRequest` is a link call made on the worker (never on the reader
thread, whose events it may be waiting for) and answered at once with
`ChipAnswered`; state documents and events go to the daemon's context (events
stamped with the wall clock); `SaveFile` writes the state directory; a
`CommandReply` wakes the command's caller; `Notify` calls the Home Assistant
listeners (no lock held). The idle status poll (`ChipRequest(aside=True)`) is
made on a second thread, "radio-poll", whose answer is queued like any input:
a command never waits behind a poll.

`_lock` guards the machine while it is fed, so that the hooks the daemon and
Home Assistant discovery call from other threads (`band_limits()`,
`presets()`, `diagnostics()`) read a consistent state. It is never held
across a link call.

Persistence: settings, presets and the station names confirmed by RDS
(device.radio.state) are saved when they change; settings are restored at
boot and whenever the co-processor comes back.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Final

from device.components.base import EntityInfo
from device.core.services import Service, ServiceContext
from device.core.timefmt import iso_ms
from device.core.values import JsonDoc
from device.errors import CommandError
from device.link import LinkMap, LinkValue
from device.mqtt.payloads import dumps
from device.radio import validate
from device.radio.config import RadioConfig
from device.radio.link import TunerLink
from device.radio.machine import (
    ChipAnswered,
    CommandReceived,
    Input,
    LinkEventReceived,
    LinkStateChanged,
    RadioMachine,
    Started,
    Stopping,
    Tick,
)
from device.radio.ops import error_doc
from device.radio.state import RadioStore
from device.radio.steps import (
    ChipRequest,
    CommandReply,
    Notify,
    Output,
    PublishEvent,
    PublishState,
    SaveFile,
)

if TYPE_CHECKING:
    from device.radio.controls import RadioControls

log = logging.getLogger("pi2mqtt.radio")

COMMAND_WAIT: Final = 60.0
"""A command's caller waits this long for its reply at most (link calls are bounded well below)."""


class _Pending:
    """A command's caller waiting for its reply."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.reply = b""


class RadioService(Service):
    """The FM radio behind the co-processor; see the module docstring and docs/radio.md."""

    def __init__(self, cfg: RadioConfig) -> None:
        self.cfg = cfg
        self.name = cfg.name
        self._machine = RadioMachine(cfg)
        self._lock = threading.Lock()
        self._inbox: queue.Queue[tuple[Input, _Pending | None] | None] = queue.Queue()
        self._ctx: ServiceContext | None = None
        self._tuner = TunerLink(None)
        self._store = RadioStore(None, cfg.name)
        self._worker = threading.Thread(target=self._work, name=f"{cfg.name}-worker", daemon=True)
        self._aside: queue.Queue[ChipRequest | None] = queue.Queue()
        self._poller = threading.Thread(target=self._poll, name=f"{cfg.name}-poll", daemon=True)
        self._controls: RadioControls | None = None
        self._preset_listeners: list[Callable[[], None]] = []
        self._plan_listeners: list[Callable[[], None]] = []

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self, ctx: ServiceContext) -> None:
        self._ctx = ctx
        self._tuner = TunerLink(ctx.link)
        self._store = RadioStore(ctx.state_dir, self.name)
        defaults = self._machine.state.settings
        if self.cfg.frequency is not None:
            try:
                defaults = replace(defaults, khz=validate.parse_mhz(self.cfg.frequency))
            except CommandError as e:
                log.warning("radio: [radio].frequency: %s", e.message)
        settings = self._store.load_settings(defaults, self._machine.state.config_key)
        self._post(Started(time.monotonic(), self._tuner.up, settings, tuple(self._store.load_presets()),
                           self._store.load_rds_memory()))
        ctx.on_link_event(self._on_link_event)
        ctx.on_link_state(self._on_link_state)
        self._worker.start()
        self._poller.start()
        pins = self.cfg.control_pins()
        if pins:
            try:
                from device.radio.controls import RadioControls

                self._controls = RadioControls(self.cfg, ctx.pin_factory, self.command)
            except Exception as e:
                log.error("radio: physical controls on %s: %s (the radio works without them)", pins, e)

    def close(self) -> None:
        if self._controls is not None:
            try:
                self._controls.close()
            except Exception:
                log.exception("radio: closing the physical controls")
        self._post(Stopping(time.monotonic()))
        self._aside.put(None)
        if self._worker.is_alive():
            self._inbox.put(None)
            self._worker.join(2.0)
        else:
            self._drain_here()

    def command(self, payload: bytes) -> bytes:
        """Handle one command; returns the JSON reply. Never raises."""
        pending = _Pending()
        self._post(CommandReceived(time.monotonic(), payload), pending)
        waited = 0.0
        while not pending.done.wait(0 if waited == 0 else 0.5):
            if not self._worker.is_alive() or threading.current_thread() is self._worker:
                self._drain_here()  # before start() or after close(): answered on this thread
            elif waited >= COMMAND_WAIT:
                err = CommandError("TIMEOUT", "the radio did not answer in time")
                return dumps(error_doc(None, None, err))
            waited += 0.5
        return pending.reply

    # -- hooks for Home Assistant discovery (docs/home-assistant.md) ------------------------------
    def band_limits(self) -> tuple[float, float, float]:
        """(min_mhz, max_mhz, step_mhz) of the current band plan."""
        with self._lock:
            return self._machine.band_limits()

    def presets(self) -> list[JsonDoc]:
        """The presets as published on `<name>_presets`."""
        with self._lock:
            return self._machine.presets()

    def on_presets_changed(self, callback: Callable[[], None]) -> None:
        """Call `callback()` (no lock held) after every change of the presets."""
        self._preset_listeners.append(callback)

    def on_plan_changed(self, callback: Callable[[], None]) -> None:
        """Call `callback()` (no lock held) after the band plan (band, spacing) may have changed."""
        self._plan_listeners.append(callback)

    def entities(self) -> list[EntityInfo]:
        return [
            EntityInfo(self.name, "radio", "sensor", "MHz", "frequency", controllable=True),
            EntityInfo(f"{self.name}_rds", "radio", "sensor"),
            EntityInfo(f"{self.name}_presets", "radio", "sensor"),
        ]

    def diagnostics(self) -> JsonDoc:
        with self._lock:
            return self._machine.diagnostics()

    # -- the link ------------------------------------------------------------------------------
    def _on_link_state(self, state: str) -> None:
        self._post(LinkStateChanged(time.monotonic(), state))

    def _on_link_event(self, name: str, data: LinkValue) -> None:
        self._post(LinkEventReceived(time.monotonic(), name, data))

    # -- the worker ----------------------------------------------------------------------------
    def _post(self, inp: Input, pending: _Pending | None = None) -> None:
        self._inbox.put((inp, pending))

    def _work(self) -> None:
        while True:
            deadline = self._machine.deadline
            timeout = None if deadline is None else max(0.001, deadline - time.monotonic())
            try:
                item = self._inbox.get(timeout=timeout)
            except queue.Empty:
                item = (Tick(time.monotonic()), None)
            if item is None:
                self._drain_here()  # what came after close(): answered, not left waiting
                return
            self._feed(*item)

    def _poll(self) -> None:
        """The status poll's calls, beside the worker's: a command never waits for a poll."""
        while (request := self._aside.get()) is not None:
            result = self._call(request.method, request.args)
            self._post(ChipAnswered(time.monotonic(), result, aside=True))

    def _drain_here(self) -> None:
        """Feed what is queued on this thread (before start, after close, or from the worker itself)."""
        while True:
            try:
                item = self._inbox.get_nowait()
            except queue.Empty:
                return
            if item is not None:
                self._feed(*item)

    def _feed(self, inp: Input, pending: _Pending | None) -> None:
        try:
            with self._lock:
                outs = self._machine.send(inp)
            while outs:
                outs = self._carry_out(outs, pending)
        except Exception:
            log.exception("radio: %s failed", type(inp).__name__)
        if pending is not None and not pending.done.is_set():
            pending.reply = dumps(error_doc(None, None, CommandError("INTERNAL", "the radio failed")))
            pending.done.set()

    def _carry_out(self, outs: list[Output], pending: _Pending | None) -> list[Output]:
        """Do what the machine asked; the machine's next outputs if it asked for a chip call."""
        for out in outs:
            if isinstance(out, ChipRequest) and out.aside:
                self._aside.put(out)
            elif isinstance(out, ChipRequest):
                result = self._call(out.method, out.args)
                with self._lock:
                    return self._machine.send(ChipAnswered(time.monotonic(), result))
            elif isinstance(out, CommandReply):
                if pending is not None:
                    pending.reply = out.payload
                    pending.done.set()
            else:
                self._do(out)
        return []

    def _call(self, method: str, args: LinkMap) -> LinkMap | CommandError:
        try:
            return self._tuner.call(method, args)
        except CommandError as e:
            return e

    def _do(self, out: PublishState | PublishEvent | SaveFile | Notify) -> None:
        try:
            if isinstance(out, PublishState):
                if self._ctx is not None:
                    self._ctx.publish(out.entity, out.value, extra=out.extra, unit=out.unit)
            elif isinstance(out, PublishEvent):
                if self._ctx is not None:
                    self._ctx.publish_event(f"{self.name}/event", {**out.doc, "ts": iso_ms(time.time())})
            elif isinstance(out, SaveFile):
                self._store.save(out.kind, out.doc)
            else:
                listeners = self._preset_listeners if out.what == "presets" else self._plan_listeners
                for cb in list(listeners):
                    cb()
        except Exception:
            log.exception("radio: %s failed", type(out).__name__)

