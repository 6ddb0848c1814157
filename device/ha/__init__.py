"""Home Assistant MQTT discovery for a running daemon: the thin adapter around `discovery`.

`attach_discovery(daemon)` (called by `Daemon.start()` when `[homeassistant].enabled`)
describes the daemon's entities and radio, then publishes the discovery config(s),
retained, QoS 1:

- on every connect to the broker (and at once when already connected);
- again when `<ha prefix>/status` says `online` (Home Assistant restarted), after a
  random 0.5 to 3 s delay so that a house full of devices does not answer at once;
- when what it describes changes: the radio's band plan (band, spacing: the frequency
  number's min/max/step) or presets (the preset select's options). A new config
  (SIGHUP) builds a new daemon, and so a new announcement with its entities.

What was announced is remembered in `<state dir>/ha.json`; on start, components
that are no longer configured are removed from HA (see `discovery.removals`).
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from device import __version__
from device.components.base import Component
from device.config.model import Config, Polled
from device.core.services import Service
from device.ha import discovery
from device.ha.discovery import DeviceDescription, EntitySpec, Published, RadioSpec
from device.mqtt.client import MqttClient
from device.mqtt.topics import Topics

log = logging.getLogger("pi2mqtt.ha")

STATE_FILE = "ha.json"


def ha_delay() -> float:
    """The default wait before answering HA's birth message."""
    return random.uniform(0.5, 3.0)


@runtime_checkable
class RadioHooks(Protocol):
    """What discovery needs from the radio service: its band and its presets.

    A radio may also offer `on_presets_changed(callback)` and `on_plan_changed(callback)`;
    discovery then republishes when they change.
    """

    def band_limits(self) -> tuple[float, float, float]: ...

    def presets(self) -> Sequence[Mapping[str, object]]: ...


class DiscoveredDaemon(Protocol):
    """What discovery reads from the running daemon (`device.core.daemon.Daemon` is one)."""

    cfg: Config
    topics: Topics
    client: MqttClient
    state_dir: Path | None
    components: list[Component]
    services: dict[str, Service]


def expire_after(cfg: object) -> int | None:
    """About 3x the longest gap between readings of a polled entity; None when unbounded.

    With a deadband and no heartbeat a steady value is never republished, so HA must
    not expire it.
    """
    if not isinstance(cfg, Polled):
        return None
    if cfg.heartbeat is not None:
        gap = cfg.heartbeat
    elif cfg.deadband is not None:
        return None
    else:
        gap = cfg.interval
    return max(1, round(3 * gap + 0.4999))


def describe(daemon: DiscoveredDaemon) -> DeviceDescription:
    """The daemon as discovery sees it (reads its config, components and services)."""
    cfg = daemon.cfg
    specs: list[EntitySpec] = []
    for comp in daemon.components:
        exp = expire_after(comp.cfg)
        specs.extend(EntitySpec(info, exp) for info in comp.describe_all())
    radio: RadioSpec | None = None
    for name, service in daemon.services.items():
        if radio is None and isinstance(service, RadioHooks):  # the radio's discovery hooks
            lo, hi, step = service.band_limits()
            names = tuple(str(p.get("name")) for p in service.presets() if p.get("name"))
            radio = RadioSpec(name, float(lo), float(hi), float(step), tuple(dict.fromkeys(names)))
        else:
            specs.extend(EntitySpec(info) for info in service.entities())
    return DeviceDescription(
        device_id=cfg.device.id,
        name=cfg.device.name or cfg.device.id,
        sw_version=__version__,
        topic_base=daemon.topics.base,
        discovery_prefix=cfg.homeassistant.prefix,
        entities=tuple(specs),
        radio=radio,
        qos=1,
    )


