"""The paho-mqtt adapter: connection, reconnects, the outbox sender, commands in.

Theory of operation
-------------------
A *connection supervisor* thread (`mqtt-conn`) owns the connection: it calls
paho's `connect()` itself (so every failure arrives as an exception it can turn
into a clear message — untrusted certificate, wrong host name, refused, a broker
that drops a TLS client without a certificate), then runs the network loop
(`device.mqtt.netloop`, thread `mqtt-net`) until the connection drops, then waits an
exponential backoff with jitter (`reconnect_min` doubling up to `reconnect_max`,
each wait drawn uniformly from [d/2, d]) and connects again. paho's own
reconnect is off. TLS is decided by the URL alone: `mqtts://` never falls back to
plaintext.

Failover and protocol: several URLs make a ring (`device.mqtt.brokers`): a failed
attempt or a dropped connection moves to the next URL (the backoff grows once per
round of the list); one
paho Client throughout, so its unacknowledged messages go to the new node. MQTT 5
unless a broker refuses it (then 3.1.1 with that broker, at once). What is counted:
`device.mqtt.figures`. The client subscribes to its own status and answers a late
`offline` (a will from a node it left) with `online`. Details: docs/fleet.md.

The sender (`device.mqtt.sender`) moves the outbox into paho while the connection is
up — on the thread that queued the reading (`pump()`) when it can, else on its own
thread — and accounts each PUBACK; it owns the backfill routing (docs/reliability.md).

Denied publishes (MQTT 5 PUBACK failure codes) are counted (`device.mqtt.figures`)
and their rows acknowledged: retrying cannot help.

Every paho callback is wrapped: an exception escaping a callback would kill
paho's network thread silently.
"""

from __future__ import annotations

import functools
import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Concatenate, ParamSpec

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTProtocolVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from device.config.model import MqttSection
from device.core.values import JsonDoc
from device.mqtt.brokers import V5, V311, BrokerAddress, BrokerRing, parse_broker_list
from device.mqtt.failures import explain_connect_error, explain_early_close
from device.mqtt.figures import ConnectionFigures
from device.mqtt.netloop import NetworkLoop
from device.mqtt.sender import OutboxSender
from device.mqtt.topics import Topics
from device.mqtt.transport import connect_options, make_paho, nodelay, paho_protocol, point_at
from device.outbox import Outbox

log = logging.getLogger("pi2mqtt.mqtt")

UNSUPPORTED_PROTOCOL = (0x84, 0x01)  # CONNACK: MQTT 5 "Unsupported protocol version", 3.1.1 code 1
RECONNECT_MIN = 1.0
RECONNECT_MAX = 10.0

CommandHandler = Callable[[str, bytes, Properties | None], None]
StateHandler = Callable[[str], None]
P = ParamSpec("P")


