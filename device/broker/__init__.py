"""An embedded MQTT broker for `pi2mqtt demo` on machines without Mosquitto.

`EmbeddedBroker` runs the asyncio server of `device.broker.server` on its own
event loop in a daemon thread, so synchronous code (the CLI, tests) can start
and stop it; `python -m device.broker` runs it as a process. It speaks MQTT
3.1.1 (and 3.1) and the parts of MQTT 5 that pi2mqtt and hwsim use. It is a
demo and test convenience, not a production broker: no persistence, no
authentication (any username/password is accepted), no TLS, no persistent
sessions, subscriptions granted at most QoS 1. Details: docs/watch.md.

    broker = EmbeddedBroker()
    port = broker.start()       # bound, listening, returns the port
    ... connect to broker.url (mqtt://127.0.0.1:<port>) ...
    broker.stop()
"""

from __future__ import annotations

import asyncio
import logging
import threading
from types import TracebackType

from device.broker.server import BrokerCore, BrokerStats, ClientConnection
from device.errors import BrokerError

__all__ = ["BrokerStats", "EmbeddedBroker"]

log = logging.getLogger("pi2mqtt.broker")

START_TIMEOUT = 5.0
STOP_TIMEOUT = 5.0


class EmbeddedBroker:
    """A pure-Python MQTT 3.1.1 broker on a background thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.core = BrokerCore()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        """`mqtt://host:port` of the listening socket (valid after `start`)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"mqtt://{host}:{self.port}"

    @property
    def stats(self) -> BrokerStats:
        """Live counters: connections, received, delivered, dropped, malformed, wills."""
        return self.core.stats

    def start(self) -> int:
        """Bind and start serving; return the port. Raises BrokerError if it cannot bind."""
        if self._thread is not None:
            return self.port
        self._thread = threading.Thread(target=self._run, name="pi2mqtt-embedded-broker", daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT):
            raise BrokerError(f"embedded broker did not start within {START_TIMEOUT} s")
        if self._error is not None:
            self._thread.join(STOP_TIMEOUT)
            self._thread = None
            raise BrokerError(f"embedded broker cannot listen on {self.host}:{self.port}: {self._error}")
        return self.port

    def stop(self) -> None:
        """Close every connection (no wills) and the listening socket; join the thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if not loop.is_closed():
            try:
                loop.call_soon_threadsafe(loop.stop)
            except RuntimeError:
                pass  # loop already closed
        thread.join(STOP_TIMEOUT)
        self._thread = None

    def __enter__(self) -> EmbeddedBroker:
        self.start()
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        loop.set_exception_handler(_log_loop_exception)
        try:
            server = loop.run_until_complete(
                loop.create_server(lambda: ClientConnection(self.core), self.host, self.port)
            )
        except OSError as exc:
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self.port = int(server.sockets[0].getsockname()[1])
        log.info("embedded broker listening on %s", self.url)
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            server.close()
            self.core.close_all()
            loop.run_until_complete(asyncio.sleep(0))  # let transports finish closing
            loop.run_until_complete(server.wait_closed())
            loop.close()


def _log_loop_exception(loop: asyncio.AbstractEventLoop, context: dict[str, object]) -> None:
    log.warning("embedded broker: %s", context.get("message"), exc_info=context.get("exception"))  # type: ignore[arg-type]
