"""sd_notify in a few lines of stdlib: tell systemd we are ready, alive, reloading, stopping.

systemd (Type=notify) passes $NOTIFY_SOCKET, an AF_UNIX datagram socket; a leading "@"
means the abstract namespace. Each call sends one datagram of newline-separated
KEY=VALUE lines. Without $NOTIFY_SOCKET (tests, a shell) every call is a no-op. No call
ever raises: a failed notify returns False, the daemon goes on.
"""

from __future__ import annotations

import os
import socket
import time


def notify(state: str) -> bool:
    """Send `state` (e.g. "READY=1\\nSTATUS=ok") to systemd; True if it was sent."""
    addr = os.environ.get("NOTIFY_SOCKET", "")
    if not addr or addr[0] not in "/@":
        return False
    if addr[0] == "@":
        addr = "\0" + addr[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as s:
            s.connect(addr)
            # Never wait: when the reader's queue is full (net.unix.max_dgram_qlen, 10 by
            # default) a blocking send would hold the main loop, and a stop, until it reads.
            s.send(state.encode("utf-8", "replace"), socket.MSG_DONTWAIT)
        return True
    except (OSError, ValueError):
        return False


def ready(status: str | None = None) -> bool:
    """Start-up (or a reload) is complete."""
    return notify("READY=1" + (f"\nSTATUS={status}" if status else ""))


def status(text: str) -> bool:
    """One line of free-form status shown by `systemctl status`."""
    return notify("STATUS=" + text.replace("\n", " "))


def watchdog() -> bool:
    """Ping the watchdog: call every watchdog_interval() seconds while the main loop advances."""
    return notify("WATCHDOG=1")


def reloading() -> bool:
    """A reload started; follow with ready() when it is done."""
    return notify(f"RELOADING=1\nMONOTONIC_USEC={time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000}")


def stopping() -> bool:
    """Shutdown started."""
    return notify("STOPPING=1")


def watchdog_interval() -> float | None:
    """Seconds between watchdog pings (half of WatchdogSec), or None when no watchdog is set for us."""
    try:
        usec = int(os.environ.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    pid = os.environ.get("WATCHDOG_PID")
    if usec <= 0 or (pid and pid != str(os.getpid())):
        return None
    return usec / 2e6
