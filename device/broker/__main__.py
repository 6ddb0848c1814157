"""`python -m device.broker [--host H] [--port P]`: run the embedded broker in its own process.

Prints `listening on mqtt://H:P` (flushed) once it accepts connections, so a
parent process can read the port; runs until SIGINT or SIGTERM, then exits 0.
Port 0 (the default) picks a free port.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from device.broker import EmbeddedBroker
from device.errors import BrokerError


def main(argv: list[str] | None = None) -> int:
    """Run until signalled; 0 on a clean stop, 1 when the port cannot be bound."""
    ap = argparse.ArgumentParser(prog="python -m device.broker", description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args(argv)
    done = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    broker = EmbeddedBroker(args.host, args.port)
    try:
        broker.start()
    except BrokerError as exc:
        print(f"pi2mqtt broker: {exc}", file=sys.stderr)
        return 1
    print(f"listening on {broker.url}", flush=True)
    try:
        while not done.wait(1.0):
            pass
    finally:
        broker.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
