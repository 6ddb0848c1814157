"""`pi2mqtt web` at 50 devices: server CPU, page frame gaps, and reading → page latency.

    python bench/web_bench.py [--devices 50] [--entities 8] [--rate 1] [--seconds 20]

A Mosquitto, `pi2mqtt web`, and a publisher standing in for the daemons: `--devices`
devices with `--entities` numeric readings each at `--rate` Hz, a retained status, HA
discovery with one switch each. Headless chromium (tests/web/driver.mjs, playwright-core)
opens the page. Printed: the server's CPU share while the load runs, the page's
animation-frame gaps (p50/p99/max over 10 s: how responsive it stays), and the time
from publishing a marker reading to the page showing it (median of 10; this includes
the driver's round trip, so it is an upper bound). Needs chromium and `make npm-tests`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from device.app.localbroker import Mosquitto  # noqa: E402
from tests.web.browser import Browser, WebProcess, require_browser  # noqa: E402


def ts() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def publisher(port: int, devices: int, entities: int, rate: float, stop: threading.Event) -> None:
    c = mqtt.Client(CallbackAPIVersion.VERSION2)
    c.connect("127.0.0.1", port)
    c.loop_start()
    for d in range(devices):
        dev = f"dev{d:02d}"
        c.publish(f"pi2mqtt/{dev}/status", "online", qos=1, retain=True)
        cmps = {"relay": {"p": "switch", "name": "Relay", "state_topic": f"pi2mqtt/{dev}/relay",
                          "command_topic": f"pi2mqtt/{dev}/relay/set"}}
        c.publish(f"homeassistant/device/{dev}/config", json.dumps({"cmps": cmps}), qos=1, retain=True)
        c.publish(f"pi2mqtt/{dev}/relay", json.dumps({"value": False, "ts": ts()}), qos=1, retain=True)
    period = 1.0 / rate
    k = 0
    next_at = time.monotonic()
    while not stop.is_set():
        for d in range(devices):
            for e in range(entities):
                value = round(20 + 5 * ((k + d + e) % 17) / 17, 3)
                c.publish(f"pi2mqtt/dev{d:02d}/sensor{e}", json.dumps({"value": value, "ts": ts(), "seq": k}),
                          qos=0, retain=True)
        k += 1
        next_at += period
        stop.wait(max(0.0, next_at - time.monotonic()))
    c.loop_stop()
    c.disconnect()


FRAMES = """() => new Promise(done => {
  const gaps = []; let last = performance.now(); const end = last + 10000;
  function f(t) { gaps.push(t - last); last = t; if (t < end) requestAnimationFrame(f); else done(gaps); }
  requestAnimationFrame(f); })"""


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(p / 100 * len(s)))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--devices", type=int, default=50)
    ap.add_argument("--entities", type=int, default=8)
    ap.add_argument("--rate", type=float, default=1.0)
    ap.add_argument("--seconds", type=float, default=20.0)
    args = ap.parse_args()
    node = require_browser()
    with tempfile.TemporaryDirectory(prefix="web-bench-") as tmp:
        broker = Mosquitto(Path(tmp) / "mosquitto")
        broker.start()
        stop = threading.Event()
        load = threading.Thread(target=publisher, args=(broker.port, args.devices, args.entities, args.rate, stop))
        load.start()
        web = WebProcess("--broker", broker.url, "--port", "0")
        browser = Browser(node, Path(tmp) / "profile")
        try:
            browser.call("goto", url=web.url)
            last = f"dev{args.devices - 1:02d}"
            browser.call("wait_fn", js=f"() => document.querySelectorAll('section.device').length >= {args.devices}"
                         f" && !!document.querySelector('[data-device=\"{last}\"] tr[data-entity=\"sensor0\"]')",
                         ms=60000)
            cpu0, t0 = cpu_seconds(web.proc.pid), time.monotonic()
            gaps = browser.call("eval", js=FRAMES, ms=30000)
            rest = args.seconds - (time.monotonic() - t0)
            if rest > 0:
                stop.wait(rest)
            cpu = (cpu_seconds(web.proc.pid) - cpu0) / (time.monotonic() - t0)
            lat = []
            c = mqtt.Client(CallbackAPIVersion.VERSION2)
            c.connect("127.0.0.1", broker.port)
            c.loop_start()
            for i in range(10):
                marker = 1000 + i
                t = time.monotonic()
                c.publish("pi2mqtt/dev00/marker", json.dumps({"value": marker, "ts": ts()}), qos=0).wait_for_publish()
                browser.call("wait_fn", ms=20000, js="() => { const td = document.querySelector("
                             "'[data-device=\"dev00\"] tr[data-entity=\"marker\"] td.value');"
                             f" return td && td.textContent === '{marker}'; }}")
                lat.append((time.monotonic() - t) * 1000)
            c.loop_stop()
            c.disconnect()
            msgs = args.devices * args.entities * args.rate
            print(f"pi2mqtt web, {args.devices} devices x {args.entities} readings at {args.rate:g} Hz "
                  f"({msgs:.0f} msg/s), {len(gaps)} frames over 10 s")
            print(f"  server CPU: {cpu * 100:.1f} % of one core")
            print(f"  page frame gaps: p50 {pct(gaps, 50):.1f} ms, p99 {pct(gaps, 99):.1f} ms, "
                  f"max {max(gaps):.1f} ms")
            print(f"  reading -> page: median {statistics.median(lat):.0f} ms, max {max(lat):.0f} ms")
        finally:
            stop.set()
            load.join()
            browser.close()
            web.stop()
            broker.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
