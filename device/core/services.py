"""Services: capabilities with their own state and command language (the radio).

A component is one device and one value; a service owns a richer thing — a
tuner with frequency, volume, RDS, presets — and speaks its own commands on
`<prefix>/<id>/<service>/set` (JSON objects, answered on `…/set/reply`).
The daemon gives each service a `ServiceContext` at start: how to publish
(durably, with `seq`, like readings), how to send events, the co-processor
link and its events, the state directory and the pin factory.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from device.components.base import EntityInfo
from device.core.values import Json, JsonDoc

if TYPE_CHECKING:  # device.link is imported only with a co-processor
    from device.link import LinkClient, LinkValue

log = logging.getLogger("pi2mqtt")

PublishReading = Callable[[str, Json, float, "str | None", "str | None", "JsonDoc | None"], bool]
PublishNow = Callable[[str, bytes], object]


class ServiceContext(Protocol):
    """What the daemon offers a service."""

    device_id: str
    state_dir: Path | None
    pin_factory: object | None
    link: LinkClient | None

    def publish(self, entity: str, value: Json, *, extra: JsonDoc | None = None,
                unit: str | None = None, ts: float | None = None) -> None:
        """A state/reading on `<base>/<entity>` through the outbox (durable, ordered, with seq)."""

    def publish_event(self, subtopic: str, doc: JsonDoc) -> None:
        """An event on `<base>/<subtopic>` (JSON, QoS 1, not retained, not queued while offline)."""

    def on_link_event(self, callback: Callable[[str, LinkValue], None]) -> None:
        """Receive every unsolicited event from the co-processor: callback(name, data)."""

    def on_link_state(self, callback: Callable[[str], None]) -> None:
        """Receive link state changes: "up", "down", "connecting", "version_mismatch"."""


class Service:
    """Base class of services."""

    name: str = ""

    def start(self, ctx: ServiceContext) -> None:
        """Set up; may talk to the hardware. Must not raise for hardware trouble (degrade)."""

    def command(self, payload: bytes) -> bytes:
        """Handle one command payload; return the JSON reply. Never raises."""
        raise NotImplementedError

    def entities(self) -> list[EntityInfo]:
        """What the service publishes, for discovery."""
        return []

    def diagnostics(self) -> JsonDoc:
        return {}

    def close(self) -> None:
        """Stop threads, save state; must not raise."""


class LinkListeners:
    """The services' callbacks for the co-processor link's events and state changes."""

    def __init__(self) -> None:
        self.events: list[Callable[[str, LinkValue], None]] = []
        self.states: list[Callable[[str], None]] = []

    def event(self, name: str, data: LinkValue) -> None:
        for cb in list(self.events):
            try:
                cb(name, data)
            except Exception:
                log.exception("link event handler failed for %s", name)

    def state(self, state: str) -> None:
        for cb in list(self.states):
            try:
                cb(state)
            except Exception:
                log.exception("link state handler failed")


class DaemonContext:
    """The `ServiceContext` the daemon gives each service."""

    def __init__(self, device_id: str, base: str, publish: PublishReading, publish_now: PublishNow,
                 listeners: LinkListeners, *, state_dir: Path | None, pin_factory: object | None,
                 link: LinkClient | None) -> None:
        self.device_id = device_id
        self.state_dir = state_dir
        self.pin_factory = pin_factory
        self.link = link
        self._base = base
        self._publish = publish
        self._publish_now = publish_now
        self._listeners = listeners

    def publish(self, entity: str, value: Json, *, extra: JsonDoc | None = None,
                unit: str | None = None, ts: float | None = None) -> None:
        self._publish(entity, value, time.time() if ts is None else ts, unit, None, extra)

    def publish_event(self, subtopic: str, doc: JsonDoc) -> None:
        from device.mqtt import payloads

        self._publish_now(f"{self._base}/{subtopic}", payloads.dumps(doc))

    def on_link_event(self, callback: Callable[[str, LinkValue], None]) -> None:
        self._listeners.events.append(callback)

    def on_link_state(self, callback: Callable[[str], None]) -> None:
        self._listeners.states.append(callback)
