"""Driving the simulated world from outside: a handler registry and its MQTT adapter.

Theory of operation
-------------------
`ControlRegistry` maps a path such as ``doorbell/press`` to a handler that
takes the message payload (text) and returns a JSON-able value or None.
`dispatch()` never raises: it answers ``{"ok": true, "path": ...}`` (plus
``"value"`` when the handler returned one) or ``{"ok": false, "path": ...,
"error": ...}`` for an unknown device, an unknown action, a bad payload
(`ValueError`, which includes `device.errors.CommandError`) or a handler bug.

`MqttControl` connects paho (VERSION2 callbacks, reconnecting by itself) to the
broker named by a URL (or the first that answers of several, comma-separated:
on a lost connection or a failed attempt it moves to the next; `ws://` and
`wss://` use paho's WebSocket transport), subscribes ``hwsim/<id>/#``, passes
``hwsim/<id>/<path>`` to the registry and publishes the reply on
``hwsim/<id>/reply``. It publishes ``hwsim/<id>/status`` ``online`` /
``offline`` (retained, ``offline`` as the will) and, through `publish_state`,
retained output states on ``hwsim/<id>/<name>/state``. Its own topics
(``reply``, ``status``, ``*/state``) and retained messages are never treated
as commands. Every paho callback is guarded: an exception there would
silently stop paho's network thread.

It speaks MQTT 5 (for no_local: the broker then does not echo our own replies
back) and falls back to 3.1.1, logged once, with a broker that refuses 5 (NATS's
MQTT listener); under 3.1.1 the echoes of its own topics are simply ignored.
"""

from __future__ import annotations

import json
import logging
import math
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.subscribeoptions import SubscribeOptions

log = logging.getLogger(__name__)

Handler = Callable[[str], object]

TOPIC_ROOT = "hwsim"


def parse_number(payload: str, what: str) -> float:
    """A finite number from a payload like ``1.2`` or ``{"value": 1.2}``."""
    text = payload.strip()
    try:
        value: Any = json.loads(text) if text else None
    except ValueError:
        value = None
    if isinstance(value, dict):
        value = value.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"payload must be a number ({what}), got {payload[:40]!r}")
    return float(value)


def parse_optional_number(payload: str, what: str) -> float | None:
    return None if not payload.strip() else parse_number(payload, what)


def parse_switch(payload: str) -> bool:
    """``on``/``off`` (also true/false, 1/0); an empty payload means on."""
    text = payload.strip().lower()
    if text in ("", "on", "true", "1"):
        return True
    if text in ("off", "false", "0"):
        return False
    raise ValueError(f"payload must be on or off, got {payload[:40]!r}")


@dataclass(frozen=True)
class _Endpoint:
    host: str
    port: int
    tls: bool
    websocket: bool
    path: str
    parts: SplitResult


_SCHEMES = {"mqtt": (1883, False, False), "tcp": (1883, False, False), "mqtts": (8883, True, False),
            "ssl": (8883, True, False), "ws": (80, False, True), "wss": (443, True, True)}


def _endpoint(url: str) -> _Endpoint:
    text = url.strip()
    parts = urlsplit(text if "://" in text else f"mqtt://{text}")
    if parts.scheme not in _SCHEMES:
        raise ValueError(f"hwsim broker URL must be mqtt://, mqtts://, ws:// or wss://, not {url!r}")
    port, tls, websocket = _SCHEMES[parts.scheme]
    return _Endpoint(parts.hostname or "127.0.0.1", parts.port or port, tls, websocket,
                     (parts.path or "/mqtt") if websocket else "", parts)


