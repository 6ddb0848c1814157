"""The demo's broker when Mosquitto is not installed: amqtt, a maintained library.

`pi2mqtt demo` prefers a private Mosquitto (`device.app.localbroker`). On a
machine with only Python, git and make, the `demo` extra brings amqtt (an
asyncio MQTT 3.1.1 broker on PyPI), and `AmqttBroker` runs it in a child
process (`python -m device.app.amqttbroker PORT`) on a free loopback port,
anonymous, with no persistence and no `$SYS` topics. The daemon's wheel ships
no broker of its own; the daemon falls back from MQTT 5 to 3.1.1 by itself.
"""

from __future__ import annotations

import asyncio
import importlib.util
import signal
import subprocess
import sys
from pathlib import Path

from device.app.localbroker import free_port, terminate, wait_port


def amqtt_available() -> bool:
    """True when the amqtt package (the `demo` extra) is installed."""
    return importlib.util.find_spec("amqtt") is not None


class AmqttBroker:
    """One amqtt broker process on 127.0.0.1, logging into `workdir`."""

    def __init__(self, workdir: Path, *, port: int | None = None) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.log_path = self.workdir / "amqtt.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> None:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "device.app.amqttbroker", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT,
            )
        try:
            wait_port(self.port, timeout)
        except TimeoutError:
            self.stop()
            log_text = self.log_path.read_text(errors="replace")
            raise RuntimeError(f"amqtt did not start; log:\n{log_text}") from None

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is None:
            return
        terminate(self.proc, timeout)
        self.proc = None

    def __enter__(self) -> AmqttBroker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


async def _serve(port: int) -> None:
    from amqtt.broker import Broker

    config = {
        "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}},
        "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
    }
    broker = Broker(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await broker.start()
    await stop.wait()
    await broker.shutdown()


def main(argv: list[str]) -> int:
    """`python -m device.app.amqttbroker PORT`: serve until SIGTERM."""
    asyncio.run(_serve(int(argv[0])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
