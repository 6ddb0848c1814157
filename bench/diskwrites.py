"""Steady-state disk writes of the daemon with the broker up (issue 14, item 2 and target 3).

Runs `pi2mqtt run --sim` on the demo config (examples/demo.toml: every device kind) against a
private Mosquitto, lets it settle, then reads `/proc/<pid>/io` before and after a window of
`--seconds` (≥ 60 for the figure of record) and prints the bytes written per second and per
day. The state directory (outbox, seq, radio state, presets, HA state) is on the real disk
under `--dir`; hwsim's simulated sysfs files are put on /dev/shm, as the Pi's sysfs is not a
disk. `write_bytes` counts pages dirtied for storage; `cancelled_write_bytes` those freed again
before they were written (a temporary file replaced); the figure is the difference.

    .venv/bin/python bench/diskwrites.py                  # target: ≤ 10 MB/day (≈ 116 B/s)
    .venv/bin/python bench/diskwrites.py --spill-after 0  # the shortest window (50 ms)
"""

from __future__ import annotations

import argparse
import re
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from benchlib import PI2MQTT, ROOT, broker, machine

TARGET_PER_DAY = 10e6


def io_counters(pid: int) -> dict[str, int]:
    text = Path(f"/proc/{pid}/io").read_text()
    return {k: int(v) for k, v in (line.split(": ") for line in text.splitlines())}


def demo_config(url: str, state: Path, spill_after: float | None) -> str:
    text = (ROOT / "examples" / "demo.toml").read_text()
    text = re.sub(r'(?m)^url = .*$', f'url = "{url}"', text, count=1)
    text = text.replace('[device]\n', f'[device]\nstate_dir = "{state}"\n', 1)
    if spill_after is not None:
        text += f'\n[outbox]\nspill_after = "{spill_after}s"\n'
    return text


def measure(work: Path, seconds: float, settle: float, spill_after: float | None) -> tuple[float, float]:
    """(net bytes written per second, raw write_bytes per second) over the window."""
    b = broker(work)
    state = work / "state"
    state.mkdir()
    shm = Path(tempfile.mkdtemp(prefix="p2m-hwsim-", dir="/dev/shm"))
    (state / "hwsim").symlink_to(shm)  # simulated sysfs and serial port: not on the disk
    conf = work / "demo.toml"
    conf.write_text(demo_config(b.url, state, spill_after))
    log = open(work / "daemon.log", "wb")
    p = subprocess.Popen([*PI2MQTT, "run", "--sim", "--config", str(conf)], cwd=ROOT, stdout=log,
                         stderr=subprocess.STDOUT)
    try:
        time.sleep(settle)  # start-up writes (outbox creation, first readings before the connect)
        if p.poll() is not None:
            raise SystemExit(f"the daemon exited: {(work / 'daemon.log').read_text()[-2000:]}")
        a = io_counters(p.pid)
        t0 = time.monotonic()
        time.sleep(seconds)
        z = io_counters(p.pid)
        dt = time.monotonic() - t0
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(10)
        log.close()
        b.stop()
    raw = (z["write_bytes"] - a["write_bytes"]) / dt
    net = raw - (z["cancelled_write_bytes"] - a["cancelled_write_bytes"]) / dt
    return net, raw


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60.0, help="measuring window (default 60)")
    ap.add_argument("--settle", type=float, default=10.0, help="seconds to let start-up finish first")
    ap.add_argument("--spill-after", type=float, default=None, help="outbox.spill_after (default: the config's)")
    ap.add_argument("--dir", type=Path, default=None, help="where the state directory goes (a real disk)")
    args = ap.parse_args()
    base = args.dir or ROOT / ".bench-tmp"
    base.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=base) as d:
        net, raw = measure(Path(d), args.seconds, args.settle, args.spill_after)
    per_day = net * 86400
    print(f"machine: {machine()}")
    print(f"disk writes, demo config, broker up, {args.seconds:.0f} s window"
          f"{'' if args.spill_after is None else f', spill_after {args.spill_after:g} s'}:")
    print(f"  {net:10.1f} B/s  = {per_day / 1e6:8.2f} MB/day   (write_bytes {raw:.1f} B/s before cancelled writes)")
    print(f"  target ≤ {TARGET_PER_DAY / 1e6:.0f} MB/day (≈ {TARGET_PER_DAY / 86400:.0f} B/s): "
          f"{'met' if per_day <= TARGET_PER_DAY else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
