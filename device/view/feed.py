"""The viewers' paho adapter: a subscription to `<prefix>/#` on one broker of a list.

`Feed(urls, prefix)` takes what `pi2mqtt run` takes: one broker URL or several
separated by commas (`mqtt://a,mqtt://b`), parsed by `device.mqtt.brokers` (so
`ws://` and `wss://` work too; all TLS or none). A bare `host[:port]` means
`mqtt://host[:port]`, as it always did for `watch`. `start()` tries the URLs in
order and keeps the first broker that accepts the connection; when none does, it
raises `BrokerError` (`TlsError`) naming each failure. Once connected, a lost
connection moves on round the list: paho's own reconnect (1–10 s backoff) is
pointed at the next broker, so a fleet behind several brokers stays in view.

paho's callbacks run in its network thread and only queue messages or set flags;
the viewer's thread reads the queue. `url` is the broker in use, as given.
"""

from __future__ import annotations

import logging
import queue
import ssl
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from device.errors import BrokerError, TlsError
from device.mqtt.brokers import BrokerAddress, parse_broker_list, split_urls

log = logging.getLogger("pi2mqtt.watch")

CONNECT_TIMEOUT = 10.0
KEEPALIVE = 30


def parse_urls(urls: str) -> list[tuple[str, BrokerAddress]]:
    """(URL as given, parsed) for each of a comma-separated list; BrokerError when one is bad."""
    try:
        given = split_urls(urls)
        parsed = parse_broker_list([u if "://" in u else f"mqtt://{u}" for u in given])
    except ValueError as exc:
        raise BrokerError(str(exc)) from None
    return list(zip(given, parsed, strict=True))


class Feed:
    """A paho client subscribed to `<prefix>/#`, queueing (topic, payload, Unix time, retained)."""

    def __init__(self, url: str, prefix: str, ca_file: str | None = None,
                 also: tuple[str, ...] = ()) -> None:
        self.brokers = parse_urls(url)
        self._at = 0
        self.url, self.where = self.brokers[0]
        self.also = also  # more topic filters (the web page reads HA discovery too)
        self.prefix = prefix.rstrip("/")
        self.messages: queue.SimpleQueue[tuple[str, bytes, float, bool]] = queue.SimpleQueue()
        self.subscribed = threading.Event()
        self.connected = False
        self._following = False  # after start(): a lost connection moves to the next broker
        self._answered = threading.Event()
        self._refused: str | None = None
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="", clean_session=True,
                                   transport=self.where.transport)
        with_user = next((b for _, b in self.brokers if b.username), None)
        if with_user is not None:
            self._client.username_pw_set(with_user.username, with_user.password)
        if self.where.tls:
            try:
                self._client.tls_set(ca_certs=ca_file, cert_reqs=ssl.CERT_REQUIRED)
            except (OSError, ssl.SSLError, ValueError) as exc:
                raise TlsError(f"TLS set-up for {url} failed: {exc}") from None
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_connect_fail = self._on_connect_fail
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message
        self._client.reconnect_delay_set(1, 10)
        self._client.connect_timeout = 5.0

    def start(self, timeout: float = CONNECT_TIMEOUT) -> None:
        """Connect to the first broker of the list that accepts; BrokerError / TlsError when none does."""
        failures: list[BrokerError] = []
        for i in range(len(self.brokers)):
            try:
                self._attempt(i, timeout)
            except BrokerError as exc:  # TlsError included
                failures.append(exc)
                continue
            self._following = True
            return
        if len(failures) == 1:
            raise failures[0]
        raise BrokerError("no broker of the list accepted the connection: " + "; ".join(map(str, failures)))

    def _attempt(self, i: int, timeout: float) -> None:
        self._aim(i)
        self._answered.clear()
        self._refused = None
        try:
            self._client.connect(self.where.host, self.where.port, keepalive=KEEPALIVE)
        except ssl.SSLError as exc:
            raise TlsError(f"TLS with {self.url} failed: {exc.reason or exc}") from None
        except OSError as exc:
            raise BrokerError(f"cannot reach the broker at {self.url}: {exc.strerror or exc}") from None
        self._client.loop_start()
        if not self._answered.wait(timeout):
            self.close()
            raise BrokerError(f"the broker at {self.url} did not answer CONNECT within {timeout:.0f} s")
        if self._refused is not None:
            self.close()
            raise BrokerError(f"the broker at {self.url} refused the connection: {self._refused}")

    def _aim(self, i: int) -> None:
        """Between connections: make broker `i` the one paho (re)connects to."""
        self._at = i
        self.url, self.where = self.brokers[i]
        if self._client.transport != self.where.transport:
            # paho's setter refuses after a failed attempt (its state stays "connecting"):
            # set the field it guards, between connections only (as device/mqtt/transport.py does).
            self._client._transport = self.where.transport
        if self.where.websocket:
            self._client.ws_set_options(path=self.where.path)

    def _next_broker(self) -> None:
        """Point paho's reconnect at the next broker of the list (in paho's thread)."""
        if not self._following or len(self.brokers) < 2:
            return
        self._aim((self._at + 1) % len(self.brokers))
        log.info("watch: trying the next broker, %s", self.url)
        self._client.connect_async(self.where.host, self.where.port, keepalive=KEEPALIVE)

    def publish(self, topic: str, payload: str) -> bool:
        """Send a command (QoS 1, not retained); False when not connected."""
        if not self.connected:
            return False
        self._client.publish(topic, payload, qos=1)
        return True

    def close(self) -> None:
        """Disconnect and stop paho's thread."""
        self._following = False
        try:
            self._client.disconnect()
        finally:
            self._client.loop_stop()

    # paho callbacks: each guarded, since an exception would kill paho's thread silently.
    def _on_connect(self, client: mqtt.Client, userdata: object, flags: mqtt.ConnectFlags, rc: ReasonCode,
                    props: Properties | None = None) -> None:
        try:
            if rc.is_failure:
                self._refused = str(rc)
            else:
                self.connected = True
                client.subscribe([(f"{self.prefix}/#", 0), *((t, 0) for t in self.also)])
        except Exception:
            log.exception("watch: on_connect failed")
        finally:
            self._answered.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags: mqtt.DisconnectFlags, rc: ReasonCode,
                       props: Properties | None = None) -> None:
        self.connected = False
        try:
            self._next_broker()
        except Exception:
            log.exception("watch: on_disconnect failed")

    def _on_connect_fail(self, client: mqtt.Client, userdata: object) -> None:
        try:
            self._next_broker()
        except Exception:
            log.exception("watch: on_connect_fail failed")

    def _on_subscribe(self, client: mqtt.Client, userdata: object, mid: int, rcs: list[ReasonCode],
                      props: Properties | None = None) -> None:
        self.subscribed.set()

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        try:
            self.messages.put((msg.topic, bytes(msg.payload), time.time(), bool(msg.retain)))
        except Exception:
            log.exception("watch: dropping a message")
