"""Daemon benchmarks: button latency, CPU per reading vs bare paho, rate, RSS, start-up.

    python bench/daemon_bench.py [--seconds 10] [--presses 200]

Everything runs on this machine against a private Mosquitto on a free port:
- latency: hwsim button press (control topic) → the subscriber sees the reading
  (examples/demo.toml, world idle). It includes the control hop to hwsim, so it
  over-states the daemon's own latency slightly.
- load (bench/load.toml: 50 entities × 10 Hz): readings received per second against
  the 500/s requested; CPU time of the daemon per received reading, beside a bare
  paho loop publishing the same number of readings at the same rate in the same run.
- peak RSS (VmHWM) of the daemon under load and on the demo config.
- start-up: process spawn → first reading at the subscriber (median of 5).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from benchlib import (
    ROOT,
    Recorder,
    broker,
    compile_bytecode,
    cpu_seconds,
    machine,
    pct,
    peak_rss_mb,
    spawn_daemon,
    statistics,
    stop,
    tempdir,
)

DEMO = ROOT / "examples" / "demo.toml"
LOAD = ROOT / "bench" / "load.toml"


def bench_latency(port: int, work: Path, presses: int) -> dict[str, float]:
    url = f"mqtt://127.0.0.1:{port}"
    rec = Recorder(port, "pi2mqtt/demo/doorbell")
    ctl = Recorder(port, "hwsim/demo/status")
    proc = spawn_daemon(DEMO, url, work / "state-lat")
    try:
        if rec.wait(lambda m: True, 20) is None:
            raise SystemExit("daemon did not publish the doorbell")
        if ctl.wait(lambda m: m[2] == b"online", 20) is None:
            raise SystemExit("hwsim control did not come online")
        # Warm up: the first press also proves hwsim's control subscription is in place.
        for _ in range(100):
            t0 = time.perf_counter()
            ctl.c.publish("hwsim/demo/doorbell/press", b"", qos=1)
            if rec.wait(lambda m, t0=t0: m[0] >= t0 and json.loads(m[2])["value"] is True, 0.2):
                break
        else:
            raise SystemExit("the doorbell never reacted to hwsim presses")
        ctl.c.publish("hwsim/demo/doorbell/release", b"", qos=1)
        time.sleep(0.2)
        lat: list[float] = []
        for i in range(presses):
            for action, want in (("press", True), ("release", False)):
                t0 = time.perf_counter()
                ctl.c.publish(f"hwsim/demo/doorbell/{action}", b"", qos=0)
                got = rec.wait(lambda m, t0=t0, want=want: m[0] >= t0 and json.loads(m[2])["value"] is want, 5)
                if got is None:
                    raise SystemExit(f"press {i}: no {action} seen")
                lat.append((got[0] - t0) * 1000)
                time.sleep(0.06)  # past the 20 ms debounce window
        rss = peak_rss_mb(proc.pid)
    finally:
        stop(proc)
        rec.close()
        ctl.close()
    return {"p50_ms": pct(lat, 50), "p90_ms": pct(lat, 90), "p99_ms": pct(lat, 99), "max_ms": max(lat),
            "n": len(lat), "demo_rss_mb": rss}


def without_simulator(work: Path) -> Path:
    """bench/load.toml on gpiozero's mock pins and a fixed temperature file: no hwsim in the process."""
    temp = work / "temp"
    temp.write_text("45000\n")
    text = LOAD.read_text().replace('pin_factory = "hwsim"', 'pin_factory = "mock"')
    text = text.replace('interval = "100ms"', f'interval = "100ms"\nsensor_file = "{temp}"')
    cfg = work / "load-nosim.toml"
    cfg.write_text(text)
    return cfg


