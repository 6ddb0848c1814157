"""MQTT 5 is the default: request/response with a stock MQTT 5 client, and the protocol
seen by the broker (issue 12). The 3.1.1 fallback is tested on NATS (test_nats_services)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from device.config import parse_config
from device.core.daemon import Daemon
from device.outbox import MemoryOutbox
from tests.mosquitto import Mosquitto
from tests.procs import poll

pytestmark = pytest.mark.broker


def test_mqtt5_by_default_mosquitto_rr_gets_its_reply(
    broker: Mosquitto, mock_factory: MockFactory, tmp_path: Path
) -> None:
    rr = shutil.which("mosquitto_rr")
    if rr is None:
        pytest.skip("mosquitto_rr is not installed (apt-get install mosquitto-clients)")
    cfg = parse_config({"device": {"id": "rr"}, "mqtt": {"url": broker.url, "client_id": "rr-dev"},
                        "homeassistant": {"enabled": False}, "led": [{"name": "lamp", "pin": 5}]})
    d = Daemon(cfg, pin_factory=mock_factory, state_dir=tmp_path / "state", outbox=MemoryOutbox())
    d.start()
    try:
        assert d.client.wait_connected(10)
        assert d.client.counters()["protocol"] == "5"
        # The docs' example: a response topic and correlation data from a stock MQTT 5 client.
        out = subprocess.run([rr, "-V", "5", "-h", "127.0.0.1", "-p", str(broker.port), "-t", "pi2mqtt/rr/lamp/set",
                              "-e", "my/replies", "-m", "on", "-W", "10"], capture_output=True, text=True, timeout=20)
        assert out.returncode == 0, out.stderr
        assert '"ok": true' in out.stdout.replace('"ok":true', '"ok": true')
    finally:
        d.stop()
    line = next(ln for ln in broker.log().splitlines() if " as rr-dev " in ln)
    assert "(p5" in line  # Mosquitto logs the protocol level of each connection


def test_mqtt5_reason_codes_are_counted_by_name(
    mosquitto_factory: Callable[..., Mosquitto], mock_factory: MockFactory, tmp_path: Path
) -> None:
    # A broker that wants a password: with MQTT 5 its CONNACK says why, and that is counted.
    b = mosquitto_factory("auth", allow_anonymous=False)
    cfg = parse_config({"device": {"id": "rc"}, "mqtt": {"url": b.url}, "homeassistant": {"enabled": False}})
    d = Daemon(cfg, pin_factory=mock_factory, state_dir=tmp_path / "state", outbox=MemoryOutbox())
    d.client.reconnect_min, d.client.reconnect_max = 0.1, 0.2
    d.start()
    try:
        poll(lambda: d.client.counters()["reasons"].get("Not authorized", 0) >= 2, 15,
             "the CONNACK reason counted")
        assert d.client.last_error is not None and "Not authorized" in d.client.last_error
    finally:
        d.stop()
