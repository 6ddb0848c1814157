"""The paho-mqtt adapter: connection, the outbox sender, commands in.

Theory of operation
-------------------
paho runs its network loop on its own thread (`loop_start`). A *sender* thread
takes messages from the outbox in order and hands them to paho while the
connection is up, keeping at most `window` QoS>0 messages unacknowledged; each
PUBACK (`on_publish`) acknowledges its outbox row. paho itself re-sends
unacknowledged messages after a reconnect, so nothing is handed over twice
within one run; rows that were in flight when the process died are pending
again in the next run (durable outbox).

The connection is asynchronous: the daemon starts and keeps taking readings
while the broker is down. `status` is published `online` (retained) on every
connect, `offline` is the will, and `stop()` publishes `offline` itself.

Every paho callback is wrapped: an exception escaping a callback would kill
paho's network thread silently.
"""

from __future__ import annotations

import functools
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties

from device.config.model import MqttSection
from device.errors import TlsError
from device.mqtt.topics import Topics
from device.outbox import Outbox, Queued

log = logging.getLogger("pi2mqtt.mqtt")

EARLY_ACK_TTL = 5.0  # seconds an unclaimed PUBACK is remembered

CommandHandler = Callable[[str, bytes, Any], None]
StateHandler = Callable[[str], None]


def _guard(fn: Callable[..., None]) -> Callable[..., None]:
    """Wrap a paho callback so that no exception can reach paho's thread."""

    @functools.wraps(fn)
    def wrapper(self: MqttClient, *args: Any, **kwargs: Any) -> None:
        try:
            fn(self, *args, **kwargs)
        except Exception:
            self.callback_errors += 1
            log.exception("error in MQTT callback %s (ignored; the connection carries on)", fn.__name__)

    return wrapper


