"""Broker outages: nothing lost, every topic in order, the live topic current (issue 5, §5a/b)."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from device.config import parse_config
from device.core.daemon import Daemon
from device.outbox import open_outbox
from tests.mosquitto import Mosquitto
from tests.procs import (
    DaemonProcess,
    Tally,
    outbox_seqs,
    persistent_broker_extra,
    persistent_subscriber,
    poll,
    write_config,
)

pytestmark = [pytest.mark.broker, pytest.mark.slow]

LIVE = "pi2mqtt/ftest/cpu"
BACKFILL = LIVE + "/backfill"
OUTAGE_S = 30.0
BACKLOG = 5000


def test_outage_30s_at_20_readings_per_s_loses_nothing_in_order(
    mosquitto_factory: Callable[..., Mosquitto], mock_factory: MockFactory, tmp_path: Path
) -> None:
    b = mosquitto_factory("outage", extra=persistent_broker_extra(tmp_path / "mqdb"))
    sub = persistent_subscriber(b.port, "fault-sub-a", [LIVE, BACKFILL])
    cpu = tmp_path / "cpu_temp"
    cpu.write_text("45000\n")
    cfg = parse_config({
        "device": {"id": "ftest"}, "mqtt": {"url": b.url}, "homeassistant": {"enabled": False},
        "cpu_temperature": [{"name": "cpu", "sensor_file": str(cpu), "interval": "50ms"}],
    })
    state = tmp_path / "state"
    d = Daemon(cfg, pin_factory=mock_factory, state_dir=state, outbox=open_outbox(state))
    d.client.reconnect_max = 2.0  # recovery within ~2 s of the broker's return
    d.start()
    t = Tally(sub)
    try:
        t.wait(lambda t: len(t.of(LIVE)) >= 20, 15, "20 live readings")
        b.stop()
        down_at = time.monotonic()
        threading.Event().wait(OUTAGE_S)  # the outage itself: a fixed time by design
        queued = d.outbox.pending()
        assert queued >= 0.8 * OUTAGE_S * 20, f"only {queued} readings queued during the outage"
        b.start()
        up_at = time.monotonic()
        assert d.client.wait_connected(15)
        target = d.seqs._next["cpu"] + 20  # 20 more readings after the broker is back
        t.wait(lambda t: max(t.of(LIVE), default=0) >= target, 30, f"live seq {target}")
        recovered = time.monotonic() - up_at
    finally:
        d.stop()
        sub.close()
    live, back = t.update().of(LIVE), t.of(BACKFILL)
    # In order per topic (QoS 1 may repeat a message: a repeat is not disorder).
    assert live == sorted(live)
    assert back == sorted(back)
    # None lost: live + backfill cover every seq from the first to the last.
    got = set(live) | set(back)
    assert got == set(range(min(got), max(got) + 1)), sorted(set(range(min(got), max(got) + 1)) - got)[:20]
    assert min(got) == 1
    # The outage's readings came back on …/backfill, in order, and the live topic moved on.
    assert len(back) >= 0.8 * OUTAGE_S * 20
    assert max(live) > max(back)
    print(f"outage {up_at - down_at:.1f}s: {len(got)} readings, {len(back)} backfilled, "
          f"0 lost, {len(live) + len(back) - len(got)} duplicates, caught up {recovered:.1f}s after the broker came back")


def test_outage_sigkill_during_outage_then_restart_delivers_everything(
    mosquitto_factory: Callable[..., Mosquitto], tmp_path: Path
) -> None:
    b = mosquitto_factory("kill", extra=persistent_broker_extra(tmp_path / "mqdb"))
    sub = persistent_subscriber(b.port, "fault-sub-b", [LIVE, BACKFILL])
    state = tmp_path / "state"
    conf = write_config(tmp_path / "p.toml", "ftest", b.url, state, extra='[outbox]\ndurability = "reading"\n')
    first = DaemonProcess(conf, tmp_path / "first.log")
    t = Tally(sub)
    try:
        t.wait(lambda t: len(t.of(LIVE)) >= 10, 20, "10 live readings")
        b.stop()
        db = state / "outbox.db"
        poll(lambda: db.exists() and len(outbox_seqs(db)) >= 20, 20, "20 readings in the outbox")
        first.kill()
        stored = outbox_seqs(db)  # with durability "reading", every reading taken is here
    finally:
        first.stop()
    assert stored == sorted(stored)
    second = DaemonProcess(conf, tmp_path / "second.log")
    try:
        second.wait_log("messages from a previous run", 20)
        b.start()
        need = set(stored)
        t.wait(lambda t: need <= set(t.of(LIVE)) | set(t.of(BACKFILL)), 30, "every reading taken before the kill")
        t.wait(lambda t: max(t.of(LIVE)) > max(stored), 20, "new live readings")
    finally:
        assert second.stop() == 0
        sub.close()
    live, back = t.update().of(LIVE), t.of(BACKFILL)
    before = [s for s in live if s < min(stored)]
    after = [s for s in live if s > max(stored)]
    # Seq continues after the restart (a gap is allowed after a crash, a reused number is not):
    # every number the second run gave out is above every number the first run gave out.
    assert min(after) > max(max(stored), max(before))
    assert set(stored) <= set(live) | set(back)
    assert back == sorted(back) and live == sorted(live)
    print(f"killed with {len(stored)} readings queued; all delivered; second run starts at seq {min(after)}")


def test_outage_backlog_drains_to_backfill_while_live_stays_current(
    mosquitto_factory: Callable[..., Mosquitto], mock_factory: MockFactory, tmp_path: Path
) -> None:
    # A big backlog (20 000 readings from an earlier run) must not hold back the live topic.
    b = mosquitto_factory("drain")
    state = tmp_path / "state"
    ob = open_outbox(state)
    from device.mqtt import payloads
    from device.outbox import OutMsg

    t0 = time.time() - 3600
    for i in range(1, BACKLOG + 1):
        ob.put(OutMsg(LIVE, payloads.reading(40.0, t0 + i * 0.05, i, "°C"), 1, True, "cpu", t0 + i * 0.05))
    ob.close()
    (state / "seq.json").write_text(json.dumps({"version": 1, "entities": {"cpu": {"next": BACKLOG + 1}}}))
    sub = persistent_subscriber(b.port, "fault-sub-c", [LIVE, BACKFILL])
    cpu = tmp_path / "cpu_temp"
    cpu.write_text("45000\n")
    cfg = parse_config({
        "device": {"id": "ftest"}, "mqtt": {"url": b.url}, "homeassistant": {"enabled": False},
        "cpu_temperature": [{"name": "cpu", "sensor_file": str(cpu), "interval": "50ms"}],
    })
    d = Daemon(cfg, pin_factory=mock_factory, state_dir=state, outbox=open_outbox(state))
    d.start()
    t = Tally(sub)
    try:
        t.wait(lambda t: max(t.of(LIVE), default=0) > BACKLOG, 20, "a new live reading")
        first_live = max(t.of(LIVE))
        n_back_then = len(t.of(BACKFILL))
        t.wait(lambda t: len(t.of(BACKFILL)) + sum(1 for x in t.of(LIVE) if x <= BACKLOG) >= BACKLOG,
               60, "the whole backlog")
    finally:
        d.stop()
        sub.close()
    back_all = t.update().of(BACKFILL)
    live = t.of(LIVE)
    assert back_all == sorted(back_all) and live == sorted(live)
    # On a loaded machine this run may take a reading or two before its first connect; the
    # older of them are history too (…/backfill, above the backlog's numbers).
    back = [x for x in back_all if x <= BACKLOG]
    assert set(back) | {x for x in live if x <= BACKLOG} == set(range(1, BACKLOG + 1))
    # A previous run's readings are all history: every one on …/backfill.
    assert len(back) == BACKLOG
    # The first new reading went live before most of the backlog had drained.
    assert n_back_then < BACKLOG, f"live reading {first_live} only after the whole backlog"
    print(f"first live reading after {n_back_then} of {BACKLOG} backfilled")


def test_outage_sigterm_exits_promptly_and_cleanly(mosquitto_factory: Callable[..., Mosquitto], tmp_path: Path) -> None:
    b = mosquitto_factory("term")
    conf = write_config(tmp_path / "p.toml", "ftest", b.url, tmp_path / "state")
    p = DaemonProcess(conf, tmp_path / "d.log")
    p.wait_log("connected to", 20)
    b.stop()
    p.wait_log("disconnected from broker", 20)
    p.signal(signal.SIGTERM)
    assert p.wait(10) == 0  # promptly: its own stop deadline is 2 s; 10 s allows for a loaded machine
    p.stop()
