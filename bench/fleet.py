"""A fleet of simulated daemons against Mosquitto and against a 3-node NATS cluster.

    python bench/fleet.py [--sizes 10,30,50] [--engines mosquitto,nats] [--window 20] [--rate 5]

For each engine and each fleet size N, it starts the broker(s), N `pi2mqtt run --sim`
daemons (distinct device ids, each with its own hwsim and state directory, one CPU
temperature entity at `--rate` readings/s) and a QoS 1 subscriber, then prints:

- readings/s delivered to the subscriber in a steady window (and what was asked for);
- CPU per reading across the fleet: the daemons' CPU time over the window / readings
  delivered (and the broker's, separately);
- failover time when a node dies: the node that half the fleet (NATS) or all of it
  (Mosquitto, two unbridged brokers) is on is killed with SIGKILL; per affected device,
  the time from the kill to the first reading taken after the kill reaching the
  subscriber, and the daemon's own `last_failover.outage_s` (time without a broker);
- readings lost: gaps in each device's `seq`, live and `…/backfill` together, after the
  daemons are stopped, less the readings still in their outboxes (`pending`: not lost,
  the next start sends them) (target 0);
- the 1-minute load average at the end of the run (the machine is shared: a loaded
  machine shows as fewer readings delivered and longer failovers).

Every run is bounded (start-up, window, failover wait, drain: about a minute); the
machine's other load shows in the figures, so compare runs made side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import paho.mqtt.client as mqtt
from benchlib import ROOT, broker, cpu_seconds, machine, tempdir
from paho.mqtt.enums import CallbackAPIVersion

sys.path.insert(0, str(ROOT))
from tests.nats import NatsCluster, find_nats_server
from tests.procs import outbox_seqs

PI2MQTT = [sys.executable, "-m", "device"]


@dataclass
class Engine:
    """Where the fleet connects, where the subscriber listens, what to kill."""

    name: str
    urls: Callable[[int], list[str]]  # device index -> its URL list
    sub_ports: list[int]
    affected: Callable[[int], bool]  # device index -> on the node that will die
    kill: Callable[[], None]
    stop: Callable[[], None]
    pids: Callable[[], list[int]]


def mosquitto_engine(work: Path) -> Engine:
    """Two independent Mosquittos; every device lists m1 first, m2 second; m1 dies."""
    m1, m2 = broker(work / "m1"), broker(work / "m2")

    def kill() -> None:
        assert m1.proc is not None
        m1.proc.send_signal(signal.SIGKILL)
        m1.proc.wait(10)

    return Engine("mosquitto", lambda i: [m1.url, m2.url], [m1.port, m2.port], lambda i: True,
                  kill, lambda: (m1.stop(), m2.stop()) and None,
                  lambda: [p.pid for p in (m1.proc, m2.proc) if p is not None and p.poll() is None])


def nats_engine(work: Path) -> Engine:
    """Three NATS nodes; even devices on n1 then n2, odd ones on n2 then n1; the subscriber on
    n3; n1 dies."""
    if find_nats_server() is None:
        raise SystemExit("the NATS runs need nats-server (apt-get install nats-server)")
    cluster = NatsCluster(work / "nats")
    cluster.start()
    n1, n2, n3 = cluster.nodes
    return Engine("nats", lambda i: [n1.url, n2.url] if i % 2 == 0 else [n2.url, n1.url],
                  [n3.mqtt_port], lambda i: i % 2 == 0, n1.kill, cluster.stop,
                  lambda: [n.proc.pid for n in cluster.nodes if n.proc is not None and n.alive()])


@dataclass
class Seen:
    """What the subscriber got from one device."""

    seqs: set[int] = field(default_factory=set)
    first_after_kill: float | None = None  # monotonic arrival of the first reading taken after the kill
    outage: float | None = None  # the daemon's own last_failover.outage_s


class Collector:
    """QoS 1 subscribers on `ports`: readings (live and backfill) and diagnostics per device."""

    def __init__(self, ports: list[int]) -> None:
        self.lock = threading.Lock()
        self.devices: dict[str, Seen] = {}
        self.count = 0
        self.kill_wall: float | None = None
        self.clients = [self._client(p) for p in ports]

    def _client(self, port: int) -> mqtt.Client:
        c = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        subscribed = threading.Event()
        c.on_subscribe = lambda *a: subscribed.set()
        c.on_message = self._on_message
        c.reconnect_delay_set(1, 2)
        c.connect("127.0.0.1", port, 30)
        c.loop_start()
        c.subscribe([("pi2mqtt/+/cpu", 1), ("pi2mqtt/+/cpu/backfill", 1), ("pi2mqtt/+/diagnostics", 0)])
        if not subscribed.wait(15):
            raise RuntimeError(f"the subscriber on port {port} could not subscribe")
        return c

    def _on_message(self, c: mqtt.Client, userdata: object, m: mqtt.MQTTMessage) -> None:
        parts = m.topic.split("/")
        now = time.monotonic()
        try:
            doc = json.loads(m.payload)
        except ValueError:
            return
        with self.lock:
            seen = self.devices.setdefault(parts[1], Seen())
            if parts[2] == "diagnostics":
                last = (doc.get("mqtt") or {}).get("last_failover") or {}
                if last.get("outage_s") is not None:
                    seen.outage = float(last["outage_s"])
                return
            if m.retain:
                return
            seen.seqs.add(int(doc["seq"]))
            self.count += 1
            if self.kill_wall is not None and seen.first_after_kill is None and \
                    datetime.fromisoformat(doc["ts"].replace("Z", "+00:00")).timestamp() > self.kill_wall:
                seen.first_after_kill = now

    def distinct(self) -> int:
        with self.lock:
            return sum(len(s.seqs) for s in self.devices.values())

    def wait(self, cond: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    def close(self) -> None:
        for c in self.clients:
            c.disconnect()
            c.loop_stop()


def spawn(work: Path, i: int, urls: list[str], rate: float) -> subprocess.Popen[bytes]:
    dev = f"fleet-{i:03d}"
    conf = work / f"{dev}.toml"
    url_list = ", ".join(f'"{u}"' for u in urls)
    conf.write_text(
        f'[device]\nid = "{dev}"\n[mqtt]\nurl = [{url_list}]\n[homeassistant]\nenabled = false\n'
        f'[diagnostics]\ninterval = "2s"\n[[cpu_temperature]]\nname = "cpu"\ninterval = "{1000 / rate:g}ms"\n'
    )
    env = dict(os.environ, STATE_DIRECTORY=str(work / f"state-{dev}"), PYTHONUNBUFFERED="1")
    log = open(work / f"{dev}.log", "wb")
    return subprocess.Popen([*PI2MQTT, "run", "--sim", "--config", str(conf), "--log-level", "warning"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def fleet_cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            total += cpu_seconds(pid)
        except (OSError, ValueError):
            pass
    return total


def pending_at_stop(work: Path, dev: str) -> set[int]:
    """The readings still in a stopped daemon's outbox (not lost: the next run sends them)."""
    db = work / f"state-{dev}" / "outbox.db"
    try:
        return set(outbox_seqs(db)) if db.exists() else set()
    except Exception:  # a database the daemon could not close cleanly: count nothing as pending
        return set()


