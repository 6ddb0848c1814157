"""Spill, don't sync (issue 14, item 2): with the broker acknowledging promptly, readings never
touch the disk; a reading still unacknowledged after `spill_after` is written; so is every
reading taken while the connection is down.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.mosquitto import Mosquitto
from tests.mqttwait import Subscriber
from tests.procs import DaemonProcess, Tally, outbox_seqs, poll, write_config

pytestmark = pytest.mark.broker

LIVE = "pi2mqtt/sp/cpu"
DIAG = "pi2mqtt/sp/diagnostics"


def outbox(m: object) -> dict[str, int]:
    return json.loads(m.payload)["outbox"]  # type: ignore[attr-defined, no-any-return]


def test_spill_readings_acknowledged_promptly_never_touch_the_disk(
    mosquitto_factory: Callable[..., Mosquitto], tmp_path: Path
) -> None:
    b = mosquitto_factory("spill")
    sub = Subscriber(b.port).connect()
    sub.subscribe(LIVE)
    sub.subscribe(DIAG)
    conf = write_config(tmp_path / "p.toml", "sp", b.url, tmp_path / "state")
    p = DaemonProcess(conf, tmp_path / "d.log")
    try:
        sub.wait_topic(DIAG, 20, where=lambda m: outbox(m)["sent"] >= 20)
        first = outbox(sub.on(DIAG)[-1])
        # 200 more readings (10 s at 20/s), every one acknowledged within milliseconds.
        last = sub.wait_topic(DIAG, 40, where=lambda m: outbox(m)["sent"] >= first["sent"] + 200)
    finally:
        assert p.stop() == 0
        sub.close()
    o = outbox(last)
    assert o["degraded"] == 0
    # Only what was taken before the first connect may have been written.
    assert o["spilled"] == first["spilled"], (first, o)
    assert o["commits"] <= first["commits"] + 1, (first, o)  # nothing but the clean stop's own


def test_spill_unacknowledged_readings_go_to_disk_after_the_window(
    mosquitto_factory: Callable[..., Mosquitto], tmp_path: Path
) -> None:
    b = mosquitto_factory("spillstall")
    sub = Subscriber(b.port).connect()
    sub.subscribe(LIVE)
    state = tmp_path / "state"
    conf = write_config(tmp_path / "p.toml", "sp", b.url, state)
    p = DaemonProcess(conf, tmp_path / "d.log")
    t = Tally(sub)
    db = state / "outbox.db"
    assert b.proc is not None
    try:
        t.wait(lambda t: len(t.of(LIVE)) >= 20, 20, "20 live readings")
        # A broker that stops answering (the TCP connection stays up): nothing is acknowledged.
        os.kill(b.proc.pid, signal.SIGSTOP)
        try:
            poll(lambda: db.exists() and len(outbox_seqs(db)) >= 10, 20, "unacknowledged readings spilled")
        finally:
            os.kill(b.proc.pid, signal.SIGCONT)
        # Acknowledged after all: they leave the disk again.
        poll(lambda: len(outbox_seqs(db)) == 0, 20, "spilled readings deleted once acknowledged")
        assert p.alive()
    finally:
        assert p.stop() == 0
        sub.close()
