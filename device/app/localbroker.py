"""A private Mosquitto: own config, free loopback port, stop and restart.

`pi2mqtt demo` starts one when the `mosquitto` binary is installed, and the
tests start one per test (they never rely on a broker that happens to be
running). `Mosquitto` writes its config into a directory it is given and runs
`mosquitto -c` on a free port on 127.0.0.1; `stop()`, `start()` and
`restart()` keep the same port so clients can reconnect. Extra config lines
(TLS listeners, passwords, ACLs) go in `extra`.
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path


def find_mosquitto() -> str | None:
    """Path of the mosquitto binary, or None when it is not installed."""
    found = shutil.which("mosquitto")
    if found:
        return found
    for candidate in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def terminate(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM, wait up to `timeout`, then SIGKILL: how every child server here is stopped."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


def wait_port(port: int, timeout: float = 10.0, host: str = "127.0.0.1") -> None:
    """Block until something accepts TCP connections on port, or raise TimeoutError."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s") from None
            time.sleep(0.02)


class Mosquitto:
    """One Mosquitto process with its own config file in `workdir`."""

    def __init__(
        self,
        workdir: Path,
        *,
        extra: str = "",
        allow_anonymous: bool = True,
        port: int | None = None,
        binary: str | None = None,
        nodelay: bool = True,
    ) -> None:
        self.binary = binary or find_mosquitto() or "mosquitto"
        self.nodelay = nodelay
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.extra = extra
        self.allow_anonymous = allow_anonymous
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.workdir / "mosquitto.log"
        self.conf_path = self.workdir / "mosquitto.conf"

    @property
    def url(self) -> str:
        scheme = "mqtts" if "certfile" in self.extra else "mqtt"
        return f"{scheme}://127.0.0.1:{self.port}"

    def write_config(self) -> None:
        lines = [
            f"listener {self.port} 127.0.0.1",
            f"allow_anonymous {'true' if self.allow_anonymous else 'false'}",
            "persistence false",
            f"log_dest file {self.log_path}",
            "log_type all",
            "max_queued_messages 100000",
            # Nagle off: without it a second small message to a client waits for the
            # ACK of the first (up to 40 ms), which would swamp every latency figure.
            # (nodelay=False: Mosquitto's default, for benchmarks of a stock broker.)
            f"set_tcp_nodelay {'true' if self.nodelay else 'false'}",
        ]
        if os.geteuid() == 0:
            lines.append(f"user {getpass.getuser()}")
        self.conf_path.write_text("\n".join(lines) + "\n" + self.extra + "\n")

    def start(self, timeout: float = 10.0) -> None:
        self.write_config()
        self.proc = subprocess.Popen(
            [self.binary, "-c", str(self.conf_path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_port(self.port, timeout)
        except TimeoutError:
            self.stop()
            raise RuntimeError(f"mosquitto did not start; log:\n{self.log()}") from None

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is None:
            return
        terminate(self.proc, timeout)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def __enter__(self) -> Mosquitto:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
