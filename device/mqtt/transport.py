"""Setting paho up for one broker: TLS, transport (TCP or WebSocket), protocol version.

The client owns one paho `Client` for its whole life (so paho re-sends its
unacknowledged messages to whichever broker it reaches next); these functions adjust
it between connections. TLS is decided once, from the URLs (all TLS or none).
"""

from __future__ import annotations

import logging
import socket
from typing import TypedDict

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from device.config.model import MqttSection
from device.errors import TlsError
from device.mqtt.brokers import V5, BrokerAddress
from device.mqtt.netloop import SerialPaho

log = logging.getLogger("pi2mqtt.mqtt")


def paho_protocol(version: str) -> MQTTProtocolVersion:
    """paho's constant for "5" or "3.1.1"."""
    return mqtt.MQTTv5 if version == V5 else mqtt.MQTTv311


def make_paho(cfg: MqttSection, brokers: list[BrokerAddress], client_id: str, version: str, *,
              will_topic: str, password: str | None, window: int) -> SerialPaho:
    """The paho Client for this device: will, credentials, TLS, in-flight window; paho's own
    reconnect off (the client's supervisor reconnects and fails over)."""
    first = brokers[0]
    client = SerialPaho(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho_protocol(version),
                        clean_session=cfg.clean_session if version != V5 else None,
                        reconnect_on_failure=False, transport=first.transport)
    client.serialise()
    paho_log = logging.getLogger("pi2mqtt.paho")
    client.enable_logger(paho_log if paho_log.isEnabledFor(logging.DEBUG) else WarningsOnly(paho_log))
    client.will_set(will_topic, "offline", qos=1, retain=True)
    with_user = next((b for b in brokers if b.username), None)
    username = (with_user.username if with_user else None) or cfg.username
    if with_user is not None and with_user.password and password is None:
        password = with_user.password
    if username:
        client.username_pw_set(username, password)
    elif password:
        log.warning("a password is configured but no user name: MQTT sends no password without one")
    if first.tls:
        setup_tls(client, cfg)
    client.max_inflight_messages_set(window)
    return client


class WarningsOnly(logging.Logger):
    """What paho logs through when not debugging: its warnings and errors, to `real`.

    paho logs two debug lines per reading (PUBLISH sent, PUBACK received); a plain
    `Logger` spends a level-check call on each even when debug is off, this one a comparison.
    """

    def __init__(self, real: logging.Logger) -> None:
        super().__init__(real.name)
        self._real = real

    def log(self, level: int, msg: object, *args: object, **kwargs: object) -> None:
        if level >= logging.WARNING:
            self._real.log(level, msg, *args)


class ConnectOptions(TypedDict, total=False):
    """The keyword arguments of paho's `connect()` that we set."""

    keepalive: int
    clean_start: bool
    properties: Properties


def connect_options(cfg: MqttSection, version: str) -> ConnectOptions:
    """Keyword arguments of paho's connect(): keepalive; with MQTT 5 clean start and, for a
    persistent session, its expiry (`mqtt.session_expiry`)."""
    options: ConnectOptions = {"keepalive": int(cfg.keepalive)}
    if version == V5:
        options["clean_start"] = cfg.clean_session
        if not cfg.clean_session:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = int(cfg.session_expiry)
            options["properties"] = props
    return options


def setup_tls(client: mqtt.Client, cfg: MqttSection) -> None:
    """Certificates from `mqtt.tls`; TlsError with the reason when they cannot be loaded."""
    import ssl  # only with TLS configured (device/app/sslgate.py)

    t = cfg.tls
    try:
        client.tls_set(
            ca_certs=str(t.ca_file) if t.ca_file else None,
            certfile=str(t.cert_file) if t.cert_file else None,
            keyfile=str(t.key_file) if t.key_file else None,
            cert_reqs=ssl.CERT_NONE if t.insecure else ssl.CERT_REQUIRED,
            tls_version=ssl.PROTOCOL_TLS_CLIENT,
        )
    except (OSError, ssl.SSLError, ValueError) as e:
        raise TlsError(f"TLS set-up failed: {e}") from None
    if t.insecure:
        client.tls_insecure_set(True)
        log.warning(
            "TLS certificate verification is OFF (mqtt.tls.insecure = true): "
            "anyone on the network path can impersonate the broker"
        )


def point_at(client: mqtt.Client, broker: BrokerAddress, version: str, clean_session: bool) -> None:
    """Between connections: use `broker`'s transport and WebSocket path, and `version`."""
    if client.transport != broker.transport:
        # The public setter refuses after a failed attempt (paho's state stays "connecting"
        # until the next connect): set the field it guards, between connections only.
        client._transport = "websockets" if broker.websocket else "tcp"
    if broker.websocket:
        client.ws_set_options(path=broker.path)
    wanted = paho_protocol(version)
    if client._protocol != wanted:
        # paho has no setter for the version: it flips _protocol itself when it downgrades
        # 3.1.1 to 3.1 (_handle_connack). _clean_session is what 3.1.1 connects with.
        client._protocol = wanted
        client._clean_session = clean_session


def nodelay(sock: object) -> None:
    """Nagle off on a TCP socket (paho leaves it on: small readings would wait for an ACK)."""
    raw = sock if isinstance(sock, socket.socket) else getattr(sock, "_socket", None)  # WebSocket wrapper
    if isinstance(raw, socket.socket) and raw.family in (socket.AF_INET, socket.AF_INET6):
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
