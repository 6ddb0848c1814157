"""The daemon core: components in, readings to the outbox, commands routed, health shown.

Theory of operation
-------------------
`Daemon.start()` opens every component (one that fails to open is marked
failed; the rest go on), starts one `Poller` thread per polled entity, hooks
event components to their edges, and starts the MQTT client. Every value —
polled, edge or output state — goes through `publish_value()`, which assigns
the entity's next `seq`, builds the JSON payload and puts it in the outbox
under one lock, so each entity's readings are queued in order.

Commands arrive on paho's thread and are queued to one command worker, which
validates, applies, publishes the new state and replies. `run()` is the main
loop: it watches for hung reads, publishes diagnostics and drives the status
LED until asked to stop. `stop()` is bounded: it never waits on a stuck read.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from pathlib import Path
from typing import Any

from device import __version__
from device.components.base import Component, EventComponent, OutputComponent, PolledComponent
from device.components.registry import build_components
from device.components.status_led import StatusLed
from device.config.model import Config, Polled
from device.errors import CommandError
from device.mqtt import payloads
from device.mqtt.client import MqttClient
from device.mqtt.topics import Topics
from device.outbox import MemoryOutbox, Outbox, OutMsg
from device.poller import Poller
from device.schedule import ChangeFilter
from device.state import SeqStore

log = logging.getLogger("pi2mqtt")


class EntityHealth:
    """Per-entity figures for diagnostics."""

    __slots__ = ("error", "errors", "filter", "published", "timed_out")

    def __init__(self, flt: ChangeFilter) -> None:
        self.filter = flt
        self.published = 0
        self.errors = 0
        self.error: str | None = None
        self.timed_out = False


class Daemon:
    """One pi2mqtt device: its components, its outbox and its broker connection."""

    def __init__(
        self,
        cfg: Config,
        *,
        pin_factory: Any = None,
        state_dir: Path | None = None,
        outbox: Outbox | None = None,
        password: str | None = None,
    ) -> None:
        self.cfg = cfg
        self.topics = Topics(cfg.mqtt.prefix, cfg.device.id)
        self.pin_factory = pin_factory
        self.state_dir = state_dir
        self.outbox: Outbox = outbox if outbox is not None else MemoryOutbox()
        self.seqs = SeqStore(state_dir / "seq.json" if state_dir else None)
        self.components: list[Component] = []
        self.outputs: dict[str, OutputComponent] = {}
        self.health: dict[str, EntityHealth] = {}
        self.failed: dict[str, str] = {}
        self.pollers: list[Poller] = []
        self.status_led = StatusLed(cfg.status_led, pin_factory) if cfg.status_led else None
        self._publish_lock = threading.Lock()
        self._stop = threading.Event()
        self._commands: queue.Queue[tuple[str, str, bytes, Any] | None] = queue.Queue(maxsize=256)
        self._command_thread = threading.Thread(target=self._command_loop, name="commands", daemon=True)
        self.started_at = time.time()
        self.first_publish_at: float | None = None
        self.commands_ok = 0
        self.commands_failed = 0
        self.client = MqttClient(
            cfg.mqtt, self.topics, self.outbox, password=password,
            on_command=self._on_command, on_state=self._on_mqtt_state,
        )
        for comp in build_components(cfg, pin_factory):
            self.add_component(comp)

    def add_component(self, comp: Component) -> None:
        """Add a component built elsewhere (co-processor, radio, tests) before `start()`."""
        self.components.append(comp)
        ecfg = comp.cfg
        flt = ChangeFilter(ecfg.deadband, ecfg.heartbeat) if isinstance(ecfg, Polled) else ChangeFilter(None, None)
        self.health[comp.name] = EntityHealth(flt)
        if isinstance(comp, OutputComponent):
            self.outputs[comp.name] = comp

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        if self.status_led is not None:
            try:
                self.status_led.open()
                self.status_led.show("connecting")
            except Exception as e:
                log.error("status LED on GPIO%d: %s", self.status_led.cfg.pin, e)
                self.status_led = None
        self.client.start()
        for comp in self.components:
            try:
                comp.open()
            except Exception as e:
                self._mark_failed(comp, f"cannot open: {e}")
                continue
            log.debug("opened %s %s", comp.kind, comp.name)
        self._command_thread.start()
        now = time.time()
        for comp in self.components:
            if comp.name in self.failed:
                continue
            try:
                if isinstance(comp, EventComponent):
                    self.publish_value(comp, comp.current(), now)
                    comp.start(_emitter(self, comp))
                elif isinstance(comp, OutputComponent):
                    self.publish_value(comp, comp.state(), now)
                elif isinstance(comp, PolledComponent):
                    ecfg = comp.cfg
                    assert isinstance(ecfg, Polled)
                    p = Poller(comp, ecfg.interval, ecfg.timeout, self._on_polled, self._stop)
                    self.pollers.append(p)
            except Exception as e:
                self._mark_failed(comp, f"cannot start: {e}")
        for p in self.pollers:
            p.start()
        log.info("pi2mqtt %s started: device %r, %d entities (%d failed), broker %s",
                 __version__, self.cfg.device.id, len(self.components), len(self.failed), self.cfg.mqtt.url)

    def run(self, stop: threading.Event, tick: float = 0.1) -> None:
        """The main loop: supervise reads, diagnostics, status LED; until `stop` is set."""
        next_diag = time.monotonic() + min(5.0, self.cfg.diagnostics.interval)
        while not stop.wait(tick):
            now = time.monotonic()
            self._supervise(now)
            if now >= next_diag:
                self.publish_diagnostics()
                next_diag = now + self.cfg.diagnostics.interval
            self._update_led()

    def stop(self, timeout: float = 1.5) -> None:
        """Stop polling, publish offline, disconnect; bounded by `timeout` seconds."""
        deadline = time.monotonic() + timeout
        self._stop.set()
        try:
            self._commands.put_nowait(None)
        except queue.Full:
            pass
        self.client.stop(timeout=max(0.2, deadline - time.monotonic() - 0.3))
        # Close devices on a helper thread: a device stuck in a read must not hold up exit.
        closer = threading.Thread(target=self._close_all, name="close", daemon=True)
        closer.start()
        closer.join(max(0.05, deadline - time.monotonic()))
        self.seqs.close()
        log.info("stopped")

    def _close_all(self) -> None:
        for p in self.pollers:
            p.join(0.05)
        for comp in self.components:
            comp.close()
        if self.status_led is not None:
            self.status_led.show("stopped")
            self.status_led.close()

    # -- values ----------------------------------------------------------------------------
    def publish_value(self, comp: Component, value: Any, ts: float, error: str | None = None) -> None:
        """Queue one reading of `comp` (in order, with the entity's next seq)."""
        h = self.health[comp.name]
        if error is None and not h.filter.should_publish(value, ts):
            return
        qos = self.cfg.mqtt.qos
        with self._publish_lock:
            seq = self.seqs.next(comp.name)
            payload = payloads.reading(value, ts, seq, comp.unit_of_measurement(), error)
            self.client.note_latest(comp.name, ts)
            self.outbox.put(OutMsg(self.topics.entity(comp.name), payload, qos,
                                   self.cfg.mqtt.retain, comp.name, ts))
        h.published += 1
        if self.first_publish_at is None:
            self.first_publish_at = time.time()

    def _on_polled(self, comp: PolledComponent, value: Any, ts: float, error: str | None) -> None:
        h = self.health[comp.name]
        if error is not None:
            h.errors += 1
            if h.error != error:
                h.error = error
                log.warning("%s: read failed: %s", comp.name, error)
                self.publish_value(comp, None, ts, error)
            return
        if h.error is not None or h.timed_out:
            log.info("%s: reading again", comp.name)
            h.error = None
            h.timed_out = False
            h.filter = ChangeFilter(h.filter.deadband, h.filter.heartbeat)
        self.publish_value(comp, value, ts)

    def _emit_event(self, comp: EventComponent, value: Any) -> None:
        self.publish_value(comp, value, time.time())

    def _mark_failed(self, comp: Component, why: str) -> None:
        self.failed[comp.name] = why
        h = self.health[comp.name]
        h.error = why
        h.errors += 1
        log.error("%s %s: %s (the other entities carry on)", comp.kind, comp.name, why)
        self.publish_value(comp, None, time.time(), why)

    def _supervise(self, now: float) -> None:
        for p in self.pollers:
            h = self.health[p.comp.name]
            if not h.timed_out and p.stuck_for(now) > p.timeout:
                h.timed_out = True
                h.errors += 1
                why = f"timeout: no answer within {p.timeout:g}s"
                h.error = why
                log.warning("%s: %s; marked unavailable", p.comp.name, why)
                self.publish_value(p.comp, None, time.time(), why)

    def _update_led(self) -> None:
        if self.status_led is None:
            return
        state = self.client.state
        if state == "connected":
            bad = any(h.error for h in self.health.values())
            self.status_led.show("degraded" if bad else "ok")
        elif state in ("connecting", "reconnecting", "error"):
            self.status_led.show(state)

    def _on_mqtt_state(self, state: str) -> None:
        self._update_led()

    # -- commands --------------------------------------------------------------------------
    def _on_command(self, topic: str, payload: bytes, props: Any) -> None:
        entity = self.topics.command_entity(topic)
        if entity is None:
            return
        try:
            self._commands.put_nowait((topic, entity, payload, props))
        except queue.Full:
            self._reply(entity, payloads.reply_error(CommandError("BUSY", "too many commands queued; try again")), props)

    def _command_loop(self) -> None:
        while True:
            item = self._commands.get()
            if item is None or self._stop.is_set():
                return
            _, entity, payload, props = item
            try:
                self._handle_command(entity, payload, props)
            except Exception:
                log.exception("command to %s failed unexpectedly", entity)

    def _handle_command(self, entity: str, payload: bytes, props: Any) -> None:
        req_id = None
        try:
            value, req_id = payloads.parse_command(payload)
            comp = self.outputs.get(entity)
            if comp is None:
                if entity in self.health:
                    raise CommandError("READ_ONLY", f"{entity!r} is a sensor; it takes no commands")
                raise CommandError("UNKNOWN_ENTITY", f"no entity {entity!r} on device {self.cfg.device.id!r}",
                                   entities=sorted(self.outputs))
            if entity in self.failed:
                raise CommandError("UNAVAILABLE", f"{entity!r} is not working: {self.failed[entity]}")
            try:
                new = comp.apply(value)
            except CommandError:
                raise
            except Exception as e:
                raise CommandError("DEVICE_ERROR", f"{entity}: {e}") from None
            self.publish_value(comp, new, time.time())
            self.commands_ok += 1
            self._reply(entity, payloads.reply_ok(new, req_id), props)
        except CommandError as e:
            self.commands_failed += 1
            log.info("command to %s refused: %s", entity, e)
            self._reply(entity, payloads.reply_error(e, req_id), props)

    def _reply(self, entity: str, body: bytes, props: Any) -> None:
        self.client.publish_now(self.topics.reply(entity), body, qos=1)
        response_topic = getattr(props, "ResponseTopic", None) if props is not None else None
        if response_topic:
            from paho.mqtt.packettypes import PacketTypes
            from paho.mqtt.properties import Properties

            out = Properties(PacketTypes.PUBLISH)
            corr = getattr(props, "CorrelationData", None)
            if corr is not None:
                out.CorrelationData = corr
            self.client.publish_now(response_topic, body, qos=1, properties=out)

    # -- diagnostics ------------------------------------------------------------------------
    def diagnostics(self) -> dict[str, Any]:
        return {
            "version": __version__,
            "uptime_s": round(time.time() - self.started_at, 1),
            "mqtt": self.client.counters(),
            "outbox": self.outbox.stats(),
            "commands": {"ok": self.commands_ok, "refused": self.commands_failed},
            "entities": {
                name: {
                    "published": h.published,
                    "errors": h.errors,
                    "state": "failed" if name in self.failed else ("error" if h.error else "ok"),
                    **({"error": h.error} if h.error else {}),
                }
                for name, h in self.health.items()
            },
            "skipped_slots": sum(p.skipped for p in self.pollers),
        }

    def publish_diagnostics(self) -> None:
        try:
            self.client.publish_now(self.topics.diagnostics, payloads.dumps(self.diagnostics()), qos=0, retain=True)
        except Exception:
            log.exception("diagnostics failed")


def _emitter(daemon: Daemon, comp: EventComponent) -> Any:
    """The emit callback an event component gets: publishes with the current time."""

    def emit(value: object) -> None:
        daemon._emit_event(comp, value)

    return emit
