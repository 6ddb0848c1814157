"""A SIGKILLed producer loses nothing that durability="reading" acknowledged."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from device.outbox.sqlite import SqliteOutbox

CHILD = textwrap.dedent(
    """
    import sys
    from device.outbox import OutMsg
    from device.outbox.sqlite import SqliteOutbox
    path, n, durability = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    ob = SqliteOutbox(path, durability=durability)
    for i in range(n):
        ob.put(OutMsg("pi2mqtt/dev/temp", b"%d" % i, 1, False, "temp", float(i)))
    print("done", flush=True)
    sys.stdin.read()  # hold the outbox open until the parent kills us
    """
)


def run_and_kill(path: Path, n: int, durability: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), str(n), durability],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"done"
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_outbox_reading_durability_survives_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    run_and_kill(path, 100, "reading")
    with SqliteOutbox(path) as ob:
        got = [q.msg.payload for q in ob.take(1000)]
    assert got == [b"%d" % i for i in range(100)]


def test_outbox_batch_durability_after_sigkill_keeps_a_prefix_in_order(tmp_path: Path) -> None:
    # "batch" may lose the rows put in the last batch window; what survives is in order.
    path = tmp_path / "o.db"
    run_and_kill(path, 300, "batch")
    with SqliteOutbox(path) as ob:
        got = [q.msg.payload for q in ob.take(1000)]
    assert got == [b"%d" % i for i in range(len(got))]


def test_outbox_reopen_after_sigkill_continues_ids(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    run_and_kill(path, 10, "reading")
    with SqliteOutbox(path) as ob:
        old = ob.take(100)
        from device.outbox import OutMsg

        ob.put(OutMsg("t", b"new"))
        new = ob.take(1)
    assert new[0].id > max(q.id for q in old)