def run_one(engine_name: str, n: int, window: float, rate: float) -> dict[str, object]:
    with tempdir() as tmp:
        work = Path(tmp)
        engine = mosquitto_engine(work) if engine_name == "mosquitto" else nats_engine(work)
        col = Collector(engine.sub_ports)
        procs = [spawn(work, i, engine.urls(i), rate) for i in range(n)]
        try:
            return measure(engine, col, procs, n, window, rate, work)
        finally:
            for p in procs:
                if p.poll() is None:
                    p.terminate()
            for p in procs:
                try:
                    p.wait(15)
                except subprocess.TimeoutExpired:
                    p.kill()
            col.close()
            engine.stop()


def measure(engine: Engine, col: Collector, procs: list[subprocess.Popen[bytes]], n: int,
            window: float, rate: float, work: Path) -> dict[str, object]:
    devs = [f"fleet-{i:03d}" for i in range(n)]
    started = col.wait(lambda: all(col.devices.get(d) and col.devices[d].seqs for d in devs), 300)
    if not started:
        raise SystemExit(f"{engine.name} N={n}: not every device published within 300 s")
    time.sleep(3)  # start-up over (first connections, the simulators' own start)
    pids = [p.pid for p in procs]
    c0, b0, r0, t0 = fleet_cpu(pids), fleet_cpu(engine.pids()), col.distinct(), time.monotonic()
    time.sleep(window)
    c1, b1, r1, t1 = fleet_cpu(pids), fleet_cpu(engine.pids()), col.distinct(), time.monotonic()
    delivered = r1 - r0
    killed_at = time.monotonic()
    col.kill_wall = time.time()
    engine.kill()
    affected = [d for i, d in enumerate(devs) if engine.affected(i)]
    col.wait(lambda: all(col.devices[d].first_after_kill is not None for d in affected), 90)
    time.sleep(3)
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        p.wait(30)
    time.sleep(2)  # the last acknowledged readings reach the subscriber
    times = [col.devices[d].first_after_kill - killed_at for d in affected
             if col.devices[d].first_after_kill is not None]
    outages = [col.devices[d].outage for d in affected if col.devices[d].outage is not None]
    gaps = {d: set(range(1, max(s.seqs) + 1)) - s.seqs for d, s in col.devices.items() if s.seqs}
    pending = {d: pending_at_stop(work, d) for d in gaps}
    lost = sum(len(g - pending[d]) for d, g in gaps.items())
    return {
        "engine": engine.name, "n": n, "asked_per_s": n * rate,
        "delivered_per_s": delivered / (t1 - t0),
        "cpu_us_per_reading": (c1 - c0) / max(1, delivered) * 1e6,
        "broker_cpu_us_per_reading": (b1 - b0) / max(1, delivered) * 1e6,
        "affected": len(affected), "recovered": len(times),
        "failover_median_s": statistics.median(times) if times else float("nan"),
        "failover_max_s": max(times) if times else float("nan"),
        "outage_median_s": statistics.median(outages) if outages else float("nan"),
        "lost": lost, "readings": sum(len(s.seqs) for s in col.devices.values()),
        "pending": sum(len(p) for p in pending.values()), "load": os.getloadavg()[0],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10,30,50", help="fleet sizes (comma-separated)")
    ap.add_argument("--engines", default="mosquitto,nats", help="mosquitto, nats or both")
    ap.add_argument("--window", type=float, default=20.0, help="steady window in seconds")
    ap.add_argument("--rate", type=float, default=5.0, help="readings/s per device")
    args = ap.parse_args()
    print(machine())
    print(f"{'engine':9} {'N':>3} {'asked/s':>8} {'got/s':>7} {'CPU µs/rd':>9} {'broker µs':>9} "
          f"{'failover p50/max s':>18} {'outage p50':>10} {'recovered':>9} {'lost':>5} {'readings':>8} "
          f"{'pending':>7} {'load':>5}")
    for engine in args.engines.split(","):
        for n in (int(x) for x in args.sizes.split(",")):
            r = run_one(engine.strip(), n, args.window, args.rate)
            print(f"{r['engine']:9} {r['n']:>3} {r['asked_per_s']:>8.0f} {r['delivered_per_s']:>7.1f} "
                  f"{r['cpu_us_per_reading']:>9.0f} {r['broker_cpu_us_per_reading']:>9.0f} "
                  f"{r['failover_median_s']:>8.2f} / {r['failover_max_s']:<7.2f} {r['outage_median_s']:>10.2f} "
                  f"{r['recovered']:>4}/{r['affected']:<4} {r['lost']:>5} {r['readings']:>8} "
                  f"{r['pending']:>7} {r['load']:>5.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
