"""Issue 14: the daemon against an honest floor — CPU per reading, idle, memory, start-up, latency.

    python bench/floor_bench.py [--rounds 3] [--seconds 10] [--idle-seconds 30] [--quick]

Every CPU figure is a ratio measured side by side: in each round the daemon, the
batched paho floor (bench/batched_paho.py: one wake-up per tick for all topics) and
the per-message floor (bench/bare_paho.py) run *at the same time* against one private
Mosquitto, each publishing the same number of readings per second (QoS 1, retained,
the daemon's JSON payload). CPU is each process's utime+stime over the window divided
by the readings a subscriber (mosquitto_sub, one per publisher) received from it. The start order rotates from round to
round; the figure printed is the median of the rounds, with the range.

The daemon runs as on a Pi without the simulator: gpiozero's mock pin factory and a
plain file holding millidegrees as the CPU-temperature sensor (bench/load.toml's kind
of entity), durable outbox in its own STATE_DIRECTORY. Memory and start-up are
measured on examples/demo.toml with `--sim` (hwsim in the process), on the demo's devices
without the simulator (mock pins, the co-processor's tty absent: its link stays down, as
on a Pi with the Pico unplugged) and on the 50 × 10 Hz and one-entity configs, each twice:
validated afresh (a fresh state directory: the daemon's validating child runs) and with
the validated config already in the state directory's cache (no child).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from benchlib import (
    ROOT,
    Recorder,
    SubCounter,
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
BENCH = ROOT / "bench"


PROTOCOL = "5"  # MQTT version of the daemon and of both floors (--protocol)


def load_config(work: Path, entities: int, rate: float, device: str) -> Path:
    """`entities` CPU-temperature entities at `rate` Hz on mock pins, reading one plain file."""
    temp = work / "cpu_temp"
    temp.write_text("45000\n")
    lines = [f'[device]\nid = "{device}"\n', f'[mqtt]\nurl = "mqtt://127.0.0.1:1883"\nqos = 1\nprotocol = "{PROTOCOL}"\n',
             '[gpio]\npin_factory = "mock"\n', '[diagnostics]\ninterval = "1h"\n']
    interval = f'{1000 / rate:g}ms'
    for i in range(entities):
        lines.append(f'[[cpu_temperature]]\nname = "t{i:03d}"\ninterval = "{interval}"\nsensor_file = "{temp}"\n')
    cfg = work / f"{device}.toml"
    cfg.write_text("\n".join(lines))
    return cfg


class Proc:
    """One publisher under measurement: its process and the subscriber counting its readings."""

    def __init__(self, label: str, popen: subprocess.Popen[bytes], rec: SubCounter) -> None:
        self.label, self.popen, self.rec = label, popen, rec
        self.c0 = self.n0 = 0.0

    def mark(self) -> None:
        self.c0, self.n0 = cpu_seconds(self.popen.pid), self.rec.count()

    def result(self) -> tuple[float, int]:
        return cpu_seconds(self.popen.pid) - self.c0, self.rec.count() - int(self.n0)

    def close(self) -> None:
        stop(self.popen)
        self.rec.close()


def start_floor(script: str, port: int, prefix: str, entities: int, rate: float) -> Proc:
    rec = SubCounter(port, f"{prefix}/+")
    args = [sys.executable, str(BENCH / script), "--port", str(port), "--topics", str(entities),
            "--protocol", PROTOCOL]
    if script == "batched_paho.py":
        args += ["--rate", str(rate), "--prefix", prefix]
    else:
        args += ["--rate", str(rate)]
    return Proc(prefix, subprocess.Popen(args, cwd=ROOT), rec)


def start_daemon(port: int, work: Path, entities: int, rate: float, tag: str) -> Proc:
    device = f"d{tag}"
    cfg = load_config(work, entities, rate, device)
    rec = SubCounter(port, f"pi2mqtt/{device}/+")
    proc = spawn_daemon(cfg, f"mqtt://127.0.0.1:{port}", work / f"state-{tag}", sim=False)
    return Proc("pi2mqtt", proc, rec)


def run_together(starters: list[Callable[[], Proc]], seconds: float, rnd: int,
                 label: Callable[[str], str] = str) -> dict[str, tuple[float, int, float]]:
    """Start the publishers (in an order rotated by round `rnd`), let them settle, then
    their CPU seconds, readings and window length over `seconds`, all running together."""
    shift = rnd % len(starters)
    procs: list[Proc] = []
    try:
        for s in starters[shift:] + starters[:shift]:
            procs.append(s())
        for p in procs:  # start-up and the first retained flood settle
            if not p.rec.wait_first(30):
                raise SystemExit(f"{p.label}: no reading within 30 s")
        time.sleep(2.0)
        for p in procs:
            p.mark()
        t0 = time.monotonic()
        time.sleep(seconds)
        out = {}
        for p in procs:
            cpu, n = p.result()
            out[label(p.label)] = (cpu, n, time.monotonic() - t0)
        return out
    finally:
        for p in procs:
            p.close()


def measure_round(port: int, work: Path, entities: int, rate: float, seconds: float, rnd: int,
                  floors: tuple[str, ...]) -> dict[str, tuple[float, int, float]]:
    """CPU seconds, readings and window length for each publisher, all running together."""
    starters: list[Callable[[], Proc]] = [lambda: start_daemon(port, work, entities, rate, f"{entities}x{rate:g}r{rnd}")]
    if "batched" in floors:
        starters.append(lambda: start_floor("batched_paho.py", port, "batched", entities, rate))
    if "bare" in floors:
        starters.append(lambda: start_floor("bare_paho.py", port, "bare", entities, rate))
    return run_together(starters, seconds, rnd)


def rng(values: list[float], fmt: str = "{:.0f}") -> str:
    lo, hi = min(values), max(values)
    return fmt.format(lo) if fmt.format(lo) == fmt.format(hi) else f"{fmt.format(lo)}–{fmt.format(hi)}"


def bench_cpu(port: int, work: Path, entities: int, rate: float, seconds: float, rounds: int,
              target: float) -> None:
    per: dict[str, list[float]] = {"pi2mqtt": [], "batched": [], "bare": []}
    ratios_b: list[float] = []
    ratios_m: list[float] = []
    rate_pct: list[float] = []
    for r in range(rounds):
        res = measure_round(port, work, entities, rate, seconds, r, ("batched", "bare"))
        us = {k: 1e6 * cpu / max(n, 1) for k, (cpu, n, _) in res.items()}
        for k, v in us.items():
            per[k].append(v)
        ratios_b.append(us["pi2mqtt"] / us["batched"])
        ratios_m.append(us["pi2mqtt"] / us["bare"])
        _, n, dt = res["pi2mqtt"]
        rate_pct.append(100 * n / (entities * rate * dt))
    med = {k: statistics.median(v) for k, v in per.items()}
    rb = statistics.median(ratios_b)
    verdict = "met" if rb <= target else "NOT met"
    print(f"CPU per reading, {entities} × {rate:g} Hz ({rounds} rounds × {seconds:g} s, median [range]): "
          f"pi2mqtt {med['pi2mqtt']:.0f} µs [{rng(per['pi2mqtt'])}], batched floor {med['batched']:.0f} µs "
          f"[{rng(per['batched'])}], per-message floor {med['bare']:.0f} µs [{rng(per['bare'])}]")
    print(f"    pi2mqtt ÷ batched floor {rb:.2f}× [{rng(ratios_b, '{:.2f}')}]   [target ≤ {target}×: {verdict}];  "
          f"÷ per-message floor {statistics.median(ratios_m):.2f}× [{rng(ratios_m, '{:.2f}')}];  "
          f"rate {rng(rate_pct, '{:.2f}')} % of requested", flush=True)


def bench_idle(port: int, work: Path, seconds: float) -> None:
    res = measure_round(port, work, 1, 1.0, seconds, 0, ("batched",))
    d = 100 * res["pi2mqtt"][0] / res["pi2mqtt"][2]
    f = 100 * res["batched"][0] / res["batched"][2]
    verdict = "met" if d <= 0.15 else "NOT met"
    print(f"idle CPU, 1 entity at 1 Hz over {seconds:g} s: pi2mqtt {d:.3f} % of a core, batched floor {f:.3f} %   "
          f"[target ≤ 0.15 %: {verdict}]", flush=True)


def latencies(lines: list[str]) -> list[float]:
    out = []
    for line in lines:
        received, _, payload = line.partition(" ")
        ts = datetime.fromisoformat(json.loads(payload)["ts"].replace("Z", "+00:00")).timestamp()
        out.append((float(received) - ts) * 1000)
    return out


def window_lines(rec: SubCounter, proc: subprocess.Popen[bytes], seconds: float, what: str) -> list[str]:
    try:
        if not rec.wait_first(30):
            raise SystemExit(f"latency: no reading from {what}")
        time.sleep(3.0)
        n0 = len(rec.lines)
        time.sleep(seconds)
        return rec.lines[n0:]
    finally:
        stop(proc)
        rec.close()


def bench_latency(port: int, work: Path, entities: int, rate: float, seconds: float) -> None:
    """Reading timestamp → mosquitto_sub has it (same clock); the daemon, then the batched floor alone.

    The daemon stamps each reading just before reading it; the floor stamps a tick once,
    before publishing all of it — so the floor's figure is what publishing a tick of
    `entities` readings costs at the least.
    """
    cfg = load_config(work, entities, rate, "lat")
    rec = SubCounter(port, "pi2mqtt/lat/+", keep=True)
    proc = spawn_daemon(cfg, f"mqtt://127.0.0.1:{port}", work / "state-lat", sim=False)
    lat = latencies(window_lines(rec, proc, seconds, "the daemon"))
    frec = SubCounter(port, "flat/+", keep=True)
    fproc = subprocess.Popen([sys.executable, str(BENCH / "batched_paho.py"), "--port", str(port), "--topics",
                              str(entities), "--rate", str(rate), "--prefix", "flat", "--protocol", PROTOCOL], cwd=ROOT)
    flat = latencies(window_lines(frec, fproc, seconds, "the floor"))
    p99 = pct(lat, 99)
    verdict = "met" if p99 <= 5 else "NOT met"
    print(f"latency at {entities} × {rate:g} Hz, reading ts → subscriber: pi2mqtt ({len(lat)} readings) p50 "
          f"{pct(lat, 50):.1f} ms, p99 {p99:.1f} ms, max {max(lat):.1f} ms   [target p99 ≤ 5 ms: {verdict}];  "
          f"batched floor ({len(flat)}) p50 {pct(flat, 50):.1f} ms, p99 {pct(flat, 99):.1f} ms, max {max(flat):.1f} ms "
          f"(ts has 1 ms resolution)", flush=True)


def first_reading(port: int, config: Path, device: str, work: Path, sim: bool,
                  cached: bool = False) -> tuple[float, float]:
    """Spawn → first reading at a subscriber (ms), and peak RSS (MB) a few seconds later.

    `cached`: the state directory already holds this run's validated config (the daemon's
    config.cache, as after a previous start with the same file and --broker), so the
    daemon starts no validating child; else it validates afresh (device/config/child.py)."""
    url = f"mqtt://127.0.0.1:{port}"
    if cached:
        from device.app.configload import validated

        validated(config, {"mqtt.url": url}, work)  # primes work/config.cache, outside the timing
    rec = Recorder(port, f"pi2mqtt/{device}/+")
    t0 = time.perf_counter()
    proc = spawn_daemon(config, url, work, sim=sim)
    try:
        got = rec.wait(lambda m: m[0] >= t0 and b'"seq"' in m[2] and not m[1].endswith(("status", "diagnostics")), 20)
        if got is None:
            raise SystemExit(f"{config.name}: no first reading")
        ms = (got[0] - t0) * 1000
        time.sleep(5.0)
        return ms, peak_rss_mb(proc.pid)
    finally:
        stop(proc)
        rec.close()


def demo_without_simulator(work: Path) -> Path:
    """The demo's devices as the daemon meets them on a Pi without the hardware: mock pins, no co-processor tty."""
    text = DEMO.read_text().replace('pin_factory = "hwsim"', 'pin_factory = "mock"')
    text = text.replace('port = "/dev/ttyACM0"', f'port = "{work / "no-such-tty"}"')
    cfg = work / "demo-nosim.toml"
    cfg.write_text(text)
    return cfg


