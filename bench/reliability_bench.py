"""Broker restarts against a running daemon: readings lost and recovery time.

Run: .venv/bin/python bench/reliability_bench.py [--outage 10] [--runs 3] [--interval 0.05]

Starts a private Mosquitto (with persistence, so a persistent subscriber's session survives
the restart), `pi2mqtt run --sim` with one cpu_temperature entity read every --interval
seconds (default 50 ms = 20 readings/s), and a persistent QoS 1 subscriber on the live
and backfill topics. Each run stops the broker for --outage seconds and starts it again,
then prints:
  * reconnect: broker back → the daemon's `online` status arrives (the reconnect backoff,
    1 s doubling to 10 s with jitter, decides most of it);
  * caught up: broker back → every reading taken until the daemon reconnected has arrived
    (live + backfill);
  * backfilled: readings that came back on …/backfill (taken while the broker was away);
  * lost: seqs missing from live + backfill up to the newest reading after the reconnect.
The daemon runs with its default settings (durability "batch").
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from device.app.localbroker import Mosquitto  # noqa: E402

DEVICE = "relbench"
LIVE = f"pi2mqtt/{DEVICE}/cpu"
BACKFILL = LIVE + "/backfill"
STATUS = f"pi2mqtt/{DEVICE}/status"


class Recorder:
    def __init__(self, port: int) -> None:
        self.seqs: set[int] = set()
        self.max_seq = 0
        self.backfilled = 0
        self.live_max = 0
        self.online_at: float | None = None
        self.cond = threading.Condition()
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="relbench-sub", clean_session=False)
        c.reconnect_delay_set(min_delay=0.1, max_delay=0.5)  # type: ignore[arg-type]
        c.on_connect = lambda cl, u, f, rc, p=None: cl.subscribe([(LIVE, 1), (BACKFILL, 1), (STATUS, 1)])
        c.on_message = self._on_message
        c.connect("127.0.0.1", port)
        c.loop_start()
        self.client = c

    def _on_message(self, client: mqtt.Client, userdata: object, m: mqtt.MQTTMessage) -> None:
        with self.cond:
            if m.topic == STATUS:
                if m.payload == b"online" and not m.retain:
                    self.online_at = time.monotonic()
            elif not m.retain:
                seq = json.loads(m.payload)["seq"]
                self.backfilled += m.topic == BACKFILL
                if m.topic == LIVE:
                    self.live_max = max(self.live_max, seq)
                self.seqs.add(seq)
                self.max_seq = max(self.max_seq, seq)
            self.cond.notify_all()

    def wait(self, pred: object, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self.cond:
            while not pred():  # type: ignore[operator]
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
        return True


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--outage", type=float, default=10.0, help="seconds the broker is down per run")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--interval", type=float, default=0.05, help="seconds between readings")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="relbench-") as tmp:
        d = Path(tmp)
        (d / "mq").mkdir()
        b = Mosquitto(d / "broker", extra=f"persistence true\npersistence_location {d / 'mq'}/\n")
        b.start()
        conf = d / "p.toml"
        conf.write_text(
            f'[device]\nid = "{DEVICE}"\nstate_dir = "{d / "state"}"\n[mqtt]\nurl = "{b.url}"\n'
            f'[homeassistant]\nenabled = false\n[[cpu_temperature]]\nname = "cpu"\n'
            f'interval = "{int(args.interval * 1000)}ms"\n'
        )
        rec = Recorder(b.port)
        log = open(d / "daemon.log", "wb")
        proc = subprocess.Popen([sys.executable, "-m", "device", "run", "--sim", "--config", str(conf)],
                                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            if not rec.wait(lambda: rec.max_seq >= 20, 30):
                print("the daemon did not start publishing", file=sys.stderr)
                return 1
            print(f"{1 / args.interval:.0f} readings/s, outage {args.outage:.0f} s, {args.runs} runs")
            print("run  reconnect_s  caught_up_s         backfilled  lost")
            for run in range(1, args.runs + 1):
                back0 = rec.backfilled
                seen = rec.max_seq
                b.stop()
                time.sleep(args.outage)
                b.start()
                up = time.monotonic()
                rec.online_at = None
                rec.wait(lambda: rec.online_at is not None, 120)
                # A live reading newer than the outage (a reading in flight when the broker
                # stopped is re-sent on the live topic first; skip it): wait until every
                # seq up to it has arrived (live + backfill).
                floor = seen + int(0.9 * args.outage / args.interval)
                rec.wait(lambda f=floor: rec.live_max > f, 120)
                with rec.cond:
                    newest = rec.live_max
                rec.wait(lambda n=newest: set(range(1, n + 1)) <= rec.seqs, 120)
                caught = time.monotonic() - up
                online = (rec.online_at or up) - up
                with rec.cond:
                    lost = len(set(range(1, newest + 1)) - rec.seqs)
                print(f"{run:>3}  {online:>11.2f}  {caught:>11.2f}  {rec.backfilled - back0:>17}  {lost:>4}")
                time.sleep(2)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(10)
            log.close()
            rec.client.loop_stop()
            b.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
