"""TLS against a real Mosquitto with the test PKI: trust, host names, client certificates.

These pin down what paho does on its own (verify chain and host name, present a client
certificate), so the daemon's TLS options can rely on it: a broker with an untrusted or
wrong-host certificate is refused with an ssl error that says so.
"""

from __future__ import annotations

import ssl
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.certs import Pki, find_openssl, make_pki
from tests.mosquitto import Mosquitto
from tests.mqttwait import Subscriber

pytestmark = pytest.mark.broker


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    if find_openssl() is None:
        pytest.skip("openssl is not installed")
    return make_pki(tmp_path_factory.mktemp("pki"))


def try_connect(
    port: int,
    tls: dict[str, Any],
    *,
    host: str = "127.0.0.1",
    insecure: bool = False,
    timeout: float = 10.0,
) -> BaseException | None:
    """Connect with TLS and wait for CONNACK: None on success, else what went wrong.

    `tls` holds tls_set() keywords, or {"context": an ssl.SSLContext}.
    """
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"t-{uuid.uuid4().hex[:8]}")
    if "context" in tls:
        client.tls_set_context(tls["context"])
    else:
        client.tls_set(**tls)
    if insecure:
        client.tls_insecure_set(True)
    done = threading.Event()
    result: list[BaseException | None] = []

    def on_connect(c: mqtt.Client, u: Any, flags: Any, rc: Any, props: Any = None) -> None:
        result.append(None if rc == 0 else ConnectionRefusedError(str(rc)))
        done.set()

    def on_disconnect(c: mqtt.Client, u: Any, flags: Any, rc: Any, props: Any = None) -> None:
        if not done.is_set():
            result.append(ConnectionResetError(f"disconnected before CONNACK: {rc}"))
            done.set()

    client.on_connect = on_connect
    client.on_disconnect = on_disconnect
    try:
        client.connect(host, port, keepalive=10)
    except (ssl.SSLError, OSError) as e:
        return e
    client.loop_start()
    try:
        if not done.wait(timeout):
            return TimeoutError(f"no CONNACK within {timeout}s")
        return result[0]
    finally:
        client.disconnect()
        client.loop_stop()


Factory = Callable[..., Mosquitto]


def test_tls_trusted_ca_and_right_host_connects_and_carries_messages(
    mosquitto_factory: Factory, pki: Pki
) -> None:
    broker = mosquitto_factory(extra=pki.mosquitto_tls())
    assert broker.url.startswith("mqtts://")
    sub = Subscriber(broker.port, tls=pki.client_tls())
    sub.connect()
    try:
        sub.subscribe("t/#")
        sub.publish("t/x", b"over tls")
        assert sub.wait_topic("t/x").payload == b"over tls"
    finally:
        sub.close()


def test_tls_localhost_name_is_accepted(mosquitto_factory: Factory, pki: Pki) -> None:
    broker = mosquitto_factory(extra=pki.mosquitto_tls())
    assert try_connect(broker.port, pki.client_tls(), host="localhost") is None


def test_tls_client_trusting_another_ca_is_refused(mosquitto_factory: Factory, pki: Pki) -> None:
    broker = mosquitto_factory(extra=pki.mosquitto_tls())
    err = try_connect(broker.port, pki.client_tls(ca=pki.other_ca))
    assert isinstance(err, ssl.SSLCertVerificationError), err
    assert "certificate verify failed" in str(err)


def test_tls_server_cert_from_untrusted_ca_is_refused(mosquitto_factory: Factory, pki: Pki) -> None:
    broker = mosquitto_factory(extra=pki.mosquitto_tls(pki.untrusted_server))
    err = try_connect(broker.port, pki.client_tls())
    assert isinstance(err, ssl.SSLCertVerificationError), err
    assert err.verify_message == "unable to get local issuer certificate"


def test_tls_wrong_host_name_is_refused(mosquitto_factory: Factory, pki: Pki) -> None:
    broker = mosquitto_factory(extra=pki.mosquitto_tls(pki.wrong_host))
    err = try_connect(broker.port, pki.client_tls())
    assert isinstance(err, ssl.SSLCertVerificationError), err
    assert "mismatch" in str(err)  # "IP address mismatch, certificate is not valid for '127.0.0.1'"


def test_tls_insecure_opt_out_skips_only_the_host_check(mosquitto_factory: Factory, pki: Pki) -> None:
    wrong_host = mosquitto_factory("wrong-host", extra=pki.mosquitto_tls(pki.wrong_host))
    assert try_connect(wrong_host.port, pki.client_tls(), insecure=True) is None
    untrusted = mosquitto_factory("untrusted", extra=pki.mosquitto_tls(pki.untrusted_server))
    err = try_connect(untrusted.port, pki.client_tls(), insecure=True)
    assert isinstance(err, ssl.SSLCertVerificationError), err


def test_tls_mutual_with_client_certificate_connects(mosquitto_factory: Factory, pki: Pki) -> None:
    broker = mosquitto_factory(extra=pki.mosquitto_tls(require_certificate=True))
    assert try_connect(broker.port, pki.client_tls(client=pki.client)) is None


def test_tls_mutual_without_client_certificate_is_refused(mosquitto_factory: Factory, pki: Pki) -> None:
    broker = mosquitto_factory(extra=pki.mosquitto_tls(require_certificate=True))
    # TLS 1.3 finishes the client's handshake before the server checks the certificate:
    # the client only sees the connection dropped before CONNACK (the broker logs
    # "peer did not return a certificate").
    err = try_connect(broker.port, pki.client_tls())
    assert isinstance(err, (ssl.SSLError, ConnectionError)), err
    # TLS 1.2 fails inside the handshake, with an ssl error.
    ctx = ssl.create_default_context(cafile=str(pki.ca.cert))
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    err = try_connect(broker.port, {"context": ctx})
    assert isinstance(err, ssl.SSLError) and "handshake failure" in str(err), err
    assert "peer did not return a certificate" in broker.log()


def test_tls_plain_client_gets_nothing_from_tls_listener(mosquitto_factory: Factory, pki: Pki) -> None:
    broker = mosquitto_factory(extra=pki.mosquitto_tls())
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    connected = threading.Event()
    dropped = threading.Event()
    client.on_connect = lambda *a: connected.set()
    client.on_disconnect = lambda *a: dropped.set()
    client.connect("127.0.0.1", broker.port, keepalive=10)
    client.loop_start()
    try:
        assert dropped.wait(10)  # the broker hangs up on MQTT in clear...
        assert not connected.is_set()  # ...without ever accepting it
    finally:
        client.disconnect()
        client.loop_stop()


def test_certs_pki_files_exist(pki: Pki, tmp_path: Path) -> None:
    for pair in (pki.ca, pki.server, pki.wrong_host, pki.other_ca, pki.untrusted_server, pki.client):
        assert pair.cert.read_text().startswith("-----BEGIN CERTIFICATE-----")
        assert "PRIVATE KEY" in pair.key.read_text()