def bench_load(port: int, work: Path, seconds: float, sim: bool = True) -> dict[str, float]:
    url = f"mqtt://127.0.0.1:{port}"
    rec = Recorder(port, "pi2mqtt/load/+")
    bare_rec = Recorder(port, "bare/+")
    config = LOAD if sim else without_simulator(work)
    proc = spawn_daemon(config, url, work / f"state-load-{sim}", sim=sim)
    bare = subprocess.Popen([sys.executable, str(ROOT / "bench" / "bare_paho.py"), "--port", str(port)])
    try:
        time.sleep(3.0)  # start-up and the first retained flood settle
        c0, b0 = cpu_seconds(proc.pid), cpu_seconds(bare.pid)
        n0 = rec.count(lambda m: True)
        m0 = bare_rec.count(lambda m: True)
        t0 = time.monotonic()
        time.sleep(seconds)
        c1, b1 = cpu_seconds(proc.pid), cpu_seconds(bare.pid)
        n1 = rec.count(lambda m: True)
        m1 = bare_rec.count(lambda m: True)
        t1 = time.monotonic()
        rss = peak_rss_mb(proc.pid)
    finally:
        stop(proc)
        bare.terminate()
        bare.wait()
        rec.close()
        bare_rec.close()
    n, m, dt = n1 - n0, m1 - m0, t1 - t0
    return {
        "requested_per_s": 500.0,
        "achieved_per_s": n / dt,
        "achieved_pct": 100 * n / (500 * dt),
        "cpu_us_per_reading": 1e6 * (c1 - c0) / max(n, 1),
        "bare_cpu_us_per_reading": 1e6 * (b1 - b0) / max(m, 1),
        "bare_per_s": m / dt,
        "load_rss_mb": rss,
    }


def bench_startup(work: Path, runs: int = 5) -> dict[str, float]:
    times = []
    for i in range(runs):
        # A fresh broker each time: no retained readings from an earlier run.
        b = broker(work / f"startup{i}")
        port = b.port
        url = b.url
        rec = Recorder(port, "pi2mqtt/demo/+")
        t0 = time.perf_counter()
        proc = spawn_daemon(DEMO, url, work / f"state-start{i}")
        try:
            got = rec.wait(lambda m, t0=t0: m[0] >= t0 and m[1] != "pi2mqtt/demo/status" and b'"seq"' in m[2]
                           and not m[1].endswith("diagnostics"), 20)
            if got is None:
                raise SystemExit("no first reading")
            times.append((got[0] - t0) * 1000)
        finally:
            stop(proc)
            rec.close()
            b.stop()
    return {"startup_median_ms": statistics.median(times), "startup_max_ms": max(times)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--presses", type=int, default=200)
    args = ap.parse_args()
    print(f"machine: {machine()}")
    compile_bytecode()
    with tempdir() as tmp:
        work = Path(tmp)
        b = broker(work)
        try:
            lat = bench_latency(b.port, work, args.presses)
            print(f"button → subscriber latency ({lat['n']} edges): p50 {lat['p50_ms']:.2f} ms, "
                  f"p99 {lat['p99_ms']:.2f} ms, max {lat['max_ms']:.2f} ms   [target p99 ≤ 5 ms]")
            print(f"peak RSS, demo config: {lat['demo_rss_mb']:.1f} MB   [target ≤ 45 MB]")
            # A fresh broker for the load: no retained state from the latency run.
            load = bench_load(b.port, work, args.seconds)
            print(f"rate at 50 × 10 Hz: {load['achieved_per_s']:.1f}/s of {load['requested_per_s']:.0f}/s "
                  f"= {load['achieved_pct']:.2f} %   [target ≥ 99.5 %]")
            ratio = load["cpu_us_per_reading"] / load["bare_cpu_us_per_reading"]
            print(f"CPU per reading: daemon {load['cpu_us_per_reading']:.0f} µs, bare paho loop "
                  f"{load['bare_cpu_us_per_reading']:.0f} µs ({load['bare_per_s']:.0f}/s) → {ratio:.2f}×   "
                  f"[target ≤ 150 µs and ≤ 2×]")
            print(f"peak RSS under load: {load['load_rss_mb']:.1f} MB   [target ≤ 45 MB]")
            alone = bench_load(b.port, work, args.seconds, sim=False)
            ratio = alone["cpu_us_per_reading"] / alone["bare_cpu_us_per_reading"]
            print(f"same load without the simulator in the process (gpiozero mock pins): rate "
                  f"{alone['achieved_pct']:.2f} %, CPU per reading {alone['cpu_us_per_reading']:.0f} µs vs bare "
                  f"{alone['bare_cpu_us_per_reading']:.0f} µs → {ratio:.2f}×, peak RSS {alone['load_rss_mb']:.1f} MB")
            st = bench_startup(work)
            print(f"start-up to first publish: median {st['startup_median_ms']:.0f} ms, "
                  f"max {st['startup_max_ms']:.0f} ms   [target ≤ 500 ms]")
        finally:
            b.stop()


if __name__ == "__main__":
    main()
