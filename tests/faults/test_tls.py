"""TLS faults: an untrusted or wrong-host certificate is refused with a clear error, never a
plaintext fallback; a broker that wants a client certificate says so (issue 5, §5c)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from device.config import parse_config
from device.mqtt.client import MqttClient
from device.mqtt.topics import Topics
from device.outbox import MemoryOutbox
from tests.certs import Pki
from tests.mosquitto import Mosquitto
from tests.procs import poll

pytestmark = pytest.mark.broker


@pytest.fixture
def make_client() -> Iterator[Callable[..., MqttClient]]:
    made: list[MqttClient] = []

    def make(url: str, **tls: Any) -> MqttClient:
        cfg = parse_config({"device": {"id": "tls"}, "mqtt": {"url": url, "tls": tls}})
        c = MqttClient(cfg.mqtt, Topics("pi2mqtt", "tls"), MemoryOutbox())
        c.reconnect_min, c.reconnect_max = 0.05, 0.2  # retry fast: the test counts attempts
        c.start()
        made.append(c)
        return c

    yield make
    for c in made:
        c.stop()


def refused(c: MqttClient, attempts: int = 3) -> str:
    """Wait for several failed attempts; the client never got connected."""
    poll(lambda: c.attempts >= attempts, 15, f"{attempts} connection attempts")
    assert c.connects == 0 and not c.connected
    assert c.state == "error"
    err = c.counters()["last_error"]
    assert err
    return str(err)


def no_client_seen(b: Mosquitto) -> None:
    log = b.log()
    assert "New client connected" not in log, log


def test_tls_untrusted_ca_is_refused_clearly(mosquitto_factory: Callable[..., Mosquitto], pki: Pki,
                                             make_client: Callable[..., MqttClient],
                                             caplog: pytest.LogCaptureFixture) -> None:
    b = mosquitto_factory("untrusted", extra=pki.mosquitto_tls(pki.untrusted_server))
    with caplog.at_level(logging.ERROR, logger="pi2mqtt.mqtt"):
        c = make_client(f"mqtts://127.0.0.1:{b.port}", ca_file=str(pki.ca.cert))
        err = refused(c)
    assert "not trusted" in err and "ca_file" in err, err
    assert any("not trusted" in r.getMessage() for r in caplog.records)
    # Logged once, not once per retry.
    assert sum("not trusted" in r.getMessage() for r in caplog.records) == 1
    no_client_seen(b)


def test_tls_wrong_host_is_refused_clearly(mosquitto_factory: Callable[..., Mosquitto], pki: Pki,
                                           make_client: Callable[..., MqttClient]) -> None:
    b = mosquitto_factory("wronghost", extra=pki.mosquitto_tls(pki.wrong_host))
    err = refused(make_client(f"mqtts://127.0.0.1:{b.port}", ca_file=str(pki.ca.cert)))
    assert "another host name" in err and "127.0.0.1" in err, err
    no_client_seen(b)


def test_tls_never_falls_back_to_plaintext(mosquitto_factory: Callable[..., Mosquitto], pki: Pki,
                                           make_client: Callable[..., MqttClient]) -> None:
    # mqtts:// pointed at a plain MQTT listener: a client that fell back to plaintext
    # would be accepted there. The broker must never see an MQTT client.
    plain = mosquitto_factory("plain")
    c = make_client(f"mqtts://127.0.0.1:{plain.port}", ca_file=str(pki.ca.cert))
    err = refused(c)
    assert "TLS" in err or "before accepting" in err, err
    no_client_seen(plain)


def test_tls_missing_client_certificate_is_explained(mosquitto_factory: Callable[..., Mosquitto], pki: Pki,
                                                     make_client: Callable[..., MqttClient]) -> None:
    # Over TLS 1.3 the broker accepts the handshake, then drops us before CONNACK.
    b = mosquitto_factory("mtls", extra=pki.mosquitto_tls(require_certificate=True).replace(
        "tls_version tlsv1.2\n", ""))
    err = refused(make_client(f"mqtts://127.0.0.1:{b.port}", ca_file=str(pki.ca.cert)))
    assert "client certificate" in err and "cert_file" in err, err


def test_tls_trusted_with_client_certificate_connects(mosquitto_factory: Callable[..., Mosquitto], pki: Pki,
                                                      make_client: Callable[..., MqttClient]) -> None:
    b = mosquitto_factory("good", extra=pki.mosquitto_tls(require_certificate=True))
    c = make_client(f"mqtts://127.0.0.1:{b.port}", ca_file=str(pki.ca.cert),
                    cert_file=str(pki.client.cert), key_file=str(pki.client.key))
    assert c.wait_connected(15), c.last_error
    assert c.last_error is None


def test_tls_insecure_opt_out_is_logged_loudly(mosquitto_factory: Callable[..., Mosquitto], pki: Pki,
                                               make_client: Callable[..., MqttClient],
                                               caplog: pytest.LogCaptureFixture) -> None:
    b = mosquitto_factory("insecure", extra=pki.mosquitto_tls(pki.wrong_host))
    with caplog.at_level(logging.WARNING, logger="pi2mqtt.mqtt"):
        c = make_client(f"mqtts://127.0.0.1:{b.port}", ca_file=str(pki.ca.cert), insecure=True)
        assert c.wait_connected(15), c.last_error
    assert any("verification is OFF" in r.getMessage() for r in caplog.records)
