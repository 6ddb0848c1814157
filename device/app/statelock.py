"""One daemon per state directory: an exclusive lock held for the life of the process.

Two daemons on one state directory would share one outbox and one set of
sequence numbers and take each other's rows (readings published by one,
acknowledged by the other, and gone). `run` therefore locks
`<state_dir>/pi2mqtt.lock` with `flock` before it opens anything there. The
kernel drops the lock when the process ends, however it ends (SIGKILL and power
cuts included), so a stale lock file never blocks a restart. The file holds the
PID of the holder, for the message the second daemon prints.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from device.errors import StateDirInUse

LOCK_NAME = "pi2mqtt.lock"


class StateDirLock:
    """The lock on one state directory; `release()` (or process exit) gives it back."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / LOCK_NAME
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            who = f"PID {holder}" if holder else "another process"
            raise StateDirInUse(
                f"the state directory {state_dir} is in use by another pi2mqtt ({who}); "
                "stop that one first, or give this one its own (device.state_dir or $STATE_DIRECTORY)"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        return int(text) if text.isdigit() else None
    except OSError:
        return None
