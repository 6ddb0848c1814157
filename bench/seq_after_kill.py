"""seq across a crash, measured as issue 13 did (item 3): the demo config (every device kind),
broker down, the daemon SIGKILLed and started again, then the broker back.

A persistent QoS 1 subscriber records every reading (live and backfill) of every entity. It
prints, per run, the seq numbers missing between each entity's first and last reading (a gap
means readings really lost), the numbers seen on two different readings (never allowed), and
the duplicates (same reading twice: allowed, at least once).

    .venv/bin/python bench/seq_after_kill.py [--outage 10] [--runs 1] [--connected]

`--connected` kills the daemon while the broker is up instead (the restart then asks the
broker's retained readings where seq stands).
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from benchlib import PI2MQTT, ROOT, machine
from paho.mqtt.enums import CallbackAPIVersion

from device.app.localbroker import Mosquitto

DEVICE = "demo"


class Recorder:
    """entity -> seq -> the distinct timestamps seen under it."""

    def __init__(self, port: int) -> None:
        self.seen: dict[str, dict[int, set[str]]] = {}
        self.count = 0
        self.lock = threading.Lock()
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="seqbench-sub", clean_session=False)
        c.reconnect_delay_set(min_delay=0.1, max_delay=0.5)  # type: ignore[arg-type]
        c.on_connect = lambda cl, u, f, rc, p=None: cl.subscribe([(f"pi2mqtt/{DEVICE}/+", 1),
                                                                   (f"pi2mqtt/{DEVICE}/+/backfill", 1)])
        c.on_message = self._on_message
        c.connect("127.0.0.1", port)
        c.loop_start()
        self.client = c

    def _on_message(self, client: mqtt.Client, userdata: object, m: mqtt.MQTTMessage) -> None:
        if m.retain or not m.payload.startswith(b"{"):
            return
        doc = json.loads(m.payload)
        if "seq" not in doc:
            return
        entity = m.topic.split("/")[2]
        with self.lock:
            self.seen.setdefault(entity, {}).setdefault(doc["seq"], set()).add(doc["ts"])
            self.count += 1


def start(conf: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([*PI2MQTT, "run", "--sim", "--config", str(conf)], cwd=ROOT,
                            stdout=open(log, "ab"), stderr=subprocess.STDOUT)


def one_run(work: Path, outage: float, connected: bool) -> tuple[int, int, int, int, int]:
    b = Mosquitto(work / "broker", extra=f"persistence true\npersistence_location {work}/\n")
    b.start()
    text = (ROOT / "examples" / "demo.toml").read_text()
    text = re.sub(r'(?m)^url = .*$', f'url = "{b.url}"', text, count=1)
    text = text.replace("[device]\n", f'[device]\nstate_dir = "{work / "state"}"\n', 1)
    conf = work / "demo.toml"
    conf.write_text(text)
    rec = Recorder(b.port)
    p = start(conf, work / "d.log")
    try:
        time.sleep(8)
        if not connected:
            b.stop()
            time.sleep(outage)
        p.send_signal(signal.SIGKILL)
        p.wait(10)
        p = start(conf, work / "d.log")
        time.sleep(3)
        if not connected:
            b.start()
        time.sleep(10)
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(10)
        rec.client.loop_stop()
        b.stop()
    missing = reused = dup = 0
    for seqs in rec.seen.values():
        missing += len(set(range(min(seqs), max(seqs) + 1)) - set(seqs))
        reused += sum(1 for ts in seqs.values() if len(ts) > 1)
    dup = rec.count - sum(len(ts) for s in rec.seen.values() for ts in s.values())
    return len(rec.seen), rec.count, missing, reused, dup


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--outage", type=float, default=10.0, help="seconds the broker is down before the kill")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--connected", action="store_true", help="kill while connected instead")
    args = ap.parse_args()
    print(f"machine: {machine()}")
    print(f"seq after SIGKILL {'while connected' if args.connected else f'after a {args.outage:g} s outage'}, "
          "demo config, durability batch")
    print(f"{'run':>4} {'entities':>8} {'readings':>8} {'missing':>8} {'reused':>7} {'dups':>5}")
    for i in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory() as d:
            ents, n, missing, reused, dup = one_run(Path(d), args.outage, args.connected)
        print(f"{i:>4} {ents:>8} {n:>8} {missing:>8} {reused:>7} {dup:>5}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