class MqttClient:
    """One broker connection for one device."""

    def __init__(
        self,
        cfg: MqttSection,
        topics: Topics,
        outbox: Outbox,
        *,
        password: str | None = None,
        client_id: str | None = None,
        on_command: CommandHandler | None = None,
        on_state: StateHandler | None = None,
        window: int = 100,
    ) -> None:
        self.cfg = cfg
        self.topics = topics
        self.outbox = outbox
        self.on_command = on_command
        self.on_state = on_state
        self.window = window
        url = urlsplit(cfg.url)
        self.tls = url.scheme == "mqtts"
        self.host = url.hostname or "localhost"
        self.port = url.port or (8883 if self.tls else 1883)
        self.protocol = mqtt.MQTTv5 if cfg.protocol == "5" else mqtt.MQTTv311
        self.client_id = client_id or cfg.client_id or f"pi2mqtt-{topics.device_id}"
        kwargs: dict[str, Any] = {"client_id": self.client_id, "protocol": self.protocol}
        if self.protocol == mqtt.MQTTv311:
            kwargs["clean_session"] = cfg.clean_session
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, **kwargs)
        self._client.enable_logger(logging.getLogger("pi2mqtt.paho"))
        self._client.will_set(topics.status, "offline", qos=1, retain=True)
        username = url.username or cfg.username
        if url.password and password is None:
            password = url.password
        if username:
            self._client.username_pw_set(username, password)
        if self.tls:
            self._setup_tls()
        self._client.max_inflight_messages_set(window)
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_publish = self._on_publish
        self._client.on_subscribe = self._on_subscribe
        self._client.on_socket_open = self._on_socket_open

        self._lock = threading.RLock()
        self._inflight: dict[int, Queued] = {}
        self._early_acks: dict[int, float] = {}
        self._room = threading.Event()
        self._connected = threading.Event()
        self._stop = threading.Event()
        self._sender: threading.Thread | None = None
        self.connected_at = 0.0  # wall time of the current connection
        self.latest_ts: dict[str, float] = {}
        self._extra_subs: dict[str, tuple[int, Callable[[str, bytes, Any], None]]] = {}
        self._connected_hooks: list[Callable[[], None]] = []
        self.callback_errors = 0
        self.connects = 0
        self.disconnects = 0
        self.published = 0
        self.backfilled = 0
        self.last_error: str | None = None
        self.state = "connecting"

    # -- set-up --------------------------------------------------------------------
    def _setup_tls(self) -> None:
        t = self.cfg.tls
        try:
            self._client.tls_set(
                ca_certs=str(t.ca_file) if t.ca_file else None,
                certfile=str(t.cert_file) if t.cert_file else None,
                keyfile=str(t.key_file) if t.key_file else None,
                cert_reqs=ssl.CERT_NONE if t.insecure else ssl.CERT_REQUIRED,
                tls_version=ssl.PROTOCOL_TLS_CLIENT,
            )
        except (OSError, ssl.SSLError, ValueError) as e:
            raise TlsError(f"TLS set-up failed: {e}") from None
        if t.insecure:
            self._client.tls_insecure_set(True)
            log.warning(
                "TLS certificate verification is OFF (mqtt.tls.insecure = true): "
                "anyone on the network path can impersonate the broker"
            )

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        """Connect in the background and start sending; returns at once."""
        self._set_state("connecting")
        try:
            self._client.connect(self.host, self.port, keepalive=int(self.cfg.keepalive))
        except ssl.SSLCertVerificationError as e:
            self.last_error = f"TLS certificate of {self.host}:{self.port} not trusted: {e.verify_message}"
            log.error("%s; not connecting without verification (will retry)", self.last_error)
            self._set_state("error")
            self._client.connect_async(self.host, self.port, keepalive=int(self.cfg.keepalive))
        except ssl.SSLError as e:
            self.last_error = f"TLS handshake with {self.host}:{self.port} failed: {e}"
            log.error("%s (will retry)", self.last_error)
            self._set_state("error")
            self._client.connect_async(self.host, self.port, keepalive=int(self.cfg.keepalive))
        except OSError as e:
            self.last_error = f"broker {self.host}:{self.port} unreachable: {e.strerror or e}"
            log.warning("%s; retrying in the background", self.last_error)
            self._set_state("reconnecting")
            self._client.connect_async(self.host, self.port, keepalive=int(self.cfg.keepalive))
        self._client.loop_start()
        self._sender = threading.Thread(target=self._send_loop, name="mqtt-sender", daemon=True)
        self._sender.start()

    def stop(self, timeout: float = 1.0) -> None:
        """Publish `offline`, disconnect, stop the threads (bounded by `timeout`)."""
        deadline = time.monotonic() + timeout
        self._stop.set()
        self._room.set()
        self.outbox.close()
        if self._sender is not None:
            self._sender.join(max(0.0, min(0.3, deadline - time.monotonic())))
        if self._connected.is_set():
            try:
                info = self._client.publish(self.topics.status, "offline", qos=1, retain=True)
                info.wait_for_publish(max(0.05, deadline - time.monotonic()))
            except (RuntimeError, ValueError) as e:
                log.debug("offline not confirmed: %s", e)
        try:
            self._client.disconnect()
        finally:
            self._client.loop_stop()
        self._set_state("stopped")

    def subscribe(self, topic: str, handler: Callable[[str, bytes, Any], None], qos: int = 1) -> None:
        """Also receive `topic` (a filter); renewed on every reconnect. Call before start()."""
        self._extra_subs[topic] = (qos, handler)
        if self._connected.is_set():
            self._client.subscribe(topic, qos=qos)

    def on_connected(self, hook: Callable[[], None]) -> None:
        """Run `hook()` (on paho's thread, keep it short) after every successful connect."""
        self._connected_hooks.append(hook)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def _set_state(self, state: str) -> None:
        if state == self.state:
            return
        self.state = state
        if self.on_state is not None:
            try:
                self.on_state(state)
            except Exception:
                log.exception("state handler failed")

    # -- direct publishing (status, replies, diagnostics: not part of the outbox) ----
    def publish_now(self, topic: str, payload: bytes | str, qos: int = 1, retain: bool = False,
                    properties: Properties | None = None) -> bool:
        if not self._connected.is_set():
            return False
        self._client.publish(topic, payload, qos=qos, retain=retain, properties=properties)
        return True

    def note_latest(self, entity: str, ts: float) -> None:
        """Record the time of an entity's newest reading (decides backfill routing)."""
        self.latest_ts[entity] = ts

    # -- the sender ------------------------------------------------------------------
    def _send_loop(self) -> None:
        while not self._stop.is_set():
            try:
                if not self._connected.wait(0.5):
                    continue
                with self._lock:
                    room = self.window - len(self._inflight)
                if room <= 0:
                    self._room.wait(0.5)
                    self._room.clear()
                    continue
                batch = self.outbox.take(room)
                if not batch:
                    self.outbox.wait(0.5)
                    continue
                for q in batch:
                    self._send(q)
            except Exception:
                log.exception("sender error (continuing)")
                time.sleep(0.1)

    def _topic_for(self, q: Queued) -> str:
        m = q.msg
        # A reading taken before this connection, with a newer one of the same entity
        # already taken, is history: it goes to …/backfill so the live topic stays current.
        if m.entity is not None and m.ts < self.connected_at and m.ts < self.latest_ts.get(m.entity, 0.0):
            self.backfilled += 1
            return m.topic + "/backfill"
        return m.topic

    def _send(self, q: Queued) -> None:
        topic = self._topic_for(q)
        retain = q.msg.retain and not topic.endswith("/backfill")
        # Never call paho while holding self._lock: paho calls on_publish with its own
        # message mutex held, and on_publish takes self._lock (lock-order deadlock).
        info = self._client.publish(topic, q.msg.payload, qos=q.msg.qos, retain=retain)
        if q.msg.qos == 0:
            self.outbox.ack([q.id])
            self.published += 1
            return
        with self._lock:
            acked_at = self._early_acks.pop(info.mid, None)
            if acked_at is not None and time.monotonic() - acked_at < EARLY_ACK_TTL:
                self.outbox.ack([q.id])
                self.published += 1
            else:
                self._inflight[info.mid] = q

    # -- paho callbacks --------------------------------------------------------------
    @_guard
    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any = None) -> None:
        if rc.is_failure:
            self.last_error = f"broker refused the connection: {rc}"
            log.error("%s", self.last_error)
            self._set_state("error")
            return
        self.connects += 1
        self.connected_at = time.time()
        self.last_error = None
        client.publish(self.topics.status, "online", qos=1, retain=True)
        client.subscribe(self.topics.command_filter, qos=1)
        for topic, (qos, _) in self._extra_subs.items():
            client.subscribe(topic, qos=qos)
        log.info("connected to %s:%d (%s)", self.host, self.port,
                 "MQTT 5" if self.protocol == mqtt.MQTTv5 else "MQTT 3.1.1")
        self._connected.set()
        self._set_state("connected")
        for hook in self._connected_hooks:
            try:
                hook()
            except Exception:
                self.callback_errors += 1
                log.exception("connect hook failed")

    @_guard
    def _on_socket_open(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        # paho leaves Nagle on: small readings would wait for the previous ACK (tens of ms).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    @_guard
    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any = None) -> None:
        was = self._connected.is_set()
        self._connected.clear()
        if was:
            self.disconnects += 1
            if not self._stop.is_set():
                log.warning("disconnected from broker (%s); reconnecting", rc)
        if not self._stop.is_set():
            self._set_state("reconnecting")

    @_guard
    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int, rc: Any, props: Any = None) -> None:
        with self._lock:
            q = self._inflight.pop(mid, None)
            if q is None:
                # The PUBACK beat the sender's bookkeeping, or it answers a direct publish
                # (status, reply). Remembered briefly: a mid is reused only after 65535 more.
                now = time.monotonic()
                self._early_acks[mid] = now
                if len(self._early_acks) > 1024:
                    self._early_acks = {m: t for m, t in self._early_acks.items() if now - t < EARLY_ACK_TTL}
                return
            self.published += 1
            self.outbox.ack([q.id])
        self._room.set()

    @_guard
    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, rcs: Any, props: Any = None) -> None:
        for rc in rcs:
            if getattr(rc, "is_failure", False):
                log.error("broker refused the command subscription (%s): commands will not arrive", rc)

    @_guard
    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        for topic, (_, handler) in self._extra_subs.items():
            if mqtt.topic_matches_sub(topic, msg.topic):
                handler(msg.topic, bytes(msg.payload), msg.properties)
                return
        if self.on_command is not None:
            self.on_command(msg.topic, bytes(msg.payload), msg.properties)

    # -- figures ------------------------------------------------------------------------
    def counters(self) -> dict[str, Any]:
        with self._lock:
            inflight = len(self._inflight)
        return {
            "state": self.state,
            "connects": self.connects,
            "disconnects": self.disconnects,
            "published": self.published,
            "backfilled": self.backfilled,
            "inflight": inflight,
            "callback_errors": self.callback_errors,
            "last_error": self.last_error,
        }

