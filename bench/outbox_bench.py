"""Outbox cost per reading: put (batch vs reading durability), take+ack, RAM, SIGKILL window.

Run: .venv/bin/python bench/outbox_bench.py [--n 10000] [--dir DIR]
DIR defaults to a temporary directory; point it at the real disk (an SD card on a Pi)
for figures that mean something there, since fsync cost is the disk's.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import tracemalloc
from pathlib import Path

from device.outbox import MemoryOutbox, OutMsg
from device.outbox.sqlite import SqliteOutbox


def reading(i: int) -> OutMsg:
    payload = json.dumps(
        {"value": 21.5 + i % 10, "unit": "°C", "ts": "2026-11-21T01:02:03.456Z", "seq": i, "x": "pad" * 9}
    ).encode()
    return OutMsg("pi2mqtt/pi-kitchen/temperature", payload[:120].ljust(120), 1, False, "temperature", 1.0 * i, i)


def bench_put(outbox: object, msgs: list[OutMsg]) -> float:
    t0 = time.perf_counter()
    for m in msgs:
        outbox.put(m)  # type: ignore[attr-defined]
    return time.perf_counter() - t0


def bench_drain(outbox: object, batch: int) -> float:
    t0 = time.perf_counter()
    while True:
        got = outbox.take(batch)  # type: ignore[attr-defined]
        if not got:
            break
        outbox.ack([q.id for q in got])  # type: ignore[attr-defined]
    return time.perf_counter() - t0


CHILD = textwrap.dedent(
    """
    import sys, time
    from device.outbox import OutMsg
    from device.outbox.sqlite import SqliteOutbox
    path, n, rate = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    ob = SqliteOutbox(path, durability="batch")
    start = time.monotonic()
    for i in range(n):
        while time.monotonic() < start + i / rate:
            time.sleep(0.0005)
        ob.put(OutMsg("t", b"%d" % i))
    print("done", flush=True)
    sys.stdin.read()
    """
)


def sigkill_window(d: Path, n: int, rate: float, trials: int) -> list[int]:
    """Rows lost when a batch-mode producer at `rate` puts/s is SIGKILLed right after its last put."""
    lost = []
    for k in range(trials):
        path = d / f"kill{k}.db"
        proc = subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(n), str(rate)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert proc.stdout is not None
        proc.stdout.readline()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        with SqliteOutbox(path) as ob:
            lost.append(n - ob.pending())
    return lost


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--dir", type=Path, default=None)
    args = ap.parse_args()
    n = args.n
    msgs = [reading(i) for i in range(n)]
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        d = Path(tmp)
        print(f"outbox bench: {n} readings of {len(msgs[0].payload)}-byte payloads, db in {d}")
        rows = []
        mem = MemoryOutbox(max_rows=n + 1)
        rows.append(("memory", bench_put(mem, msgs), bench_drain(mem, 100)))
        for durability in ("batch", "reading"):
            ob = SqliteOutbox(d / f"{durability}.db", durability=durability)
            cpu0 = time.process_time()
            t_put = bench_put(ob, msgs)
            t_drain = bench_drain(ob, 100)
            t0 = time.perf_counter()
            ob.close()
            t_close = time.perf_counter() - t0
            cpu = time.process_time() - cpu0
            rows.append((f"sqlite/{durability}", t_put, t_drain))
            print(f"  sqlite/{durability}: CPU per reading, put+take+ack+all commits: "
                  f"{cpu / n * 1e6:.1f} µs (close: {t_close * 1e3:.1f} ms)")
        print(f"  {'outbox':16} {'µs/put':>8} {'puts/s':>10} {'µs/take+ack':>12} {'rows/s':>10}")
        for name, t_put, t_drain in rows:
            print(f"  {name:16} {t_put / n * 1e6:8.1f} {n / t_put:10.0f} {t_drain / n * 1e6:12.1f} {n / t_drain:10.0f}")

        # Restart: how long opening takes with n rows waiting (they are loaded into RAM).
        ob = SqliteOutbox(d / "reopen.db")
        bench_put(ob, msgs)
        ob.close()
        tracemalloc.start()
        t0 = time.perf_counter()
        ob = SqliteOutbox(d / "reopen.db")
        t_open = time.perf_counter() - t0
        ram = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        ob.close()
        print(f"  reopen with {n} rows waiting: {t_open * 1e3:.0f} ms, RAM ≈ {ram / n:.0f} B/row")

        rate = 1000.0
        lost = sigkill_window(d, 2000, rate, 5)
        print(f"  SIGKILL right after the last put, batch mode, {rate:.0f} puts/s: lost {lost} rows "
              f"(≈ {max(lost) / rate * 1e3:.0f} ms of readings at most); reading mode loses 0 by design")


if __name__ == "__main__":
    main()
