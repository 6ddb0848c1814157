"""Broker URLs and the failover ring: which broker to try next, and with which protocol.

Theory of operation
-------------------
`parse_broker_url` turns one URL into a frozen `BrokerAddress`: scheme `mqtt`
(TCP, port 1883), `mqtts` (TLS, 8883), `ws` (WebSocket, 80) or `wss` (WebSocket
over TLS, 443); a WebSocket URL's path is the HTTP path of the MQTT endpoint
(`/mqtt` when the URL has none, as most brokers and paho use). `split_urls`
takes one URL, a comma-separated list (`--broker a,b`) or a list (`url = [...]`).
All the URLs of one list are TLS or none: a TLS fleet never falls back to
plaintext because one node is down.

`BrokerRing` is the sans-IO policy the connection supervisor follows:

- it starts at the first URL; `current` is the broker to try now;
- `failed()` (an attempt that did not connect) and `dropped()` (a working
  connection lost) move to the next URL, round the ring;
- `connected()` stays on the broker that answered and tells whether this is a
  failover (a successful connection to another broker than the last one);
- each broker remembers its protocol: MQTT 5 unless it refused 5
  (`refused_v5()`), then 3.1.1 from then on for that broker, so a fleet on a
  mix of MQTT 5 and 3.1.1-only nodes speaks the best each node takes.

The waits between attempts (exponential backoff with jitter) stay in the
client; the ring only decides where the next attempt goes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote, urlsplit

SCHEMES = {"mqtt": (1883, False, False), "mqtts": (8883, True, False),
           "ws": (80, False, True), "wss": (443, True, True)}
DEFAULT_WS_PATH = "/mqtt"

V5 = "5"
V311 = "3.1.1"


@dataclass(frozen=True)
class BrokerAddress:
    """One broker endpoint, parsed."""

    url: str
    host: str
    port: int
    tls: bool
    websocket: bool
    path: str  # the WebSocket path ("" for TCP)
    username: str | None = None
    password: str | None = None

    @property
    def where(self) -> str:
        """How logs and diagnostics name it: host:port, plus the path for WebSocket."""
        return f"{self.host}:{self.port}{self.path}"

    @property
    def transport(self) -> Literal["tcp", "websockets"]:
        return "websockets" if self.websocket else "tcp"

    @property
    def display(self) -> str:
        """The URL without a password."""
        scheme = ("wss" if self.tls else "ws") if self.websocket else ("mqtts" if self.tls else "mqtt")
        return f"{scheme}://{self.where}"


def parse_broker_url(url: str) -> BrokerAddress:
    """Parse one broker URL; ValueError with a message a user can act on."""
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme not in SCHEMES:
        raise ValueError(f"{text!r}: the URL must start with mqtt://, mqtts://, ws:// or wss://")
    if not parts.hostname:
        raise ValueError(f"{text!r}: the URL has no host")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{text!r}: the port is not a number from 1 to 65535") from None
    default_port, tls, websocket = SCHEMES[parts.scheme]
    path = ""
    if websocket:
        path = parts.path or DEFAULT_WS_PATH
        if parts.query:
            path += "?" + parts.query
    elif parts.path not in ("", "/"):
        raise ValueError(f"{text!r}: an {parts.scheme}:// URL has no path (paths are for ws:// and wss://)")
    return BrokerAddress(
        url=text, host=parts.hostname, port=port or default_port, tls=tls, websocket=websocket,
        path=path, username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def split_urls(value: str | list[str] | tuple[str, ...]) -> list[str]:
    """One URL, a comma-separated list or a list of URLs → the URLs, stripped, none empty."""
    items = value.split(",") if isinstance(value, str) else [u for v in value for u in v.split(",")]
    urls = [u.strip() for u in items]
    if not urls or any(not u for u in urls):
        raise ValueError("an empty broker URL (check for a stray comma)")
    return urls


def parse_broker_list(value: str | list[str] | tuple[str, ...]) -> list[BrokerAddress]:
    """Every URL parsed; ValueError when one is bad, when one is repeated or when
    TLS and plain URLs are mixed."""
    brokers = [parse_broker_url(u) for u in split_urls(value)]
    seen: set[tuple[str, int, str]] = set()
    for b in brokers:
        key = (b.host, b.port, b.path)
        if key in seen:
            raise ValueError(f"{b.display} is listed twice")
        seen.add(key)
    if len({b.tls for b in brokers}) > 1:
        raise ValueError("mix of TLS (mqtts://, wss://) and plain (mqtt://, ws://) URLs: "
                         "a TLS connection must never fall back to plaintext; use one kind")
    return brokers


class BrokerRing:
    """Where the next connection attempt goes; see the module docstring."""

    def __init__(self, brokers: list[BrokerAddress], protocol: str = V5) -> None:
        if not brokers:
            raise ValueError("no broker URL")
        self.brokers = brokers
        self.index = 0
        self._protocol = {b.url: protocol for b in brokers}
        self._last_connected: int | None = None
        self.failovers = 0

    @property
    def current(self) -> BrokerAddress:
        return self.brokers[self.index]

    def protocol(self, broker: BrokerAddress | None = None) -> str:
        return self._protocol[(broker or self.current).url]

    def refused_v5(self) -> bool:
        """The current broker refused MQTT 5: use 3.1.1 with it. True if that changed anything."""
        url = self.current.url
        if self._protocol[url] == V311:
            return False
        self._protocol[url] = V311
        return True

    def failed(self) -> None:
        """The attempt on the current broker did not connect: the next one is tried next."""
        self.index = (self.index + 1) % len(self.brokers)

    def dropped(self) -> None:
        """The connection to the current broker was lost: try the next one first."""
        self.failed()

    def connected(self) -> bool:
        """The current broker answered; True when it is another one than last time (a failover)."""
        moved = self._last_connected is not None and self._last_connected != self.index
        self._last_connected = self.index
        if moved:
            self.failovers += 1
        return moved