def bench_startup_rss(work: Path, runs: int) -> None:
    """Each config validated afresh (a first start), then with its validated config cached."""
    load = load_config(work, 50, 10.0, "rss")
    one = load_config(work, 1, 1.0, "one")
    cases = (("demo config (--sim)", DEMO, "demo", True),
             ("demo config's devices, no simulator (mock pins, co-processor absent)",
              demo_without_simulator(work), "demo", False),
             ("50 × 10 Hz, no simulator", load, "rss", False),
             ("1 entity, no simulator", one, "one", False))
    for cached in (False, True):
        for label, cfg, device, sim in cases:
            startup_case(work, runs, label + (", config cached" if cached else ""), cfg, device, sim, cached)


def startup_case(work: Path, runs: int, label: str, cfg: Path, device: str, sim: bool, cached: bool) -> None:
    times, rss = [], []
    tag = "c" if cached else "v"
    for i in range(runs):
        b = broker(work / f"b-{device}-{tag}{i}")  # a fresh broker: no retained readings
        try:
            ms, mb = first_reading(b.port, cfg, device, work / f"state-{device}-{tag}{i}", sim, cached)
        finally:
            b.stop()
        times.append(ms)
        rss.append(mb)
    st = statistics.median(times)
    print(f"{label}: start-up to first reading median {st:.0f} ms [{rng(times)}]"
          + (f"   [target ≤ 120 ms: {'met' if st <= 120 else 'NOT met'}]" if sim else "")
          + f"; peak RSS {statistics.median(rss):.1f} MB [{rng(rss, '{:.1f}')}]"
          + (f"   [target ≤ 32 MB: {'met' if statistics.median(rss) <= 32 else 'NOT met'}]" if sim else ""),
          flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--idle-seconds", type=float, default=60.0)
    ap.add_argument("--startup-runs", type=int, default=5)
    ap.add_argument("--only", choices=("cpu", "idle", "latency", "startup"), action="append")
    ap.add_argument("--quick", action="store_true", help="1 round of 5 s, idle over 20 s, 3 start-ups")
    ap.add_argument("--protocol", choices=("5", "3.1.1"), default="5", help="MQTT version of all publishers")
    args = ap.parse_args()
    global PROTOCOL
    PROTOCOL = args.protocol
    if args.quick:
        args.rounds, args.seconds, args.idle_seconds, args.startup_runs = 1, 5.0, 20.0, 3
    only = set(args.only or ("cpu", "idle", "latency", "startup"))
    print(f"machine: {machine()}; MQTT {PROTOCOL} for the daemon and both floors")
    compile_bytecode()
    with tempdir() as tmp:
        work = Path(tmp)
        b = broker(work)
        try:
            if "cpu" in only:
                for entities, rate, target in ((50, 10.0, 1.3), (20, 10.0, 1.3), (1, 100.0, 1.5)):
                    bench_cpu(b.port, work, entities, rate, args.seconds, args.rounds, target)
            if "idle" in only:
                bench_idle(b.port, work, args.idle_seconds)
            if "latency" in only:
                bench_latency(b.port, work, 200, 10.0, args.seconds)
        finally:
            b.stop()
        if "startup" in only:
            bench_startup_rss(work, args.startup_runs)


if __name__ == "__main__":
    main()
