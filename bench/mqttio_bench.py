"""Issue 14: mqtt-io 2.7 beside the daemon and the batched floor, in the same run.

    python bench/mqttio_bench.py [--mqttio-python /tmp/mqttio-venv/bin/python]
                                 [--rounds 3] [--seconds 10] [--idle-seconds 60] [--startup-runs 3] [--quick]

mqtt-io lives in its own virtualenv (it pins its own paho and asyncio MQTT client):

    python3.11 -m venv /tmp/mqttio-venv && /tmp/mqttio-venv/bin/pip install mqtt-io==2.7.0

Each publisher reads the same kind of sensor — a plain file holding millidegrees, as the
CPU-temperature file — at the same rate: the daemon (no simulator, as on a Pi; durable
outbox), bench/batched_paho.py (the honest floor) and mqtt-io (bench/mqttio_run.py with
the `p2m_file` sensor module). In each round the three run at the same time against one
private Mosquitto; CPU is each process's utime+stime over the window ÷ the readings a
mosquitto_sub received from it; the start order rotates. All three speak MQTT 3.1.1 here
(mqtt-io knows no other), so these figures are not the MQTT 5 ones of floor_bench.py.

What mqtt-io does differently, by its design: it publishes at QoS 0 (no PUBACK to handle,
nothing kept for a resend), its payload is the bare number ("45.00", no JSON, no
timestamp, no seq), it has no outbox (a reading taken while the broker is away is lost),
and each sensor is polled by its own asyncio task that sleeps `interval` *after* each
read, through a thread pool — so it drifts below the asked rate, printed as "rate".
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import floor_bench
from benchlib import (
    ROOT,
    SubCounter,
    broker,
    compile_bytecode,
    machine,
    peak_rss_mb,
    spawn_daemon,
    stop,
    tempdir,
)
from floor_bench import Proc, rng, run_together, start_daemon, start_floor

MQTTIO_PYTHON = "/tmp/mqttio-venv/bin/python"
LABELS = ("pi2mqtt", "batched", "mqtt-io")


def mqttio_config(work: Path, port: int, prefix: str, entities: int, rate: float) -> Path:
    """mqtt-io's config: `entities` sensors reading the bench's temperature file (JSON is YAML)."""
    temp = work / "cpu_temp"
    temp.write_text("45000\n")
    cfg = {
        "mqtt": {"host": "127.0.0.1", "port": port, "client_id": prefix, "topic_prefix": prefix,
                 "protocol": "3.1.1"},
        "sensor_modules": [{"name": "cpufile", "module": "p2m_file", "path": str(temp)}],
        "sensor_inputs": [{"name": f"t{i:03d}", "module": "cpufile", "interval": 1 / rate, "digits": 2,
                           "retain": True} for i in range(entities)],
        "logging": {"version": 1, "handlers": {"console": {"class": "logging.StreamHandler", "level": "WARNING"}},
                    "loggers": {"mqtt_io": {"level": "WARNING", "handlers": ["console"]}}},
    }
    path = work / f"{prefix}.yml"
    path.write_text(json.dumps(cfg))
    return path


def start_mqttio(python: str, port: int, work: Path, prefix: str, entities: int, rate: float) -> Proc:
    cfg = mqttio_config(work, port, prefix, entities, rate)
    rec = SubCounter(port, f"{prefix}/sensor/+")
    popen = subprocess.Popen([python, str(ROOT / "bench" / "mqttio_run.py"), str(cfg)], cwd=ROOT,
                             stdout=subprocess.DEVNULL)
    return Proc("mqtt-io", popen, rec)


def starters(python: str, port: int, work: Path, entities: int, rate: float, tag: str) -> list[Callable[[], Proc]]:
    return [lambda: start_daemon(port, work, entities, rate, tag),
            lambda: start_floor("batched_paho.py", port, f"batched{tag}", entities, rate),
            lambda: start_mqttio(python, port, work, f"mqttio{tag}", entities, rate)]


def measure_round(python: str, port: int, work: Path, entities: int, rate: float, seconds: float,
                  rnd: int) -> dict[str, tuple[float, int, float]]:
    """CPU seconds, readings and window length of each publisher, the three running together."""
    todo = starters(python, port, work, entities, rate, f"{entities}x{rate:g}r{rnd}")
    return run_together(todo, seconds, rnd, label=lambda name: name if name in LABELS else "batched")


def bench_cpu(python: str, port: int, work: Path, entities: int, rate: float, seconds: float, rounds: int) -> None:
    us: dict[str, list[float]] = {k: [] for k in LABELS}
    pct: dict[str, list[float]] = {k: [] for k in LABELS}
    ratio: dict[str, list[float]] = {"pi2mqtt": [], "mqtt-io": [], "vs": []}
    for r in range(rounds):
        res = measure_round(python, port, work, entities, rate, seconds, r)
        per = {k: 1e6 * cpu / max(n, 1) for k, (cpu, n, _) in res.items()}
        for k, (_, n, dt) in res.items():
            us[k].append(per[k])
            pct[k].append(100 * n / (entities * rate * dt))
        ratio["pi2mqtt"].append(per["pi2mqtt"] / per["batched"])
        ratio["mqtt-io"].append(per["mqtt-io"] / per["batched"])
        ratio["vs"].append(per["pi2mqtt"] / per["mqtt-io"])
    med = {k: statistics.median(v) for k, v in us.items()}
    print(f"CPU per reading, {entities} × {rate:g} Hz ({rounds} rounds × {seconds:g} s, MQTT 3.1.1, median [range]): "
          + ", ".join(f"{k} {med[k]:.0f} µs [{rng(us[k])}] at {rng(pct[k], '{:.1f}')} % of the rate" for k in LABELS))
    verdict = "ahead" if statistics.median(ratio["vs"]) < 1 else "NOT ahead"
    print(f"    ÷ batched floor: pi2mqtt {statistics.median(ratio['pi2mqtt']):.2f}× [{rng(ratio['pi2mqtt'], '{:.2f}')}], "
          f"mqtt-io {statistics.median(ratio['mqtt-io']):.2f}× [{rng(ratio['mqtt-io'], '{:.2f}')}];  "
          f"pi2mqtt ÷ mqtt-io {statistics.median(ratio['vs']):.2f}× [{rng(ratio['vs'], '{:.2f}')}]   "
          f"[target: pi2mqtt ahead of mqtt-io: {verdict}]", flush=True)


def bench_idle(python: str, port: int, work: Path, seconds: float) -> None:
    res = measure_round(python, port, work, 1, 1.0, seconds, 0)
    share = {k: 100 * cpu / dt for k, (cpu, _, dt) in res.items()}
    print(f"idle CPU, 1 entity at 1 Hz over {seconds:g} s (% of a core): "
          + ", ".join(f"{k} {share[k]:.3f} %" for k in LABELS), flush=True)


def spawn(kind: str, python: str, port: int, work: Path, tag: str, entities: int) -> tuple[subprocess.Popen[bytes], str]:
    """Start one publisher at 1 Hz; its process and the topic filter of its readings."""
    if kind == "pi2mqtt":
        cfg = floor_bench.load_config(work, entities, 1.0, f"s{tag}")
        return spawn_daemon(cfg, f"mqtt://127.0.0.1:{port}", work / f"state-s{tag}", sim=False), f"pi2mqtt/s{tag}/+"
    if kind == "batched":
        args = [sys.executable, str(ROOT / "bench" / "batched_paho.py"), "--port", str(port), "--topics",
                str(entities), "--rate", "1", "--prefix", f"b{tag}", "--protocol", floor_bench.PROTOCOL]
        return subprocess.Popen(args, cwd=ROOT), f"b{tag}/+"
    cfg = mqttio_config(work, port, f"m{tag}", entities, 1.0)
    args = [python, str(ROOT / "bench" / "mqttio_run.py"), str(cfg)]
    return subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL), f"m{tag}/sensor/+"


def first_reading(kind: str, python: str, port: int, work: Path, tag: str, entities: int) -> tuple[float, float]:
    """Spawn → first reading at the subscriber (ms), and peak RSS (VmHWM, MB) 5 s later."""
    topic = {"pi2mqtt": f"pi2mqtt/s{tag}/+", "batched": f"b{tag}/+", "mqtt-io": f"m{tag}/sensor/+"}[kind]
    rec = SubCounter(port, topic, keep=True)
    time.sleep(0.5)  # the subscriber is in before the publisher starts
    t0 = time.time()
    proc, _ = spawn(kind, python, port, work, tag, entities)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            got = [ln for ln in rec.lines if kind != "pi2mqtt" or '"seq"' in ln]
            if got:
                # the floor publishes its first tick one period (1 s) after it connects: not start-up
                ms = (float(got[0].split(" ", 1)[0]) - t0) * 1000 - (1000 if kind == "batched" else 0)
                time.sleep(5.0)
                return ms, peak_rss_mb(proc.pid)
            time.sleep(0.002)
        raise SystemExit(f"{kind}: no first reading")
    finally:
        stop(proc)
        rec.close()


def bench_startup(python: str, port: int, work: Path, runs: int) -> None:
    for entities in (1, 50):
        for kind in LABELS:
            times, rss = [], []
            for i in range(runs):
                ms, mb = first_reading(kind, python, port, work, f"{entities}{kind[0]}{i}", entities)
                times.append(ms)
                rss.append(mb)
            print(f"{entities} entit{'y' if entities == 1 else 'ies'}, {kind}: start-up to first reading median "
                  f"{statistics.median(times):.0f} ms [{rng(times)}]; peak RSS {statistics.median(rss):.1f} MB "
                  f"[{rng(rss, '{:.1f}')}]", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mqttio-python", default=MQTTIO_PYTHON, help="the python of a virtualenv with mqtt-io 2.7")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--idle-seconds", type=float, default=60.0)
    ap.add_argument("--startup-runs", type=int, default=3)
    ap.add_argument("--only", choices=("cpu", "idle", "startup"), action="append")
    ap.add_argument("--quick", action="store_true", help="1 round of 5 s, idle over 20 s, 1 start-up each")
    args = ap.parse_args()
    if not Path(args.mqttio_python).exists():
        print(f"skipped: no {args.mqttio_python} (install mqtt-io as the top of {Path(__file__).name} says)")
        return
    if args.quick:
        args.rounds, args.seconds, args.idle_seconds, args.startup_runs = 1, 5.0, 20.0, 1
    floor_bench.PROTOCOL = "3.1.1"
    only = set(args.only or ("cpu", "idle", "startup"))
    print(f"machine: {machine()}; MQTT 3.1.1 for all three publishers")
    compile_bytecode()
    py = args.mqttio_python
    with tempdir() as tmp:
        work = Path(tmp)
        b = broker(work)
        try:
            if "cpu" in only:
                for entities, rate in ((50, 10.0), (20, 10.0), (1, 100.0)):
                    bench_cpu(py, b.port, work, entities, rate, args.seconds, args.rounds)
            if "idle" in only:
                bench_idle(py, b.port, work, args.idle_seconds)
            if "startup" in only:
                bench_startup(py, b.port, work, args.startup_runs)
        finally:
            b.stop()


if __name__ == "__main__":
    main()
