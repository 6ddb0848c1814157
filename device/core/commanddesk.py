"""Commands: from `<base>/<entity>/set` to the device, and the reply back.

Theory of operation
-------------------
A command arrives on the network thread (`on_command`, a paho callback on `mqtt-net`),
passes a rate limit (over it: answered RATE_LIMITED at once, not queued) and is queued
to one worker thread (`commands`), so commands are applied one at a time in the order
they arrived. An oversized payload is
queued as its size only and refused unparsed in its turn (TOO_LARGE). The worker holds
the daemon's reconfigure lock while it applies a command (a reload waits, and a command
waits for the devices being rebuilt), validates it, applies it to the output or hands
it to the service, publishes the new state and replies on `…/set/reply` (and on the
MQTT 5 response topic, with the correlation data, when given).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Protocol

from paho.mqtt.properties import Properties

from device.components.base import Component, OutputComponent
from device.core.ratelimit import TokenBucket
from device.core.services import Service
from device.core.values import Command, Json
from device.errors import CommandError
from device.mqtt import payloads
from device.mqtt.client import MqttClient
from device.mqtt.topics import Topics

log = logging.getLogger("pi2mqtt")


@dataclass(frozen=True, slots=True)
class Oversized:
    """A command whose payload was over the size limit: queued without it, answered TOO_LARGE in turn."""

    cmd: Command
    size: int


class Devices(Protocol):
    """What commands act on: the daemon's outputs and services (rebuilt on a reload)."""

    @property
    def outputs(self) -> Mapping[str, OutputComponent]: ...
    @property
    def services(self) -> Mapping[str, Service]: ...
    @property
    def failed(self) -> Mapping[str, str]: ...
    @property
    def device_id(self) -> str: ...

    def is_sensor(self, entity: str) -> bool: ...
    def publish_value(self, comp: Component, value: Json, ts: float, error: str | None = None) -> None: ...


class CommandDesk:
    """Takes commands in, applies them one at a time on its own thread, answers each."""

    def __init__(self, devices: Devices, client: MqttClient, topics: Topics, lock: threading.Lock) -> None:
        self._devices = devices
        self._client = client
        self._topics = topics
        self._lock = lock
        self._queue: queue.Queue[Command | Oversized | None] = queue.Queue(maxsize=256)
        self._thread = threading.Thread(target=self._loop, name="commands", daemon=True)
        self._stopped = False
        self.rate = TokenBucket(rate=20.0, burst=50)
        self.ok = 0
        self.refused = 0
        self.rate_limited = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """No more commands are applied (one under way finishes)."""
        self._stopped = True
        try:
            self._queue.put_nowait(None)
        except queue.Full:
            pass

    def on_command(self, topic: str, payload: bytes, props: Properties | None) -> None:
        """A message on the command filter (paho's thread): refuse at once or queue it."""
        entity = self._topics.command_entity(topic)
        if entity is None:
            return
        cmd = Command(entity, payload, getattr(props, "ResponseTopic", None) or None,
                      getattr(props, "CorrelationData", None))
        if not self.rate.take():
            self.rate_limited += 1
            # Over the limit: answered, not queued. Replies are cheap; work is not.
            self.reply(cmd, payloads.reply_error(CommandError("RATE_LIMITED", "too many commands; slow down")))
            return
        # An oversized payload is queued as its size only (its reply keeps its place in line)
        # and refused unparsed, with one reply for entities and services alike.
        item: Command | Oversized = cmd
        if len(payload) > payloads.MAX_COMMAND_BYTES:
            item = Oversized(replace(cmd, payload=b""), len(payload))
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self.reply(cmd, payloads.reply_error(CommandError("BUSY", "too many commands queued; try again")))

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None or self._stopped:
                return
            if isinstance(item, Oversized):
                self.refused += 1
                self.reply(item.cmd, payloads.reply_error(payloads.too_large(item.size)))
                continue
            try:
                with self._lock:
                    self.handle(item)
            except Exception:
                log.exception("command to %s failed unexpectedly", item.entity)

    def handle(self, cmd: Command) -> None:
        """Apply one command and answer it (the worker thread, the reconfigure lock held)."""
        service = self._devices.services.get(cmd.entity)
        if service is not None:
            try:
                body = service.command(cmd.payload)
            except Exception as e:  # a service must not raise; answer anyway
                log.exception("service %s command failed", cmd.entity)
                body = payloads.reply_error(CommandError("INTERNAL", f"{type(e).__name__}: {e}"))
            self.reply(cmd, body)
            return
        req_id = None
        try:
            value, req_id = payloads.parse_command(cmd.payload)
            new = self._apply(cmd.entity, value)
            self.ok += 1
            self.reply(cmd, payloads.reply_ok(new, req_id))
        except CommandError as e:
            self.refused += 1
            log.info("command to %s refused: %s", cmd.entity, e)
            self.reply(cmd, payloads.reply_error(e, req_id))

    def _apply(self, entity: str, value: Json) -> Json:
        """Set output `entity` to `value`, publish its new state; CommandError if it cannot be."""
        d = self._devices
        comp = d.outputs.get(entity)
        if comp is None:
            if d.is_sensor(entity):
                raise CommandError("READ_ONLY", f"{entity!r} is a sensor; it takes no commands")
            raise CommandError("UNKNOWN_ENTITY", f"no entity {entity!r} on device {d.device_id!r}",
                               entities=sorted([*d.outputs, *d.services]))
        if entity in d.failed:
            raise CommandError("UNAVAILABLE", f"{entity!r} is not working: {d.failed[entity]}")
        try:
            new = comp.apply(value)
        except CommandError:
            raise
        except Exception as e:
            raise CommandError("DEVICE_ERROR", f"{entity}: {e}") from None
        d.publish_value(comp, new, time.time())
        return new

    def reply(self, cmd: Command, body: bytes) -> None:
        self._client.publish_now(self._topics.reply(cmd.entity), body, qos=1)
        if cmd.response_topic:
            from paho.mqtt.packettypes import PacketTypes

            out = Properties(PacketTypes.PUBLISH)
            if cmd.correlation is not None:
                out.CorrelationData = cmd.correlation
            self._client.publish_now(cmd.response_topic, body, qos=1, properties=out)
