"""SIGHUP reloads in place (issue 13, item 1), against a real Mosquitto.

With `[mqtt]` unchanged the MQTT client, its session and the outbox carry on: no `offline`, no
reconnect (the broker's own count of the daemon's connections stays one), every reading of an
entity that stays arrives exactly once with its seq in order, and a new entity starts. A change
to `[mqtt]` reconnects but still publishes no `offline` and loses nothing.
Run with `-s` for the figures (readings lost and duplicated across the reload).
"""

from __future__ import annotations

import json
import signal
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.mosquitto import Mosquitto
from tests.mqttwait import Subscriber
from tests.procs import DaemonProcess, Tally, write_config

pytestmark = pytest.mark.broker

BASE = "pi2mqtt/rl"
CPU = f"{BASE}/cpu"


def diag_connects(sub: Subscriber) -> list[int]:
    return [json.loads(m.payload)["mqtt"]["connects"] for m in sub.on(f"{BASE}/diagnostics")]


def reload_and_count(b: Mosquitto, tmp_path: Path, change: str) -> tuple[DaemonProcess, Subscriber, Tally]:
    sub = Subscriber(b.port).connect()
    for t in (CPU, f"{CPU}/backfill", f"{BASE}/cpu2", f"{BASE}/status", f"{BASE}/diagnostics"):
        sub.subscribe(t)
    conf = write_config(tmp_path / "p.toml", "rl", b.url, tmp_path / "state")
    p = DaemonProcess(conf, tmp_path / "d.log")
    t = Tally(sub)
    t.wait(lambda t: len(t.of(CPU)) >= 20, 20, "readings before the reload")
    text = conf.read_text() + '\n[[cpu_temperature]]\nname = "cpu2"\ninterval = "100ms"\n'
    if change:
        text = text.replace('[mqtt]\n', f'[mqtt]\n{change}\n')
    conf.write_text(text)
    p.signal(signal.SIGHUP)
    t.wait(lambda t: len(t.of(f"{BASE}/cpu2")) >= 3, 20, "readings of the new entity")
    n = len(t.update().of(CPU))
    t.wait(lambda t: len(t.of(CPU)) >= n + 20, 20, "cpu readings after the reload")
    return p, sub, t


def lost_and_duplicated(seqs: list[int]) -> tuple[int, int]:
    dup = sum(c - 1 for c in Counter(seqs).values())
    lost = len(set(range(min(seqs), max(seqs) + 1)) - set(seqs))
    return lost, dup


def test_reload_in_place_keeps_the_connection_and_every_reading(
    mosquitto_factory: Callable[..., Mosquitto], tmp_path: Path
) -> None:
    b = mosquitto_factory("reload")
    p, sub, t = reload_and_count(b, tmp_path, "")
    try:
        sub.wait_topic(f"{BASE}/diagnostics", 10, where=lambda m: "cpu2" in json.loads(m.payload)["entities"])
    finally:
        assert p.stop() == 0
        sub.close()
    statuses = [m.payload for m in sub.on(f"{BASE}/status") if not m.retain]
    assert b"offline" not in statuses[:-1], statuses  # only the final stop says offline
    assert statuses.count(b"online") <= 1, statuses  # no reconnect: one birth at most
    assert set(diag_connects(sub)) == {1}, diag_connects(sub)
    assert "reloaded in place" in p.log()
    cpu = t.update().of(CPU)
    assert not t.of(f"{CPU}/backfill")
    lost, dup = lost_and_duplicated(cpu)
    assert cpu == sorted(cpu) and (lost, dup) == (0, 0)
    print(f"\nreload in place: {len(cpu)} cpu readings across the reload, {lost} lost, {dup} duplicated")


def test_reload_with_a_new_mqtt_section_reconnects_without_offline(
    mosquitto_factory: Callable[..., Mosquitto], tmp_path: Path
) -> None:
    b = mosquitto_factory("reloadmqtt")
    p, sub, t = reload_and_count(b, tmp_path, 'keepalive = "30s"')
    try:
        assert "configuration reloaded (new connection)" in p.log()
    finally:
        assert p.stop() == 0
        sub.close()
    statuses = [m.payload for m in sub.on(f"{BASE}/status") if not m.retain]
    assert b"offline" not in statuses[:-1], statuses
    cpu = sorted(set(t.update().of(CPU)) | set(t.of(f"{CPU}/backfill")))
    lost, dup = lost_and_duplicated(t.of(CPU) + t.of(f"{CPU}/backfill"))
    assert lost == 0
    print(f"\nreload with a new [mqtt]: {len(cpu)} cpu readings, {lost} lost, {dup} duplicated")