def _guard(fn: Callable[Concatenate[MqttClient, P], None]) -> Callable[Concatenate[MqttClient, P], None]:
    """Wrap a paho callback so that no exception can reach paho's thread."""

    @functools.wraps(fn)
    def wrapper(self: MqttClient, /, *args: P.args, **kwargs: P.kwargs) -> None:
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
        self.brokers = parse_broker_list(cfg.urls)
        self.ring = BrokerRing(self.brokers, V5 if cfg.protocol == "5" else V311)
        self.tls = self.brokers[0].tls
        self.client_id = client_id or cfg.client_id or f"pi2mqtt-{topics.device_id}"
        self._client = make_paho(cfg, self.brokers, self.client_id, self.ring.protocol(),
                                 will_topic=topics.status, password=password, window=window)
        self.reconnect_min = RECONNECT_MIN
        self.reconnect_max = RECONNECT_MAX
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_publish = self._on_publish
        self._client.on_subscribe = self._on_subscribe
        self._client.on_socket_open = self._on_socket_open

        self._connected = threading.Event()
        self._stop = threading.Event()
        self.sender = OutboxSender(self._client, outbox, self._connected, self._stop, window)
        self._dropped = threading.Event()
        self._sender: threading.Thread | None = None
        self._supervisor: threading.Thread | None = None
        self._net: NetworkLoop | None = None
        self._got_connack = False
        self.connected_at = 0.0  # wall time of the current connection
        self._extra_subs: dict[str, tuple[int, CommandHandler]] = {}
        self._connected_hooks: list[Callable[[], None]] = []
        self.callback_errors = 0
        self.connects = 0
        self.subscribe_refusals = 0  # SUBACKs that refused a subscription (each asked again)
        self._sub_mids: dict[int, tuple[str, int, int]] = {}  # SUBSCRIBE packet id -> topic, qos, connection
        self.disconnects = 0
        self.attempts = 0
        self.last_error: str | None = None
        self.state = "connecting"
        self.figures = ConnectionFigures()
        self._retry_now = False  # the broker refused MQTT 5: retry it at once with 3.1.1

    # -- where and how -------------------------------------------------------------
    @property
    def broker(self) -> BrokerAddress:
        """The broker connected to, or tried next."""
        return self.ring.current

    @property
    def protocol(self) -> MQTTProtocolVersion:
        """paho's protocol constant for the current broker (MQTT 5 unless it refused 5)."""
        return paho_protocol(self.ring.protocol())

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        """Connect in the background and start sending; returns at once."""
        self._set_state("connecting")
        self._supervisor = threading.Thread(target=self._conn_loop, name="mqtt-conn", daemon=True)
        self._supervisor.start()
        self._sender = threading.Thread(target=self.sender.run, name="mqtt-sender", daemon=True)
        self._sender.start()

    def stop(self, timeout: float = 1.0, offline: bool = True) -> None:
        """Publish `offline` (not for a reload), disconnect, stop the threads (bounded by `timeout`).

        A clean DISCONNECT never fires the will, so `offline=False` publishes nothing.
        """
        deadline = time.monotonic() + timeout
        self._stop.set()
        self.sender.room.set()
        self.sender.kick()
        self.outbox.close()
        if self._sender is not None:
            self._sender.join(max(0.0, min(0.3, deadline - time.monotonic())))
        if self._connected.is_set() and offline:
            try:
                info = self._client.publish(self.topics.status, "offline", qos=1, retain=True)
                info.wait_for_publish(max(0.05, deadline - time.monotonic()))
            except (RuntimeError, ValueError) as e:
                log.debug("offline not confirmed: %s", e)
        try:
            self._client.disconnect()
        finally:
            net = self._net
            if net is not None:
                net.stop(max(0.05, deadline - time.monotonic()))
            self._client.close_wake()
        if self._supervisor is not None:
            self._supervisor.join(max(0.05, deadline - time.monotonic()))
        self._set_state("stopped")

    def network_alive(self) -> bool:
        """The connection machinery works: the supervisor runs and, while connected, the network loop."""
        sup = self._supervisor
        if sup is None or not sup.is_alive():
            return False
        if self._connected.is_set():
            net = self._net
            return net is not None and net.alive()
        return True

    # -- the connection supervisor -------------------------------------------------------
    def backoff(self, attempt: int) -> float:
        """Seconds to wait before attempt `attempt` (0-based): exponential, jittered."""
        ceiling = min(self.reconnect_max, self.reconnect_min * (2 ** min(attempt, 30)))
        return random.uniform(ceiling / 2, ceiling)

    def _conn_loop(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            self._dropped.clear()
            self._got_connack = False
            try:
                ok = self._connect_once()
            except Exception:
                log.exception("unexpected error while connecting (retrying)")
                ok = False
            if ok and not self._stop.is_set():
                net = self._net = NetworkLoop(self._client, after_read=self.sender.settle)
                net.start()
                while not self._dropped.wait(2.0) and not self._stop.is_set():
                    if not net.alive():
                        log.error("the MQTT network thread ended; reconnecting")
                        break
                if self._stop.is_set():
                    return  # stop() publishes offline, disconnects and stops the loop
                net.stop()
                if self._retry_now:  # refused MQTT 5: the same broker again, with 3.1.1
                    self._retry_now = False
                    continue
                if self._got_connack and self.last_error is None:
                    attempt = 0  # a connection that worked: start the backoff over
                    self.ring.dropped()
                else:
                    self.ring.failed()
            else:
                self.ring.failed()
            if self._stop.is_set():
                return
            delay = self.backoff(attempt // len(self.brokers))  # grows once per round of the list
            attempt += 1
            log.debug("next connection attempt in %.1fs", delay)
            self._stop.wait(delay)

    def _connect_once(self) -> bool:
        """One connection attempt (TCP, TLS, CONNECT sent); False with last_error set on failure."""
        self.attempts += 1
        b = self.ring.current
        where = b.where
        point_at(self._client, b, self.ring.protocol(), self.cfg.clean_session)
        self._client.write_inline(not b.tls and b.transport == "tcp")
        try:
            self._client.connect(b.host, b.port, **connect_options(self.cfg, self.ring.protocol()))
            return True
        except OSError as e:  # ssl.SSLError is an OSError
            self._fail(*explain_connect_error(e, where, tls=self.tls, client_cert=self.cfg.tls.cert_file is not None))
        return False

    def _fail(self, message: str, state: str) -> None:
        if message != self.last_error:
            log.log(logging.ERROR if state == "error" else logging.WARNING, "%s (retrying with backoff)", message)
        self.last_error = message
        self._set_state(state)

    def subscribe(self, topic: str, handler: CommandHandler, qos: int = 1) -> None:
        """Also receive `topic` (a filter); renewed on every reconnect. Call before start()."""
        self._extra_subs[topic] = (qos, handler)
        if self._connected.is_set():
            self._subscribe_now(topic, qos)

    def unsubscribe(self, topic: str) -> None:
        """Stop receiving `topic` (a filter given to subscribe())."""
        subs = dict(self._extra_subs)  # swapped, never mutated: paho's thread may be iterating it
        if subs.pop(topic, None) is None:
            return
        self._extra_subs = subs
        if self._connected.is_set():
            self._client.unsubscribe(topic)

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
        info = self._client.publish(topic, payload, qos=qos, retain=retain, properties=properties)
        if qos > 0:
            self.sender.note_direct(info.mid, topic)
        return True

    def pump(self) -> None:
        """Send what the outbox holds now, on this thread if it can (`OutboxSender.pump`)."""
        self.sender.pump()

    # -- paho callbacks --------------------------------------------------------------
    @_guard
    def _on_connect(self, client: mqtt.Client, userdata: object, flags: mqtt.ConnectFlags, rc: ReasonCode,
                    props: Properties | None = None) -> None:
        self._got_connack = True
        if rc.is_failure:
            if self.protocol == mqtt.MQTTv5 and rc.value in UNSUPPORTED_PROTOCOL and self.ring.refused_v5():
                self._retry_now = True
                self.figures.fell_back(self.broker, rc)
                return
            self.figures.count_reason(rc)
            self._fail(f"broker {self.broker.where} refused the connection: {rc}", "error")
            return
        self.connects += 1
        if self.ring.connected():
            self.figures.failed_over(self.broker)
        self.connected_at = time.time()
        self.sender.connected(self.outbox.last_id())
        if self.last_error is not None:
            log.info("connection problem cleared (was: %s)", self.last_error)
        self.last_error = None
        # Subscribe first: a broker handles one connection's packets in order, so whoever
        # sees `online` can send a command at once and it will be heard.
        self._sub_mids.clear()  # a SUBACK of the last connection never comes now
        self._subscribe_now(self.topics.command_filter, 1)
        for topic, (qos, _) in self._extra_subs.items():
            self._subscribe_now(topic, qos)
        client.publish(self.topics.status, "online", qos=1, retain=True)
        self._subscribe_now(self.topics.status, 0)  # QoS 0: no JetStream consumer on NATS
        log.info("connected to %s (%s)", self.broker.display,
                 "MQTT 5" if self.protocol == mqtt.MQTTv5 else "MQTT 3.1.1")
        self._connected.set()
        self.sender.kick()  # the backlog, and what was queued while the connection was down
        self._set_state("connected")
        for hook in self._connected_hooks:
            try:
                hook()
            except Exception:
                self.callback_errors += 1
                log.exception("connect hook failed")

    @_guard
    def _on_socket_open(self, client: mqtt.Client, userdata: object, sock: object) -> None:
        nodelay(sock)

    @_guard
    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags: mqtt.DisconnectFlags, rc: ReasonCode,
                       props: Properties | None = None) -> None:
        was = self._connected.is_set()
        self._connected.clear()
        self._dropped.set()
        if self._stop.is_set():
            return
        if was:
            self.disconnects += 1
            self.figures.dropped(self.broker, rc)
            others = " or another broker of the list" if len(self.brokers) > 1 else ""
            log.warning("disconnected from broker %s (%s); reconnecting to it%s",
                        self.broker.where, rc, others)
            self._set_state("reconnecting")
        elif not self._got_connack:
            self._fail(explain_early_close(rc, self.broker.where, tls=self.tls,
                                           client_cert=self.cfg.tls.cert_file is not None), "error")

    def _repair_status(self, payload: bytes) -> None:
        """Our own status said `offline` while we are connected (a late will): say `online`."""
        if payload == b"offline" and self._connected.is_set() and not self._stop.is_set():
            self.figures.repaired_status()
            self._client.publish(self.topics.status, "online", qos=1, retain=True)

    def _on_publish(self, client: mqtt.Client, userdata: object, mid: int, rc: ReasonCode,
                    props: Properties | None = None) -> None:
        # Once per reading: no _guard wrapper (the same try inline); a success is only
        # noted here and settled after the read (OutboxSender.settle).
        try:
            if getattr(rc, "value", 0) < 0x80:
                self.sender.puback(mid)
                return
            _, topic = self.sender.acked(mid)
            self.figures.denied_publish(topic, rc)
        except Exception:
            self.callback_errors += 1
            log.exception("error in MQTT callback _on_publish (ignored; the connection carries on)")

    def _subscribe_now(self, topic: str, qos: int) -> None:
        """SUBSCRIBE `topic`, remembered by its packet id until the broker answers."""
        _, mid = self._client.subscribe(topic, qos=qos)
        if mid is not None:
            self._sub_mids[mid] = (topic, qos, self.connects)

    def _resubscribe(self, topic: str, qos: int, connection: int) -> None:
        if self._connected.is_set() and not self._stop.is_set() and connection == self.connects:
            self._subscribe_now(topic, qos)  # (a new connection subscribes afresh anyway)

    @_guard
    def _on_subscribe(self, client: mqtt.Client, userdata: object, mid: int, rcs: list[ReasonCode],
                      props: Properties | None = None) -> None:
        topic, qos, connection = self._sub_mids.pop(mid, ("?", 1, -1))
        refused = [rc for rc in rcs if getattr(rc, "is_failure", False)]
        if not refused or connection < 0:
            return
        # A broker may refuse for a while (NATS answers 0x80 while its JetStream requests
        # time out on a busy cluster): ask again each second rather than stay deaf.
        self.figures.count_reason(refused[0])
        self.subscribe_refusals += 1
        log.log(logging.ERROR if self.subscribe_refusals == 1 else logging.DEBUG,
                "broker refused the subscription to %s (%s): asking again every second", topic, refused[0])
        retry = threading.Timer(1.0, self._resubscribe, (topic, qos, connection))
        retry.daemon = True
        retry.start()

    @_guard
    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        if msg.topic == self.topics.status:
            self._repair_status(bytes(msg.payload))
            return
        for topic, (_, handler) in self._extra_subs.items():
            if mqtt.topic_matches_sub(topic, msg.topic):
                handler(msg.topic, bytes(msg.payload), msg.properties)
                return
        if self.on_command is not None:
            self.on_command(msg.topic, bytes(msg.payload), msg.properties)

    # -- figures ------------------------------------------------------------------------
    def counters(self) -> JsonDoc:
        return {
            "state": self.state,
            "broker": self.broker.display,
            "protocol": self.ring.protocol(),
            "connects": self.connects,
            "subscribe_refusals": self.subscribe_refusals,
            "disconnects": self.disconnects,
            "published": self.sender.published,
            "backfilled": self.sender.backfilled,
            "inflight": self.sender.inflight(),
            "attempts": self.attempts,
            "callback_errors": self.callback_errors,
            "last_error": self.last_error,
            **self.figures.as_dict(),
        }

    @property
    def denied(self) -> int:
        return self.figures.denied

