"""Services: capabilities with their own state and command language (the radio).

A component is one device and one value; a service owns a richer thing — a
tuner with frequency, volume, RDS, presets — and speaks its own commands on
`<prefix>/<id>/<service>/set` (JSON objects, answered on `…/set/reply`).
The daemon gives each service a `ServiceContext` at start: how to publish
(durably, with `seq`, like readings), how to send events, the co-processor
link and its events, the state directory and the pin factory.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from device.components.base import EntityInfo
from device.core.values import Json, JsonDoc
from device.link import LinkClient, LinkValue


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
