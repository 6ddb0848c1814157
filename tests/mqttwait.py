"""A real paho subscriber for tests: records every message and awaits conditions.

No sleeps: `wait_for(pred, timeout)` blocks on a condition variable until a
received message satisfies `pred`, and raises AssertionError after `timeout`.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion


@dataclass(frozen=True)
class Msg:
    topic: str
    payload: bytes
    retain: bool
    qos: int
    received: float = field(compare=False)
    properties: Any = field(default=None, compare=False)

    @property
    def text(self) -> str:
        return self.payload.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.payload)


class Subscriber:
    """Connects to 127.0.0.1:port, subscribes, records messages in arrival order."""

    def __init__(
        self,
        port: int,
        *,
        client_id: str = "",
        protocol: int = mqtt.MQTTv311,
        clean_session: bool = True,
        host: str = "127.0.0.1",
        tls: dict[str, Any] | None = None,
        username: str | None = None,
        password: str | None = None,
        nodelay: bool = True,
    ) -> None:
        self.port = port
        self.host = host
        self.nodelay = nodelay
        kwargs: dict[str, Any] = {"client_id": client_id, "protocol": protocol}
        if protocol != mqtt.MQTTv5:
            kwargs["clean_session"] = clean_session
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, **kwargs)
        if tls:
            self.client.tls_set(**tls)
        if username:
            self.client.username_pw_set(username, password)
        self.messages: list[Msg] = []
        self._cond = threading.Condition()
        self._connected = threading.Event()
        self._subscribed: set[int] = set()
        self._refused: set[int] = set()  # SUBSCRIBE packet ids the broker refused
        self._topics: list[tuple[str, int]] = []
        self.client.on_message = self._on_message
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any = None) -> None:
        if rc == 0:
            sock = client.socket()
            if sock is not None and self.nodelay:  # Nagle off, as in the daemon: commands leave at once
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for topic, qos in self._topics:
                client.subscribe(topic, qos)
            self._connected.set()

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, rcs: Any, props: Any = None) -> None:
        with self._cond:
            if any(getattr(rc, "is_failure", False) for rc in rcs):
                self._refused.add(mid)
            self._subscribed.add(mid)
            self._cond.notify_all()

    def _on_message(self, client: mqtt.Client, userdata: Any, m: mqtt.MQTTMessage) -> None:
        msg = Msg(m.topic, bytes(m.payload), bool(m.retain), m.qos, time.monotonic(), m.properties)
        with self._cond:
            self.messages.append(msg)
            self._cond.notify_all()

    def connect(self, timeout: float = 10.0) -> Subscriber:
        self.client.connect(self.host, self.port, keepalive=30)
        self.client.loop_start()
        if not self._connected.wait(timeout):
            raise AssertionError(f"subscriber could not connect to port {self.port}")
        return self

    def subscribe(self, topic: str, qos: int = 1, timeout: float = 10.0) -> bool:
        """Subscribe and wait for the SUBACK (so nothing published after this is missed);
        False if the broker refused the subscription."""
        self._topics.append((topic, qos))
        _, mid = self.client.subscribe(topic, qos)
        self.wait(lambda: mid in self._subscribed, timeout, f"SUBACK for {topic}")
        return mid not in self._refused

    def wait(self, cond: Callable[[], bool], timeout: float, what: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not cond():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
                self._cond.wait(left)

    def wait_for(self, pred: Callable[[Msg], bool], timeout: float = 10.0, what: str = "message") -> Msg:
        """Return the first recorded message satisfying pred, waiting up to timeout."""
        found: list[Msg] = []

        def check() -> bool:
            for m in self.messages:
                if pred(m):
                    found.append(m)
                    return True
            return False

        self.wait(check, timeout, what)
        return found[0]

    def wait_topic(self, topic: str, timeout: float = 10.0, where: Callable[[Msg], bool] | None = None) -> Msg:
        return self.wait_for(lambda m: m.topic == topic and (where is None or where(m)), timeout, f"a message on {topic}")

    def wait_count(self, pred: Callable[[Msg], bool], n: int, timeout: float = 10.0) -> list[Msg]:
        self.wait(lambda: sum(1 for m in self.messages if pred(m)) >= n, timeout, f"{n} messages")
        return [m for m in self.messages if pred(m)]

    def on(self, topic: str) -> list[Msg]:
        with self._cond:
            return [m for m in self.messages if m.topic == topic]

    def publish(self, topic: str, payload: str | bytes, qos: int = 1, retain: bool = False, **kw: Any) -> None:
        info = self.client.publish(topic, payload, qos=qos, retain=retain, **kw)
        info.wait_for_publish(10)

    def close(self) -> None:
        try:
            self.client.disconnect()
        finally:
            self.client.loop_stop()
