"""The outbox's disk fills up while the daemon runs: it degrades to memory with a warning and
readings keep flowing to the broker (issue 5, §5e).

The disk is "filled" with RLIMIT_FSIZE in the daemon's process: every write past the limit
fails with EFBIG, as on a full disk, without root or a tiny filesystem. SIGXFSZ is ignored
so the write fails instead of killing the process.
"""

from __future__ import annotations

import json
import resource
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.mosquitto import Mosquitto
from tests.mqttwait import Subscriber
from tests.procs import DaemonProcess, Tally, write_config

pytestmark = pytest.mark.broker

LIMIT = 96 * 1024
LIVE = "pi2mqtt/ftest/cpu"


def small_disk() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


def test_disk_full_degrades_to_memory_and_readings_keep_flowing(
    mosquitto_factory: Callable[..., Mosquitto], tmp_path: Path
) -> None:
    b = mosquitto_factory("disk")
    sub = Subscriber(b.port).connect()
    sub.subscribe(LIVE)
    sub.subscribe("pi2mqtt/ftest/diagnostics")
    conf = write_config(tmp_path / "p.toml", "ftest", b.url, tmp_path / "state")
    p = DaemonProcess(conf, tmp_path / "d.log", preexec=small_disk)
    t = Tally(sub)
    try:
        log = p.wait_log("outbox degraded to memory", 30)
        assert "File too large" in log or "disk" in log or "database or disk is full" in log, log[-2000:]
        assert p.alive()
        t.update()
        last = max(t.of(LIVE), default=0)
        t.wait(lambda t: len([s for s in t.of(LIVE) if s > last]) >= 20, 15, "20 readings after degrading")
        diag = sub.wait_topic("pi2mqtt/ftest/diagnostics", timeout=10,
                              where=lambda m: json.loads(m.payload)["outbox"].get("degraded") == 1)
        assert diag.json()["outbox"]["dropped"] == 0
        assert p.alive()
    finally:
        rc = p.stop()
        sub.close()
    assert rc == 0, p.log()[-3000:]
    live = t.update().of(LIVE)
    assert live == sorted(live)
    assert set(live) == set(range(min(live), max(live) + 1))  # nothing lost around the switch
    assert "Traceback" not in p.log()
