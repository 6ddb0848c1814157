"""A daemon loads what its config uses: no `ssl` (nor libcrypto) without TLS, no sqlite3 without a durable
outbox, and TLS still works (issue 14).

`pi2mqtt run` as a subprocess; what it loaded is read from /proc/<pid>/maps (shared
libraries) — the process is the unit here, not a module in the test's own interpreter.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.certs import Pki
from tests.mosquitto import Mosquitto
from tests.mqttwait import Subscriber
from tests.procs import DaemonProcess, poll, write_config

pytestmark = [pytest.mark.broker, pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")]


def mapped(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


def run(tmp_path: Path, url: str, extra: str = "") -> DaemonProcess:
    state = tmp_path / "state"
    cfg = write_config(tmp_path / "lean.toml", "lean", url, state, interval="100ms", extra=extra)
    return DaemonProcess(cfg, tmp_path / "lean.log", env={"STATE_DIRECTORY": str(state)})


def test_plaintext_daemon_never_loads_ssl(broker: Mosquitto, tmp_path: Path) -> None:
    sub = Subscriber(broker.port).connect()
    d = run(tmp_path, broker.url)
    try:
        sub.subscribe("pi2mqtt/lean/#")
        sub.wait_topic("pi2mqtt/lean/cpu", timeout=30)
        maps = mapped(d.pid)
        assert "libssl" not in maps and "_ssl." not in maps, "ssl was loaded without TLS configured"
        assert "libcrypto" not in maps and "_hashlib" not in maps, "OpenSSL's hashes were loaded"
    finally:
        d.stop()
        sub.close()
    assert "Traceback" not in d.log()


def test_daemon_with_the_memory_outbox_never_loads_sqlite(broker: Mosquitto, tmp_path: Path) -> None:
    sub = Subscriber(broker.port).connect()
    d = run(tmp_path, broker.url, extra='[outbox]\ndurability = "memory"\n')
    try:
        sub.subscribe("pi2mqtt/lean/#")
        sub.wait_topic("pi2mqtt/lean/cpu", timeout=30)
        maps = mapped(d.pid)
        assert "_sqlite3" not in maps and "libsqlite3" not in maps, "sqlite3 was loaded for a RAM-only outbox"
    finally:
        d.stop()
        sub.close()
    assert "Traceback" not in d.log()


def test_tls_daemon_loads_ssl_and_connects(mosquitto_factory: Callable[..., Mosquitto], pki: Pki,
                                           tmp_path: Path) -> None:
    b = mosquitto_factory("tls", extra=pki.mosquitto_tls(require_certificate=False))
    d = run(tmp_path, f"mqtts://127.0.0.1:{b.port}", extra=f'[mqtt.tls]\nca_file = "{pki.ca.cert}"\n')
    try:
        poll(lambda: "as pi2mqtt-lean" in b.log(), 30, "the daemon connected to the TLS listener")
        assert "_ssl." in mapped(d.pid)
    finally:
        d.stop()
    assert "Traceback" not in d.log()


def test_reload_that_turns_tls_on_is_refused_with_a_reason(broker: Mosquitto, pki: Pki, tmp_path: Path) -> None:
    sub = Subscriber(broker.port).connect()
    d = run(tmp_path, broker.url)
    try:
        sub.subscribe("pi2mqtt/lean/#")
        sub.wait_topic("pi2mqtt/lean/cpu", timeout=30)
        cfg = tmp_path / "lean.toml"
        text = cfg.read_text().replace(broker.url, "mqtts://127.0.0.1:8883")
        cfg.write_text(text + f'\n[mqtt.tls]\nca_file = "{pki.ca.cert}"\n')
        d.signal(signal.SIGHUP)
        try:
            poll(lambda: "reload refused" in d.log() or "reloaded" in d.log(), 30, "the reload handled")
        except AssertionError:
            raise AssertionError(d.log()[-3000:]) from None
        assert "turning TLS on" in d.log(), d.log()[-2000:]
        assert d.alive()
        before = len(sub.messages)
        poll(lambda: len(sub.messages) > before, 30, "readings go on over the old connection")
    finally:
        d.stop()
        sub.close()