class Discovery:
    """Publishes a daemon's discovery config(s) whenever HA may need them."""

    def __init__(self, daemon: DiscoveredDaemon, *, delay: Callable[[], float] = ha_delay) -> None:
        self._daemon = daemon
        self._client = daemon.client
        self._per_entity: bool = daemon.cfg.homeassistant.per_entity
        self._prefix: str = daemon.cfg.homeassistant.prefix
        self.delay = delay  # seconds before answering HA's birth message (tests shorten it)
        self._lock = threading.Lock()
        sd: Path | None = daemon.state_dir
        self._state_file = sd / STATE_FILE if sd is not None else None
        self._previous = self._load()
        self._removed: dict[str, str] = {}  # device mode: removals re-sent all run long
        self._cleared: tuple[str, ...] = ()
        self._timer: threading.Timer | None = None
        self._closed = False
        self.published = 0  # discovery rounds sent (for tests and diagnostics)
        self._desc = describe(daemon)
        self._plan_removals()

    # -- state ---------------------------------------------------------------------
    def _load(self) -> Published | None:
        if self._state_file is None:
            return None
        try:
            return Published.from_json(self._state_file.read_text("utf-8"))
        except OSError:
            return None

    def _save(self, current: Published) -> None:
        if self._state_file is None:
            return
        tmp = self._state_file.with_suffix(".tmp")
        try:
            tmp.write_text(current.to_json(), "utf-8")
            tmp.replace(self._state_file)
        except OSError as e:
            log.warning("cannot remember the discovery state in %s: %s", self._state_file, e)

    def _current(self) -> Published:
        return Published(self._per_entity, self._prefix, discovery.platforms(self._desc))

    def _plan_removals(self) -> None:
        current = self._current()
        rm = discovery.removals(self._previous, current, self._desc.device_id)
        self._removed.update(rm.components)
        self._cleared = rm.clear_topics
        if rm.components or rm.clear_topics:
            log.info("removing from Home Assistant: %s",
                     ", ".join(sorted(rm.components)) or ", ".join(rm.clear_topics))

    # -- wiring ----------------------------------------------------------------------
    def attach(self) -> None:
        self._client.subscribe(f"{self._prefix}/status", self._on_ha_status)
        self._client.on_connected(self.publish)
        radio = self._radio_service()
        for hook in ("on_presets_changed", "on_plan_changed"):
            subscribe = getattr(radio, hook, None)
            if callable(subscribe):
                subscribe(self._on_radio_changed)
        if self._client.connected:
            self.publish()

    def close(self) -> None:
        """Publish nothing more (a reload attaches a new one; the client's hooks stay)."""
        with self._lock:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def _radio_service(self) -> RadioHooks | None:
        return next((s for s in self._daemon.services.values() if isinstance(s, RadioHooks)), None)

    def _on_ha_status(self, topic: str, payload: bytes, props: object) -> None:
        if payload.strip().lower() != b"online":
            return
        with self._lock:
            if self._closed:
                return
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self.delay(), self.publish)
            self._timer.daemon = True
            self._timer.start()

    def _on_radio_changed(self) -> None:
        """The radio's presets or band plan changed: describe again, publish if it differs."""
        try:
            desc = describe(self._daemon)
        except Exception:
            log.exception("re-describing the radio for discovery failed")
            return
        with self._lock:
            if desc == self._desc:
                return
            old = discovery.platforms(self._desc)
            self._desc = desc
            if not self._per_entity:
                self._removed.update({c: p for c, p in old.items() if c not in discovery.platforms(desc)})
            else:
                gone = [discovery.entity_topic(self._prefix, p, desc.device_id, c)
                        for c, p in old.items() if c not in discovery.platforms(desc)]
                self._cleared = (*self._cleared, *gone)
        self.publish()

    # -- publishing --------------------------------------------------------------------
    def publish(self) -> None:
        """Send the discovery config(s) now (retained, QoS 1); quietly nothing when offline.

        The messages are built under the lock and handed to paho outside it: paho's thread
        calls `_on_ha_status`, which takes the lock, so paho is never called with it held.
        """
        with self._lock:
            if self._closed:
                return
            desc = self._desc
            send: list[tuple[str, bytes]] = [(t, b"") for t in self._cleared]
            removed = {c: p for c, p in self._removed.items() if c not in discovery.platforms(desc)}
            if self._per_entity:
                send += [(t, discovery.dumps(doc)) for t, doc in discovery.entity_configs(desc).items()]
            else:
                doc = discovery.device_config(desc, removed)
                send.append((discovery.device_topic(self._prefix, desc.device_id), discovery.dumps(doc)))
        ok = True
        for topic, payload in send:
            ok = self._client.publish_now(topic, payload, qos=1, retain=True) and ok
        if ok:
            with self._lock:
                self.published += 1
                self._save(self._current())
        log.debug("discovery %s (%d messages)", "published" if ok else "deferred until connected", len(send))


def attach_discovery(daemon: DiscoveredDaemon, *, delay: Callable[[], float] = ha_delay) -> Discovery:
    """Start Home Assistant discovery for `daemon` (already started); returns the publisher."""
    d = Discovery(daemon, delay=delay)
    d.attach()
    return d


__all__ = ["Discovery", "attach_discovery", "describe", "expire_after", "ha_delay"]

