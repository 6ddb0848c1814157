"""`make bench`: every benchmark in turn, each printing its own figures.

    python bench/run_all.py [--quick]

Figures depend on the machine; docs/performance.md records them with the machine they
were measured on. Nothing here is a test: no figure fails the run.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

BENCHES = [
    ("issue 14: CPU per reading vs the batched and per-message floors, idle, latency, RSS, start-up",
     "floor_bench.py", [], ["--quick"]),
    ("issue 14: instructions per reading (callgrind) and the Raspberry Pi projection",
     "instr_bench.py", [], ["--seconds", "15"]),
    ("issue 14: mqtt-io 2.7 beside the daemon and the batched floor (needs mqtt-io in /tmp/mqttio-venv)",
     "mqttio_bench.py", [], ["--quick"]),
    ("issue 14: steady-state disk writes with the broker up (/proc/<pid>/io, ≥ 60 s)", "diskwrites.py", [], []),
    ("daemon: latency, CPU per reading, rate, RSS, start-up", "daemon_bench.py", [], ["--seconds", "5", "--presses", "50"]),
    ("serial link: round trip and throughput vs line rate", "link_bench.py", [], []),
    ("outbox: cost per reading", "outbox_bench.py", [], []),
    ("radio: tune, seek, scan, RDS", "radio_bench.py", [], []),
    ("reliability: broker restart recovery", "reliability_bench.py", [], []),
]


def main() -> int:
    quick = "--quick" in sys.argv[1:]
    failed = 0
    for title, script, args, quick_args in BENCHES:
        path = HERE / script
        if not path.exists():
            continue
        print(f"\n=== {title} ({script})", flush=True)
        t0 = time.monotonic()
        r = subprocess.run([sys.executable, str(path), *(quick_args if quick else args)], cwd=HERE.parent)
        print(f"--- {script}: {time.monotonic() - t0:.1f}s, exit {r.returncode}", flush=True)
        failed += r.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
