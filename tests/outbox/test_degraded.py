"""A disk the outbox cannot use turns it into a RAM queue with a warning, never an error."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from device.outbox import OutMsg
from device.outbox.sqlite import SqliteOutbox


def test_outbox_path_that_is_a_directory_degrades(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "o.db").mkdir()
    with caplog.at_level(logging.WARNING, logger="pi2mqtt.outbox"):
        ob = SqliteOutbox(tmp_path / "o.db")
    try:
        assert ob.stats()["degraded"] == 1
        assert any("degraded" in r.getMessage() for r in caplog.records)
        for i in range(3):
            ob.put(OutMsg("t", b"%d" % i))
        got = ob.take(10)
        assert [q.msg.payload for q in got] == [b"0", b"1", b"2"]
        ob.ack([got[0].id])
        ob.requeue()
        assert [q.msg.payload for q in ob.take(10)] == [b"1", b"2"]
    finally:
        ob.close()


def test_outbox_missing_parent_directory_degrades(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with SqliteOutbox(blocker / "o.db", durability="reading") as ob:
        ob.put(OutMsg("t", b"x"))
        assert ob.stats()["degraded"] == 1
        assert ob.pending() == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_outbox_read_only_directory_degrades(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with SqliteOutbox(ro / "o.db") as ob:
            ob.put(OutMsg("t", b"x"))
            assert ob.stats()["degraded"] == 1
            assert len(ob.take(5)) == 1
    finally:
        ro.chmod(0o700)


def test_outbox_corrupt_file_is_moved_aside(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "o.db"
    path.write_bytes(b"this is not a database" * 200)
    with caplog.at_level(logging.WARNING, logger="pi2mqtt.outbox"), SqliteOutbox(path) as ob:
        ob.put(OutMsg("t", b"x"))
        assert ob.stats()["degraded"] == 0
    assert list(tmp_path.glob("o.db.corrupt-*"))
    assert any("moved" in r.getMessage() for r in caplog.records)


# The disk fills up while the daemon runs. RLIMIT_FSIZE makes every write past the limit
# fail (EFBIG) like a full disk would, without root or a tiny mount; it is per process.
DISK_FULL_CHILD = textwrap.dedent(
    """
    import logging, resource, signal, sys
    from device.outbox import OutMsg
    from device.outbox.sqlite import SqliteOutbox
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    ob = SqliteOutbox(sys.argv[1], durability="reading")
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))
    for i in range(2000):
        ob.put(OutMsg("pi2mqtt/dev/temp", b"%06d" % i + b"." * 100))
    got = []
    while True:
        batch = ob.take(100)
        if not batch:
            break
        ob.ack([q.id for q in batch])
        got.extend(int(q.msg.payload[:6]) for q in batch)
    ob.close()
    print(ob.stats()["degraded"], got == list(range(2000)))
    """
)


def test_outbox_disk_full_while_running_degrades_and_keeps_flowing(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", DISK_FULL_CHILD, str(tmp_path / "o.db")],
        capture_output=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert out.returncode == 0, out.stderr.decode()
    assert out.stdout.split() == [b"1", b"True"]
    assert b"outbox degraded to memory" in out.stderr
