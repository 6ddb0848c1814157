"""Instructions per reading: figures that do not depend on what else the machine runs (issue 14).

    python bench/instr_bench.py [--seconds 20]

Each publisher runs alone under `valgrind --tool=callgrind` (perf's hardware counters are
not available in most VMs; callgrind counts every instruction the process executes, in
all its threads, user space only). After start-up and a warm-up its counters are zeroed
(`callgrind_control -z`), readings are counted at a subscriber for `--seconds`, and the
counters are dumped (`callgrind_control -d`). Valgrind runs a process 50-100× slower, so
the loads are ones it keeps up with: 1 entity at 1 Hz (what an idle daemon costs per
second) and 10 entities at 1 Hz (one tick of 10 readings a second). The cost of a reading
is the difference: (instructions/s at 10 × 1 Hz − at 1 × 1 Hz) ÷ (readings/s difference);
at 50 × 10 Hz a tick carries 50 readings, so its per-tick share is smaller there (the
projection errs high). Both repeat run to run within a few per cent whatever else the machine runs.

Projection: instructions per second at the nominal rate ÷ (IPC × clock) = the share of
one core. The IPC assumed for each Pi is printed with the figure; docs/performance.md
says where it comes from.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from benchlib import ROOT, Recorder, broker, compile_bytecode, machine, spawn_daemon, stop, tempdir
from floor_bench import load_config

# (name, clock GHz, IPC low, IPC high) for CPython-like code; see docs/performance.md.
PIS = [("Pi Zero 2 W (Cortex-A53 @ 1 GHz)", 1.0, 0.4, 0.7),
       ("Pi 4 (Cortex-A72 @ 1.5 GHz)", 1.5, 0.8, 1.3),
       ("Pi 4 (Cortex-A72 @ 1.8 GHz)", 1.8, 0.8, 1.3)]
LOAD = 10  # entities at 1 Hz in the loaded run
VALGRIND = ["valgrind", "--tool=callgrind", "--fair-sched=yes", "--dump-instr=no", "--compress-strings=no"]


def totals(path: Path) -> int:
    for line in path.read_text().splitlines():
        m = re.match(r"(?:summary|totals):\s+(\d+)", line)
        if m:
            return int(m.group(1))
    raise SystemExit(f"{path}: no totals line")


def count(label: str, cmd: list[str], port: int, topic: str, work: Path, seconds: float,
          daemon: tuple[Path, Path] | None = None) -> tuple[int, int, float]:
    """(instructions, readings, seconds) over the window, the process under callgrind."""
    out = work / f"cg-{label}"
    out.mkdir()
    rec = Recorder(port, topic)
    vg = [*VALGRIND, f"--callgrind-out-file={out}/cg.%p"]
    if daemon is not None:
        proc = spawn_daemon(daemon[0], f"mqtt://127.0.0.1:{port}", daemon[1], sim=False, wrapper=vg)
    else:
        proc = subprocess.Popen([*vg, *cmd], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if rec.wait(lambda m: True, 900) is None:
            raise SystemExit(f"{label}: no reading under valgrind within 900 s")
        time.sleep(10.0)
        subprocess.run(["callgrind_control", "-z", str(proc.pid)], check=True, capture_output=True)
        n0, t0 = rec.count(lambda m: True), time.monotonic()
        time.sleep(seconds)
        subprocess.run(["callgrind_control", "-d", str(proc.pid)], check=True, capture_output=True)
        n1, t1 = rec.count(lambda m: True), time.monotonic()
    finally:
        stop(proc)
        rec.close()
    dumps = sorted(out.glob("cg.*.1"))  # the first dump: the window
    if not dumps:
        raise SystemExit(f"{label}: callgrind wrote no dump")
    return totals(dumps[0]), n1 - n0, t1 - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=20.0)
    args = ap.parse_args()
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("instruction counts: valgrind is not installed (apt-get install valgrind); skipped")
        return
    print(f"machine: {machine()}")
    compile_bytecode()
    py = [sys.executable, str(ROOT / "bench" / "batched_paho.py")]
    with tempdir() as tmp:
        work = Path(tmp)
        b = broker(work)
        try:
            per: dict[str, float] = {}
            for who in ("daemon", "floor"):
                ips: dict[str, tuple[float, float]] = {}
                for label, n in (("idle", 1), ("load", LOAD)):
                    tag = f"{who[0]}{label}"
                    if who == "daemon":
                        cfg = load_config(work, n, 1.0, tag)
                        i, r, dt = count(tag, [], b.port, f"pi2mqtt/{tag}/+", work, args.seconds,
                                         daemon=(cfg, work / f"state-{tag}"))
                    else:
                        i, r, dt = count(tag, [*py, "--port", str(b.port), "--topics", str(n), "--rate", "1",
                                               "--prefix", tag], b.port, f"{tag}/+", work, args.seconds)
                    ips[label] = (i / dt, r / dt)
                (i0, r0), (i1, r1) = ips["idle"], ips["load"]
                per[who] = (i1 - i0) / max(r1 - r0, 1e-9)
                per[f"{who}_idle"] = i0
                print(f"{who:6s}: idle (1 × 1 Hz) {i0 / 1e6:.2f} M instructions/s; {LOAD} × 1 Hz {i1 / 1e6:.2f} M/s at "
                      f"{r1:.1f} readings/s; per reading {per[who] / 1e3:.0f} k", flush=True)
            print(f"instructions per reading: pi2mqtt {per['daemon'] / 1e3:.0f} k, batched floor "
                  f"{per['floor'] / 1e3:.0f} k → {per['daemon'] / per['floor']:.2f}×; idle pi2mqtt "
                  f"{per['daemon_idle'] / 1e6:.2f} M/s vs floor {per['floor_idle'] / 1e6:.2f} M/s", flush=True)
        finally:
            b.stop()
    for name, ghz, lo, hi in PIS:
        def share(ips: float, ipc: float, ghz: float = ghz) -> float:
            return 100 * ips / (ipc * ghz * 1e9)

        d = per["daemon_idle"] + 500 * per["daemon"]
        f = per["floor_idle"] + 500 * per["floor"]
        print(f"projection at 50 × 10 Hz, {name}, IPC {lo}–{hi}: pi2mqtt {share(d, hi):.0f}–{share(d, lo):.0f} % "
              f"of one core, batched floor {share(f, hi):.0f}–{share(f, lo):.0f} %; idle pi2mqtt "
              f"{share(per['daemon_idle'], hi):.2f}–{share(per['daemon_idle'], lo):.2f} %")

if __name__ == "__main__":
    main()