class ControlRegistry:
    """Paths (``name/action``) to handlers; thread-safe."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}
        self._lock = threading.Lock()

    def register(self, path: str, handler: Handler) -> None:
        """Make `path` (no leading/trailing slash, no wildcards) call `handler(payload)`."""
        if not path or path.startswith("/") or path.endswith("/") or any(c in path for c in "#+"):
            raise ValueError(f"bad control path {path!r}")
        with self._lock:
            if path in self._handlers:
                raise ValueError(f"control path {path!r} is already registered")
            self._handlers[path] = handler

    def unregister(self, path: str) -> None:
        with self._lock:
            self._handlers.pop(path, None)

    def paths(self) -> list[str]:
        with self._lock:
            return sorted(self._handlers)

    def dispatch(self, path: str, payload: str | bytes = "") -> dict[str, object]:
        """Run the handler for `path`; always returns a reply, never raises."""
        if isinstance(payload, bytes):
            try:
                payload = payload.decode("utf-8")
            except UnicodeDecodeError:
                return {"ok": False, "path": path, "error": "payload is not UTF-8 text"}
        with self._lock:
            handler = self._handlers.get(path)
            known_device = any(p.startswith(path.split("/")[0] + "/") for p in self._handlers)
        if handler is None:
            if known_device and "/" in path:
                return {"ok": False, "path": path, "error": f"unknown action {path.split('/', 1)[1]!r}"}
            return {"ok": False, "path": path, "error": f"unknown device {path.split('/')[0]!r}"}
        try:
            value = handler(payload)
        except ValueError as e:
            return {"ok": False, "path": path, "error": str(e)}
        except Exception as e:
            log.exception("hwsim control handler for %s failed", path)
            return {"ok": False, "path": path, "error": f"internal error: {type(e).__name__}: {e}"}
        reply: dict[str, object] = {"ok": True, "path": path}
        if value is not None:
            reply["value"] = value
        return reply


def _guarded(fn: Callable[..., None]) -> Callable[..., None]:
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            fn(*args, **kwargs)
        except Exception:
            log.exception("hwsim control: paho callback %s failed", fn.__name__)

    wrapper.__name__ = fn.__name__
    return wrapper


class MqttControl:
    """The registry on MQTT under ``hwsim/<id>/``; see the module docstring."""

    def __init__(self, registry: ControlRegistry, url: str, sim_id: str) -> None:
        self.registry = registry
        self.sim_id = sim_id
        self.prefix = f"{TOPIC_ROOT}/{sim_id}/"
        self.endpoints = [_endpoint(u) for u in url.split(",") if u.strip()]
        if not self.endpoints:
            raise ValueError(f"no broker URL in {url!r}")
        self._index = 0
        first = self.endpoints[0]
        tls, parts = first.tls, first.parts
        self.connected = threading.Event()
        self._states: dict[str, str] = {}
        self._lock = threading.Lock()
        # MQTT 5 for no_local: the broker does not echo our own replies and states back,
        # which would otherwise leave unacknowledged data that delays the next command.
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"hwsim-{sim_id}", protocol=mqtt.MQTTv5,
            transport="websockets" if first.websocket else "tcp",
        )
        if first.websocket:
            self.client.ws_set_options(path=first.path)
        if tls:
            self.client.tls_set()
        if parts.username:
            self.client.username_pw_set(unquote(parts.username), unquote(parts.password or ""))
        self.client.will_set(self.topic("status"), "offline", qos=1, retain=True)
        self.client.reconnect_delay_set(min_delay=1, max_delay=10)
        self.client.on_connect = _guarded(self._on_connect)
        self.client.on_disconnect = _guarded(self._on_disconnect)
        self.client.on_message = _guarded(self._on_message)
        self.client.on_socket_open = _guarded(self._on_socket_open)
        self.client.on_connect_fail = _guarded(self._on_connect_fail)
        self.client.on_subscribe = _guarded(self._on_subscribe)
        self._sub_mid: int | None = None  # the control subscription's SUBSCRIBE
        self.subscribe_refusals = 0

    @property
    def host(self) -> str:
        return self.endpoints[self._index].host

    @property
    def port(self) -> int:
        return self.endpoints[self._index].port

    def _next_broker(self) -> None:
        """Between connections: point paho at the next URL of the list (if there are several)."""
        if len(self.endpoints) < 2:
            return
        self._index = (self._index + 1) % len(self.endpoints)
        e = self.endpoints[self._index]
        # Called from paho's own callbacks, where its public setters still see the old
        # connection as open and refuse: set the fields that its reconnect() reads.
        self.client._host = e.host
        self.client._port = e.port
        self.client._transport = "websockets" if e.websocket else "tcp"
        if e.websocket:
            self.client.ws_set_options(path=e.path)
        log.info("hwsim control: trying %s:%s next", e.host, e.port)

    def topic(self, path: str) -> str:
        return self.prefix + path

    def start(self) -> None:
        """Connect in the background; paho keeps reconnecting after a loss."""
        self.client.connect_async(self.host, self.port, keepalive=30)
        self.client.loop_start()

    def publish_state(self, name: str, value: object) -> None:
        """Publish (retained) an output's state; remembered and republished on reconnect."""
        payload = json.dumps(value)
        with self._lock:
            self._states[name] = payload
        if self.connected.is_set():  # else _on_subscribe publishes it
            self.client.publish(self.topic(f"{name}/state"), payload, qos=1, retain=True)

    def close(self, timeout: float = 1.0) -> None:
        """Publish ``offline``, disconnect and stop paho's thread."""
        try:
            if self.client.is_connected():
                info = self.client.publish(self.topic("status"), "offline", qos=1, retain=True)
                info.wait_for_publish(timeout)
            self.client.disconnect()
        except Exception:
            log.debug("hwsim control: error while closing", exc_info=True)
        finally:
            self.client.loop_stop()

    # -- paho callbacks (always wrapped by _guarded)
    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        if reason.is_failure:
            if client.protocol == mqtt.MQTTv5 and reason.value in (0x84, 0x01):
                # paho has no setter; it flips _protocol itself for its 3.1.1 -> 3.1 downgrade.
                client._protocol = mqtt.MQTTv311
                client._clean_session = True
                log.warning("hwsim control: broker %s:%s refuses MQTT 5 (%s); falling back to "
                            "MQTT 3.1.1", self.host, self.port, reason)
                return
            log.warning("hwsim control: broker refused the connection: %s", reason)
            return
        self._subscribe()

    def _subscribe(self) -> None:
        """Subscribe to the control topics; `online` follows the broker's SUBACK (`_on_subscribe`)."""
        client = self.client
        if client.protocol == mqtt.MQTTv5:
            _, mid = client.subscribe(self.prefix + "#", options=SubscribeOptions(qos=1, noLocal=True))
        else:
            _, mid = client.subscribe(self.prefix + "#", qos=1)
        self._sub_mid = mid

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any, props: Any) -> None:
        if mid != self._sub_mid:
            return
        refused = [r for r in reasons if getattr(r, "is_failure", False)]
        if refused:
            # A clustered broker may refuse while it is busy (NATS answers 0x80 when its
            # JetStream requests time out): ask again rather than sit deaf behind `online`.
            self.subscribe_refusals += 1
            log.warning("hwsim control: broker refused the subscription (%s); asking again in 1 s", refused[0])
            retry = threading.Timer(1.0, self._resubscribe)
            retry.daemon = True
            retry.start()
            return
        client.publish(self.topic("status"), "online", qos=1, retain=True)
        self.connected.set()
        with self._lock:
            states = dict(self._states)
        for name, payload in states.items():
            client.publish(self.topic(f"{name}/state"), payload, qos=1, retain=True)
        log.info("hwsim control on %s:%s under %s#", self.host, self.port, self.prefix)

    def _resubscribe(self) -> None:
        if self.client.is_connected():
            self._subscribe()

    def _on_socket_open(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        # paho leaves Nagle on: a small reply would wait for the ACK of the previous one
        if isinstance(sock, socket.socket) and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        was = self.connected.is_set()
        self.connected.clear()
        if was:
            self._next_broker()

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        self._next_broker()

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        if msg.retain or not msg.topic.startswith(self.prefix):
            return
        path = msg.topic[len(self.prefix) :]
        if path in ("reply", "status") or path.endswith("/state"):
            return
        reply = self.registry.dispatch(path, bytes(msg.payload))
        if not reply["ok"]:
            log.info("hwsim control: %s refused: %s", path, reply["error"])
        client.publish(self.topic("reply"), json.dumps(reply), qos=0)
