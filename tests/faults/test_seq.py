"""`seq` after a crash (issue 13, item 3): a gap means a reading really lost, nothing else.

Two crashes against a real Mosquitto, with the default `durability = "batch"`:
- during an outage (the issue's measurement: broker down, SIGKILL, restart, broker back);
- while connected (readings acknowledged by the broker never touched the disk, so the
  restart must ask the broker's retained readings where seq stands).
In both, every seq a subscriber sees is one reading (never two different readings under
one number) and the seqs across both runs have no gap. Run with `-s` for the figures.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from tests.mosquitto import Mosquitto
from tests.mqttwait import Subscriber
from tests.procs import (
    DaemonProcess,
    Tally,
    outbox_seqs,
    persistent_broker_extra,
    persistent_subscriber,
    poll,
    write_config,
)

pytestmark = pytest.mark.broker

ENTITIES = '''[[cpu_temperature]]
name = "cpu"
interval = "50ms"

[[cpu_temperature]]
name = "slow"
interval = "400ms"
'''


def by_seq(sub: Subscriber, topics: set[str]) -> dict[str, dict[int, set[str]]]:
    """Per entity topic: seq -> the distinct timestamps seen under it (live and backfill)."""
    out: dict[str, dict[int, set[str]]] = {}
    for m in sub.messages:
        base = m.topic.removesuffix("/backfill")
        if base not in topics or m.payload[:1] != b"{":
            continue
        doc = json.loads(m.payload)
        out.setdefault(base, {}).setdefault(doc["seq"], set()).add(doc["ts"])
    return out


def check_gapless(seen: dict[str, dict[int, set[str]]]) -> dict[str, tuple[int, int]]:
    """No seq carries two readings, no seq is missing between the first and the last."""
    spans = {}
    for topic, seqs in seen.items():
        reused = {s: ts for s, ts in seqs.items() if len(ts) > 1}
        assert not reused, f"{topic}: one seq, several readings: {reused}"
        lo, hi = min(seqs), max(seqs)
        missing = sorted(set(range(lo, hi + 1)) - set(seqs))
        assert not missing, f"{topic}: {len(missing)} seq numbers missing: {missing[:20]}"
        spans[topic] = (lo, hi)
    return spans


def test_seq_kill_during_outage_then_restart_leaves_no_gap(
    mosquitto_factory: Callable[..., Mosquitto], tmp_path: Path
) -> None:
    b = mosquitto_factory("seqkill", extra=persistent_broker_extra(tmp_path / "mqdb"))
    topics = {"pi2mqtt/sq/cpu", "pi2mqtt/sq/slow"}
    sub = persistent_subscriber(b.port, "seq-sub-a", [t for x in topics for t in (x, x + "/backfill")])
    state = tmp_path / "state"
    conf = write_config(tmp_path / "p.toml", "sq", b.url, state, entities=ENTITIES)
    first = DaemonProcess(conf, tmp_path / "first.log")
    t = Tally(sub)
    try:
        t.wait(lambda t: len(t.of("pi2mqtt/sq/cpu")) >= 20 and t.of("pi2mqtt/sq/slow"), 20, "live readings")
        b.stop()
        db = state / "outbox.db"
        poll(lambda: db.exists() and len(outbox_seqs(db)) >= 40, 20, "40 readings spilled to the outbox")
        first.kill()
        stored = len(outbox_seqs(db))
    finally:
        first.stop()
    second = DaemonProcess(conf, tmp_path / "second.log")
    try:
        second.wait_log("messages from a previous run", 20)
        b.start()
        t.wait(lambda t: len(t.of("pi2mqtt/sq/cpu")) >= 60 and len(t.of("pi2mqtt/sq/slow")) >= 5, 30,
               "live readings from the second run")
    finally:
        assert second.stop() == 0
        sub.close()
    spans = check_gapless(by_seq(sub, topics))
    assert "seq continues" not in second.log()  # no broker round trip needed: the marks were exact
    print(f"\nkill during an outage: {stored} readings stored; seq spans {spans}; 0 gaps, 0 reused")


def test_seq_kill_while_connected_continues_from_the_broker(
    mosquitto_factory: Callable[..., Mosquitto], tmp_path: Path
) -> None:
    b = mosquitto_factory("seqconn")
    topics = {"pi2mqtt/sq/cpu", "pi2mqtt/sq/slow"}
    sub = Subscriber(b.port).connect()
    for x in topics:
        sub.subscribe(x)
        sub.subscribe(x + "/backfill")
    state = tmp_path / "state"
    conf = write_config(tmp_path / "p.toml", "sq", b.url, state, entities=ENTITIES)
    first = DaemonProcess(conf, tmp_path / "first.log")
    t = Tally(sub)
    try:
        t.wait(lambda t: len(t.of("pi2mqtt/sq/cpu")) >= 60 and len(t.of("pi2mqtt/sq/slow")) >= 5, 20,
               "live readings")
        first.kill()
        killed_at = time.time()
    finally:
        first.stop()
    t.update()
    last_first = max(t.of("pi2mqtt/sq/cpu"))
    stored = len(outbox_seqs(state / "outbox.db")) if (state / "outbox.db").exists() else 0
    second = DaemonProcess(conf, tmp_path / "second.log")
    try:
        second.wait_log("seq continues above the broker's retained readings", 20)
        t.wait(lambda t: max(t.of("pi2mqtt/sq/cpu")) >= last_first + 20, 20, "the second run's readings")
    finally:
        assert second.stop() == 0
        sub.close()
    seen = by_seq(sub, topics)
    spans = check_gapless(seen)
    last_ts = max(ts for s, tss in seen["pi2mqtt/sq/cpu"].items() if s <= last_first for ts in tss)
    lag = killed_at - datetime.fromisoformat(last_ts.replace("Z", "+00:00")).timestamp()
    print(f"\nkill while connected: {stored} rows on disk at the kill; seq spans {spans}; 0 gaps, 0 reused;"
          f" last reading of the first run {lag:.3f}s before the kill")
