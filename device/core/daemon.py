"""The daemon core: components in, readings to the outbox, commands routed, health shown.

Theory of operation
-------------------
`Daemon.start()` opens the co-processor link (if configured), every component
(one that fails to open is marked failed; the rest go on) and every service,
starts one `PollGroup` thread per polling interval, hooks event components to
their edges, and starts the MQTT client. Every value — polled, edge, output
state or service state — goes through `publish()`, which assigns the entity's
next `seq`, builds the JSON payload and puts it in the outbox under one lock,
so each entity's readings are queued in order, then sends it on the calling thread
when it can (`MqttClient.pump`). While connected a poll thread queues its tick's readings
(`send=False`) and puts them in the outbox in one call, then sends them (`send_queued`,
its `on_tick`); any other publish puts what is queued first, as does the main loop.

Commands are the `CommandDesk`'s (`device.core.commanddesk`): rate-limited on paho's
thread, applied one at a time on its worker, which publishes the new state and replies.
`run()` is the main loop: it watches for hung reads, publishes diagnostics and
drives the status LED until asked to stop. `stop()` is bounded: it never waits
on a stuck read.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from gpiozero import Factory

from device import __version__
from device.components.assemble import build_all
from device.components.base import Component, EventComponent, OutputComponent, PolledComponent
from device.components.status_led import StatusLed
from device.config.model import Config, Polled
from device.core.commanddesk import CommandDesk
from device.core.poller import PollGroup, build_groups
from device.core.schedule import ChangeFilter
from device.core.seqsync import SeqSync
from device.core.services import DaemonContext, LinkListeners, Service
from device.core.statedir import SeqStore
from device.core.timefmt import iso_ms
from device.core.values import Json, JsonDoc
from device.mqtt import payloads
from device.mqtt.client import MqttClient
from device.mqtt.topics import Topics
from device.outbox import MemoryOutbox, Outbox, OutMsg

if TYPE_CHECKING:
    from device.ha import Discovery
    from device.link import LinkClient  # imported only with a co-processor (_open_link)

log = logging.getLogger("pi2mqtt")


class ComponentHealth:
    """Per-component figures for diagnostics and error reporting."""

    __slots__ = ("error", "errors", "published", "timed_out")

    def __init__(self) -> None:
        self.published = self.errors = 0
        self.error: str | None = None
        self.timed_out = False


class Daemon:
    """One pi2mqtt device: its components, services, outbox and broker connection."""

    def __init__(
        self,
        cfg: Config,
        *,
        pin_factory: Factory | None = None,
        state_dir: Path | None = None,
        outbox: Outbox | None = None,
        password: str | None = None,
    ) -> None:
        self.cfg = cfg
        self.topics = Topics(cfg.mqtt.prefix, cfg.device.id)
        self._topics: dict[str, str] = {}  # entity -> its topic (formatted once)
        self._qos, self._retain = cfg.mqtt.qos, cfg.mqtt.retain
        self.pin_factory = pin_factory
        self.state_dir = state_dir
        self.mqtt_password = password
        self.outbox: Outbox = outbox if outbox is not None else MemoryOutbox()
        self.seqs = SeqStore(state_dir / "seq.json" if state_dir else None, marks=self.outbox.seq_marks())
        self._reset_devices()
        self._publish_lock = threading.Lock()
        self._queued: list[OutMsg] = []  # readings of poll ticks not in the outbox yet (send_queued)
        self._queue_ticks = False  # only while connected, not with "reading" (docs/reliability.md)
        self._reconfigure_lock = threading.Lock()  # a command waits while the devices are rebuilt
        self.started_at = time.time()
        self.first_publish_at: float | None = None
        self.devices_closed = threading.Event()  # set once the devices stop() closes are closed
        self.client = MqttClient(cfg.mqtt, self.topics, self.outbox, password=password, on_state=self._on_mqtt_state)
        self.client.sender.before_round = self._put_queued  # the sender thread sends them too
        self.commands = CommandDesk(self, self.client, self.topics, self._reconfigure_lock)
        self.client.on_command = self.commands.on_command
        self._build(cfg)

    def _reset_devices(self) -> None:
        """No devices, services or polling (before building them from a config)."""
        self.components: list[Component] = []
        self.outputs: dict[str, OutputComponent] = {}
        self.services: dict[str, Service] = {}
        self.health: dict[str, ComponentHealth] = {}
        self.filters: dict[str, ChangeFilter] = {}
        self.failed: dict[str, str] = {}
        self.groups: list[PollGroup] = []
        self.link: LinkClient | None = None
        self.discovery: Discovery | None = None
        self.status_led: StatusLed | None = None
        self._link_listeners = LinkListeners()
        self._devices_stop = threading.Event()  # ends this set of devices' poll threads

    def _build(self, cfg: Config) -> None:
        """The devices, co-processor link and services `cfg` asks for (not opened yet)."""
        self.status_led = StatusLed(cfg.status_led, self.pin_factory) if cfg.status_led else None
        if cfg.coprocessor is not None:
            self._open_link()
        build_all(cfg, self)

    def _open_link(self) -> None:
        from device.link.port import LinkPort

        c = self.cfg.coprocessor
        assert c is not None
        self.link = LinkPort(
            c.port, c.baud, reset_pin=c.reset_pin, pin_factory=self.pin_factory,
            on_event=self._link_listeners.event, on_state=self._on_link_state,
        )

    def add_component(self, comp: Component) -> None:
        """Add a component built elsewhere (tests, extensions) before `start()`."""
        self.components.append(comp)
        self.health[comp.name] = ComponentHealth()
        ecfg = comp.cfg
        for entity, _ in comp.entities():
            if isinstance(ecfg, Polled):
                self.filters[entity] = ChangeFilter(ecfg.deadband, ecfg.heartbeat)
            else:
                self.filters[entity] = ChangeFilter(None, None)
        if isinstance(comp, OutputComponent):
            self.outputs[comp.name] = comp

    def add_service(self, service: Service) -> None:
        """Add a service (the radio) before `start()`; its commands arrive on `<name>/set`."""
        self.services[service.name] = service

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        self._open_led()
        sync = self._seq_sync()
        self.client.start()
        if sync is not None:
            sync.start()
        with self._reconfigure_lock:  # a command queued in the broker waits for its device
            self.commands.start()
            self._start_devices()
        log.info("pi2mqtt %s started: device %r, %d components (%d failed), %d services, broker %s",
                 __version__, self.cfg.device.id, len(self.components), len(self.failed),
                 len(self.services), self.cfg.mqtt.url)

    def reconfigure(self, cfg: Config) -> None:
        """Apply `cfg` in place: devices, services and discovery are rebuilt; the MQTT client,
        its session, the outbox and the seq numbers carry on (no offline, no reconnect).

        `cfg.mqtt`, `cfg.device.id` and `cfg.outbox` must be those the daemon runs with.
        """
        with self._reconfigure_lock:
            self._devices_stop.set()
            if self.discovery is not None:
                self.discovery.close()
            closer = threading.Thread(target=self._closer(), name="close", daemon=True)
            closer.start()
            closer.join(1.5)  # a device stuck in a read must not hold the reload up
            self._reset_devices()
            self.cfg = cfg
            self._build(cfg)
            self._open_led()
            self._start_devices()
        log.info("reloaded in place: %d components (%d failed), %d services",
                 len(self.components), len(self.failed), len(self.services))

    def _open_led(self) -> None:
        if self.status_led is not None:
            try:
                self.status_led.open()
                self.status_led.show("connecting" if not self.client.connected else "ok")
            except Exception as e:
                log.error("status LED on GPIO%d: %s", self.status_led.cfg.pin, e)
                self.status_led = None

    def _start_devices(self) -> None:
        """Open every component, publish the first values, start polling, services, discovery."""
        for comp in self.components:
            try:
                comp.open()
            except Exception as e:
                self._mark_failed(comp, f"cannot open: {e}")
                continue
            log.debug("opened %s %s", comp.kind, comp.name)
        now = time.time()
        polled: list[tuple[PolledComponent, float, float]] = []
        for comp in self.components:
            if comp.name in self.failed:
                continue
            try:
                if isinstance(comp, EventComponent):
                    self.publish_value(comp, comp.current(), now)
                    comp.start(functools.partial(self._emit_event, comp))  # publishes with the current time
                elif isinstance(comp, OutputComponent):
                    self.publish_value(comp, comp.state(), now)
                elif isinstance(comp, PolledComponent):
                    ecfg = comp.cfg
                    assert isinstance(ecfg, Polled)
                    polled.append((comp, ecfg.interval, ecfg.timeout))
            except Exception as e:
                self._mark_failed(comp, f"cannot start: {e}")
        self.groups = build_groups(polled, self._on_polled, self._devices_stop, on_tick=self.send_queued)
        for g in self.groups:
            g.start()
        for service in self.services.values():
            try:
                service.start(self._service_context())
            except Exception as e:
                log.error("service %s failed to start: %s (the rest carry on)", service.name, e)
        if self.cfg.homeassistant.enabled:
            self._start_discovery()

    def _seq_sync(self) -> SeqSync | None:
        """After a crash while connected, the broker's retained readings say where seq stands."""
        if self.seqs.exact:
            return None
        if not self.cfg.mqtt.retain:
            self.seqs.release(None)  # nothing retained to ask: one block ahead
            return None
        sync = SeqSync(self.client, self.topics.base, self.seqs)
        sync.register()
        return sync

    def _start_discovery(self) -> None:
        try:
            from device.ha import attach_discovery
        except ImportError:
            return
        try:
            self.discovery = attach_discovery(self)
        except Exception:
            log.exception("Home Assistant discovery failed to start (the rest carry on)")

    def tick_interval(self) -> float:
        """How often the main loop wakes: a quarter of the shortest read timeout, 0.1-1 s.

        A hung read is noticed at most this late; an idle daemon wakes this rarely.
        """
        timeouts = [c.cfg.timeout for c in self.components if isinstance(c.cfg, Polled)]
        return max(0.1, min(1.0, min(timeouts, default=4.0) / 4))

    def run(self, stop: threading.Event, tick: float | None = None, on_tick: Callable[[], None] | None = None) -> None:
        """The main loop: supervise reads, diagnostics, status LED; until `stop` is set."""
        if tick is None:
            tick = self.tick_interval()
        next_diag = time.monotonic() + min(5.0, self.cfg.diagnostics.interval)
        while not stop.wait(tick):
            now = time.monotonic()
            if self._queued:  # a poll thread stuck in a read after it queued readings
                self.send_queued()
            self._supervise(now)
            if now >= next_diag:
                self.publish_diagnostics()
                next_diag = now + self.cfg.diagnostics.interval
            self._update_led()
            if on_tick is not None:
                on_tick()

    def stop(self, timeout: float = 1.5, offline: bool = True) -> None:
        """Stop polling, publish offline (unless told not to: a reload), disconnect; bounded."""
        deadline = time.monotonic() + timeout
        self.commands.stop()
        self._devices_stop.set()
        if self.discovery is not None:
            self.discovery.close()
        self.send_queued()  # what the poll threads queued: into the outbox, which keeps it
        self.client.stop(timeout=max(0.2, deadline - time.monotonic() - 0.3), offline=offline)
        # Close devices on a helper thread: a device stuck in a read must not hold up exit.
        closer = threading.Thread(target=self._closer(), name="close", daemon=True)
        closer.start()
        closer.join(max(0.05, deadline - time.monotonic()))
        self.seqs.close()
        log.info("stopped")

    def _closer(self) -> Callable[[], None]:
        """A function that closes today's devices and services (run on a helper thread)."""
        groups, services, comps = list(self.groups), list(self.services.values()), list(self.components)
        link, led = self.link, self.status_led
        closed = self.devices_closed = threading.Event()  # these devices', not a reload's before

        def close_all() -> None:
            for g in groups:
                g.join(0.05)
            for service in services:
                try:
                    service.close()
                except Exception:
                    log.exception("closing service %s", service.name)
            for comp in comps:
                comp.close()
            if link is not None:
                link.close()
            if led is not None:
                led.show("stopped")
                led.close()
            closed.set()

        return close_all

    # -- values ----------------------------------------------------------------------------
    def publish(self, entity: str, value: Json, ts: float, unit: str | None = None,
                error: str | None = None, extra: JsonDoc | None = None, *, send: bool = True) -> bool:
        """Queue one reading of `entity` (in order, with its next seq). False if filtered out."""
        flt = self.filters.get(entity)  # (without a deadband it passes everything: not asked)
        if flt is not None and flt.deadband is not None and error is None and not flt.should_publish(value, ts):
            return False
        topic = self._topics.get(entity)
        if topic is None:
            topic = self._topics[entity] = self.topics.entity(entity)
        with self._publish_lock:
            seq = self.seqs.next(entity)
            payload = payloads.reading(value, ts, seq, unit, error, extra)
            self.client.sender.latest_ts[entity] = ts  # the newest reading's time: backfill routing
            msg = OutMsg(topic, payload, self._qos, self._retain, entity, ts, seq)
            if send or not self._queue_ticks:
                if self._queued:  # what the poll threads queued goes first
                    msgs, self._queued = self._queued, []
                    self.outbox.put_many(msgs)
                self.outbox.put(msg)
            else:
                self._queued.append(msg)  # put with the rest of the tick (send_queued)
        if send:
            self.client.pump()  # on this thread when it can: one thread hand-off fewer
        if self.first_publish_at is None:
            self.first_publish_at = time.time()
        return True

    def send_queued(self) -> None:
        """A poll group's `on_tick`: the readings queued so far into the outbox (one call), sent."""
        self._put_queued()
        self.client.pump()

    def _put_queued(self) -> None:
        if self._queued:
            with self._publish_lock:
                msgs, self._queued = self._queued, []
                self.outbox.put_many(msgs)

    def publish_value(self, comp: Component, value: Json, ts: float, error: str | None = None,
                      *, send: bool = True) -> None:
        """Publish a component's value (a dict per channel for multi-entity components)."""
        h = self.health[comp.name]
        if comp.channels:
            for suffix, (unit, _) in comp.channels.items():
                v = value.get(suffix) if isinstance(value, dict) else None
                if self.publish(f"{comp.name}_{suffix}", v, ts, unit, error, send=send):
                    h.published += 1
        elif self.publish(comp.name, value, ts, comp.unit_of_measurement(), error, send=send):
            h.published += 1

    def _on_polled(self, comp: PolledComponent, value: Json, ts: float, error: str | None) -> None:
        name = comp.cfg.name  # (Component.name without the property call: once per reading)
        h = self.health[name]
        if error is not None:
            h.errors += 1
            if h.error != error:
                log.warning("%s: read failed: %s", comp.name, error)
                self._set_error(comp, error, ts)
            return
        if h.error is not None or h.timed_out:
            log.info("%s: reading again", comp.name)
            h.error, h.timed_out = None, False
            for entity, _ in comp.entities():
                old = self.filters[entity]
                self.filters[entity] = ChangeFilter(old.deadband, old.heartbeat)
        if comp.channels:  # sent at the end of the tick (on_tick); one entity: without publish_value
            self.publish_value(comp, value, ts, send=False)
        elif self.publish(name, value, ts, comp.unit_of_measurement(), send=False):
            h.published += 1

    def _emit_event(self, comp: EventComponent, value: Json) -> None:
        self.publish_value(comp, value, time.time())

    def _set_error(self, comp: Component, why: str, ts: float) -> None:
        """Record why `comp` fails; publish `null` with the reason only when it starts failing.

        Once means once: while an entity stays down its reads may fail for other reasons
        (a timeout, then a link that is down); diagnostics keep the latest, subscribers
        see one error until the entity recovers.
        """
        h = self.health[comp.name]
        first = h.error is None
        h.error = why
        if first:
            self.publish_value(comp, None, ts, why)

    def _mark_failed(self, comp: Component, why: str) -> None:
        self.failed[comp.name] = why
        self.health[comp.name].errors += 1
        log.error("%s %s: %s (the other entities carry on)", comp.kind, comp.name, why)
        self._set_error(comp, why, time.time())

    def _supervise(self, now: float) -> None:
        for g in list(self.groups):
            found = g.stuck(now)
            if found is None:
                continue
            comp, _ = found
            h = self.health[comp.name]
            if h.timed_out:
                continue
            h.timed_out = True
            h.errors += 1
            why = f"timeout: no answer within {g.timeouts.get(comp.name, 2.0):g}s"
            log.warning("%s: %s; marked unavailable, the others carry on", comp.name, why)
            self._set_error(comp, why, time.time())
            moved = g.split_stuck(now)
            if moved is not None:
                self.groups.append(moved)

    def _update_led(self) -> None:
        if self.status_led is None:
            return
        state = self.client.state
        if state == "connected":
            self.status_led.show("degraded" if any(h.error for h in self.health.values()) else "ok")
        elif state in ("connecting", "reconnecting", "error"):
            self.status_led.show(state)

    def _on_mqtt_state(self, state: str) -> None:
        self._queue_ticks = state == "connected" and self.cfg.outbox.durability != "reading"
        self.outbox.set_online(state == "connected")
        self._update_led()

    # -- the co-processor link ---------------------------------------------------------------
    def _on_link_state(self, state: str) -> None:
        log.info("co-processor link %s", state)
        self._link_listeners.state(state)
        if self.client.connected:
            self.publish_diagnostics()

    # -- what commands act on (device.core.commanddesk.Devices) ------------------------------
    @property
    def device_id(self) -> str:
        return self.cfg.device.id

    def is_sensor(self, entity: str) -> bool:
        return entity in self.health or entity in self.filters

    def _service_context(self) -> DaemonContext:
        return DaemonContext(
            self.cfg.device.id, self.topics.base, self.publish,
            lambda topic, body: self.client.publish_now(topic, body, qos=1), self._link_listeners,
            state_dir=self.state_dir, pin_factory=self.pin_factory, link=self.link)

    # -- diagnostics ------------------------------------------------------------------------
    def diagnostics(self) -> JsonDoc:
        doc: JsonDoc = {
            "ts": iso_ms(time.time()),
            "version": __version__,
            "uptime_s": round(time.time() - self.started_at, 1),
            "mqtt": self.client.counters(),
            "outbox": self.outbox.stats(),
            "commands": {"ok": self.commands.ok, "refused": self.commands.refused,
                         "rate_limited": self.commands.rate_limited},
            "entities": {
                name: {"published": h.published, "errors": h.errors,
                       "state": "failed" if name in self.failed else ("error" if h.error else "ok"),
                       **({"error": h.error} if h.error else {})}
                for name, h in self.health.items()
            },
            "skipped_slots": sum(g.skipped for g in self.groups),
        }
        if self.link is not None:
            doc["link"] = self.link.counters()
        for name, service in self.services.items():
            try:
                doc[name] = service.diagnostics()
            except Exception as e:
                doc[name] = {"error": str(e)}
        return doc

    def publish_diagnostics(self) -> None:
        try:
            self.client.publish_now(self.topics.diagnostics, payloads.dumps(self.diagnostics()), qos=0, retain=True)
        except Exception:
            log.exception("diagnostics failed")
