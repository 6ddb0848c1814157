"""The outbox's disk fills up while the daemon runs (issue 5 §5e, issue 13 item 2): it degrades to
memory with a warning, readings keep flowing, and once space is back it writes its queue back to
the disk, leaves degraded mode and says "durable again"; diagnostics show how long it lasted.

Two kinds of full disk:
- "tmpfs": a real 2 MB tmpfs holds the state directory and a filler file takes its last byte
  (ENOSPC); removing the filler gives the space back. Needs root (mount); skipped otherwise.
- "rlimit": RLIMIT_FSIZE on the daemon's process makes every write past the limit fail (EFBIG,
  SIGXFSZ ignored) as on a full disk, without root; `prlimit` on the running process lifts it.

The broker is stopped first: with the broker up nothing is written at all (spill, don't sync),
so the disk only matters once readings must wait.
"""

from __future__ import annotations

import contextlib
import json
import resource
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.mosquitto import Mosquitto
from tests.mqttwait import Msg
from tests.procs import (
    DaemonProcess,
    Tally,
    persistent_broker_extra,
    persistent_subscriber,
    poll,
    write_config,
)

pytestmark = pytest.mark.broker

LIMIT = 96 * 1024
LIVE = "pi2mqtt/ftest/cpu"
BACKFILL = LIVE + "/backfill"
DIAG = "pi2mqtt/ftest/diagnostics"


class SmallDisk:
    """A disk for the state directory that can be filled up and freed again."""

    def __init__(self, kind: str, root: Path) -> None:
        self.kind = kind
        self.root = root
        self.pid = 0

    def preexec(self) -> Callable[[], None] | None:
        if self.kind != "rlimit":
            return None

        def limit() -> None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, resource.RLIM_INFINITY))

        return limit

    def fill(self) -> None:
        if self.kind == "tmpfs":
            with open(self.root / "filler", "wb") as f, contextlib.suppress(OSError):
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()

    def free(self) -> None:
        if self.kind == "tmpfs":
            (self.root / "filler").unlink()
        else:
            resource.prlimit(self.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


@pytest.fixture(params=["tmpfs", "rlimit"])
def disk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SmallDisk]:
    root = tmp_path / "disk"
    root.mkdir()
    if request.param == "rlimit":
        yield SmallDisk("rlimit", root)
        return
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(root)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield SmallDisk("tmpfs", root)
    finally:
        subprocess.run(["umount", "-l", str(root)], capture_output=True)


def outbox(m: Msg) -> dict[str, int]:
    return json.loads(m.payload)["outbox"]  # type: ignore[no-any-return]


def test_disk_full_degrades_then_recovers_when_space_is_back(
    mosquitto_factory: Callable[..., Mosquitto], tmp_path: Path, disk: SmallDisk
) -> None:
    b = mosquitto_factory("disk", extra=persistent_broker_extra(tmp_path / "mqdb"))
    sub = persistent_subscriber(b.port, "disk-sub", [LIVE, BACKFILL, DIAG])
    conf = write_config(tmp_path / "p.toml", "ftest", b.url, disk.root / "state",
                        extra='[outbox]\ndisk_retry = "1s"\n')
    p = DaemonProcess(conf, tmp_path / "d.log", preexec=disk.preexec())
    disk.pid = p.pid
    t = Tally(sub)
    try:
        t.wait(lambda t: len(t.of(LIVE)) >= 10, 20, "10 live readings")
        disk.fill()
        b.stop()  # readings must wait now: they go to the (full) disk
        log = p.wait_log("outbox degraded to memory", 30)
        assert "File too large" in log or "full" in log, log[-2000:]
        if disk.kind == "tmpfs":  # (a file-size limit lets the rewound WAL succeed now and then)
            p.wait_log("outbox disk still unusable", 30)  # retried, still full: still degraded
            assert "durable again" not in p.log()
        disk.free()
        freed = time.monotonic()
        poll(lambda: p.log().count("durable again") > p.log().count("degraded to memory") - 1, 30,
             "durable again after the space came back")
        recovered = time.monotonic() - freed
        # The queue taken while degraded is on disk again: a crash now loses at most a batch.
        p.kill()
    finally:
        p.stop()
    again = DaemonProcess(conf, tmp_path / "again.log")
    try:
        again.wait_log("messages from a previous run", 20)
        b.start()
        t.wait(lambda t: len(t.of(LIVE)) >= 30, 30, "live readings of the second run")
        diag = sub.wait_topic(DIAG, 20)
    finally:
        assert again.stop() == 0
        sub.close()
    first_log = p.log()
    # The daemon never raises; hwsim's simulated sysfs file lives on the full disk too and may.
    assert all("hwsim/sim.py" in block for block in first_log.split("Traceback")[1:]), first_log[-3000:]
    lasted = float(first_log.split("durable again after ")[-1].split("s")[0])
    o = outbox(diag)
    assert o["degraded"] == 0 and o["dropped"] == 0
    seqs = sorted(set(t.update().of(LIVE)) | set(t.of(BACKFILL)))
    assert seqs == list(range(seqs[0], seqs[-1] + 1))  # nothing lost around either switch
    print(f"\n{disk.kind}: durable again {recovered:.2f}s after space came back "
          f"(disk_retry 1 s); degraded for {lasted:.1f}s")
