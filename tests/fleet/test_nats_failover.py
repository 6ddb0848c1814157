"""The daemon on a real distributed engine: a 3-node NATS cluster (issue 12).

The daemon is given two nodes' URLs, a QoS 1 subscriber sits on the third; the
node the daemon is on is killed (SIGKILL) while it publishes 20 readings/s. The
daemon must fail over to the other node and no reading may be missing: the
`seq` numbers seen live and on `…/backfill` together cover every number.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from tests.fleet.conftest import fleet_config
from tests.mqttwait import Msg, Subscriber
from tests.nats import NatsCluster
from tests.procs import DaemonProcess, Tally

pytestmark = [pytest.mark.broker, pytest.mark.slow, pytest.mark.timeout(300)]  # a cluster on a busy machine

LIVE = "pi2mqtt/fleet1/cpu"
BACKFILL = LIVE + "/backfill"
CPU = '[[cpu_temperature]]\nname = "cpu"\ninterval = "50ms"\n'


def diagnostics(sub: Subscriber, topic: str, pred: Callable[[dict], bool], timeout: float, what: str) -> dict:
    m = sub.wait_topic(topic, where=lambda m: pred(json.loads(m.payload)), timeout=timeout)
    return json.loads(m.payload)  # type: ignore[no-any-return]


def reading_time(m: Msg) -> float:
    ts = m.json()["ts"]
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


def covered(t: Tally) -> int:
    """The highest seq n such that every seq 1..n has been received (live or backfill)."""
    got = set(t.of(LIVE)) | set(t.of(BACKFILL))
    n = 0
    while n + 1 in got:
        n += 1
    return n


def first_arrivals(seqs: list[int]) -> list[int]:
    """`seqs` without the repeats of numbers already seen (QoS 1 duplicates)."""
    return list(dict.fromkeys(seqs))


def test_fleet_kill_the_daemons_nats_node_fails_over_with_no_reading_lost(
    nats_cluster: NatsCluster, spawn_daemon: Callable[..., DaemonProcess], tmp_path: Path
) -> None:
    n1, n2, n3 = nats_cluster.nodes
    sub = Subscriber(n3.mqtt_port).connect()
    for topic in (LIVE, BACKFILL, "pi2mqtt/fleet1/status", "pi2mqtt/fleet1/diagnostics"):
        sub.subscribe(topic, qos=1)
    conf = fleet_config(tmp_path / "fleet1.toml", "fleet1", [n1.url, n2.url], CPU)
    d = spawn_daemon(conf)
    t = Tally(sub)
    try:
        sub.wait_topic("pi2mqtt/fleet1/status", where=lambda m: m.text == "online", timeout=30)
        t.wait(lambda t: len(t.of(LIVE)) >= 40, 30, "40 live readings through the cluster")
        before = diagnostics(sub, "pi2mqtt/fleet1/diagnostics",
                             lambda doc: doc["mqtt"]["broker"] == n1.url, 15, "the daemon on node 1")
        assert before["mqtt"]["protocol"] == "3.1.1" and before["mqtt"]["protocol_fallbacks"] >= 1
        killed_at = time.monotonic()
        n1.kill()
        doc = diagnostics(sub, "pi2mqtt/fleet1/diagnostics",
                          lambda doc: doc["mqtt"]["failovers"] >= 1, 30, "a failover in diagnostics")
        assert doc["mqtt"]["broker"] == n2.url
        # Then the flow resumes: a reading taken after the failover arrives live, and every
        # reading before it has arrived, live or backfilled (NATS may stall a few seconds
        # after the failover while JetStream elects new leaders for the node's streams).
        seen_failover = time.time()
        later = sub.wait_for(lambda m: m.topic == LIVE and reading_time(m) > seen_failover + 1.0, 60,
                             "a live reading taken after the failover")
        target = later.json()["seq"]
        t.wait(lambda t: covered(t) >= target, 60, f"every reading up to seq {target}")
        first_after = next(m.received for m in sub.messages
                           if m.topic in (LIVE, BACKFILL) and m.received > killed_at)
        assert d.alive()
        # The status topic stayed right: online after the failover (nothing left it offline).
        assert sub.on("pi2mqtt/fleet1/status")[-1].text == "online"
    finally:
        d.stop()
    sub.wait_topic("pi2mqtt/fleet1/status", where=lambda m: m.text == "offline", timeout=15)
    sub.close()
    live, back = t.update().of(LIVE), t.of(BACKFILL)
    got = set(live) | set(back)
    missing = sorted(set(range(min(got), max(got) + 1)) - got)
    assert not missing, f"{len(missing)} readings lost: {missing[:20]}"
    # QoS 1 is at least once: a node may deliver a message twice (NATS did, once, in CI:
    # live seq 39, 40, 39). Order is judged on each number's first arrival.
    assert first_arrivals(live) == sorted(set(live)) and first_arrivals(back) == sorted(set(back))
    outage = doc["mqtt"]["last_failover"]["outage_s"]
    print(f"\nNATS failover: {len(got)} readings (seq {min(got)}-{max(got)}), {len(back)} backfilled, "
          f"0 lost, {len(live) + len(back) - len(got)} duplicates; daemon without a broker "
          f"{outage:.2f}s; first reading at the subscriber {first_after - killed_at:.2f}s after the kill")
