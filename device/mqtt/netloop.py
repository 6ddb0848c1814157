"""paho's network loop on a thread of our own: reads, keepalive and what is left to write.

Theory of operation
-------------------
With paho's own loop thread (`loop_start`), every `publish()` writes a byte to a socket
pair to wake that thread, which then writes the packet: one more thread hand-off per
message (a futex wake, a GIL switch, a `select` and two syscalls). Without it (paho's
"external event loop" mode), `publish()` writes the packet on the caller's thread at
once. `NetworkLoop` is that external loop: a thread (`mqtt-net`) that waits in
`select` on the broker's socket, reads (PUBACKs, commands, PINGRESP), writes whatever
`publish()` could not (packets queued from inside a paho callback, the rest of a
partial write), and runs paho's keepalive (`loop_misc`). It ends when the connection
does (paho has then called `on_disconnect`). After a read it rests `GATHER` (3 ms) before
it waits again, so that the PUBACKs of a burst of readings are read in one wake-up rather
than one each: a PUBACK is accounted up to 3 ms later, a reading is not sent any later.

Only on plain TCP: an SSL socket must not be read and written by two threads at once, and
paho's WebSocket wrapper answers a ping from inside a read. Over TLS and WebSocket,
`write_inline(False)` makes `publish()` only wake the loop, which then writes (as paho's
own loop thread does).

After each read the loop calls `after_read` (the sender settles the PUBACKs that read
brought, `OutboxSender.settle`): one pass of bookkeeping per read, not one per PUBACK.

paho's writer (`_packet_write`) takes no lock; in external-loop mode two threads may
write at once. `SerialPaho` serialises `loop_write()` — the one entry point every write
goes through, inline or from the loop — so packets never interleave on the wire. When
a write leaves bytes behind (the socket buffer is full), it wakes the loop so that it
waits for the socket to become writable.

Lock order (never the other way round): paho's message mutex → the write lock →
paho's callback mutexes → the sender's lock.
"""

from __future__ import annotations

import logging
import select
import socket
import threading
import time
from collections.abc import Callable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode

log = logging.getLogger("pi2mqtt.mqtt")

GATHER = 0.003  # seconds the loop rests after a read while publishes write inline


class SerialPaho(mqtt.Client):
    """paho's Client whose writes are serialised, for publishing from several threads."""

    def serialise(self) -> None:
        """Set up the write lock and the loop's wake-up (right after construction)."""
        self._write_lock = threading.RLock()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self.loop_thread: int | None = None  # ident of the NetworkLoop thread
        self.inline = False

    def write_inline(self, inline: bool) -> None:
        """Whether `publish()` writes on the caller's thread (plain TCP) or leaves it to the loop."""
        self.on_socket_register_write = None if inline else self._wake_to_write
        self.inline = inline

    def _wake_to_write(self, client: mqtt.Client, userdata: object, sock: object) -> None:
        self.wake()

    def loop_write(self) -> MQTTErrorCode:
        with self._write_lock:
            rc = super().loop_write()
        if self.want_write() and threading.get_ident() != self.loop_thread:
            self.wake()  # bytes left over: the loop waits for the socket to be writable
        return rc

    def wake(self) -> None:
        try:
            self._wake_w.send(b"\0")
        except (BlockingIOError, OSError):
            pass

    def close_wake(self) -> None:
        self._wake_r.close()
        self._wake_w.close()


class NetworkLoop:
    """One connection's reads, keepalive and leftover writes, on thread `mqtt-net`."""

    def __init__(self, paho: SerialPaho, timeout: float = 1.0, gather: float = GATHER,
                 after_read: Callable[[], None] | None = None) -> None:
        self._paho = paho
        self._after_read = after_read
        self._timeout = timeout
        self._gather = gather
        self._stop = False
        self._read = False
        self._thread = threading.Thread(target=self._run, name="mqtt-net", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 1.0) -> None:
        self._stop = True
        self._paho.wake()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _run(self) -> None:
        paho = self._paho
        paho.loop_thread = threading.get_ident()
        try:
            while not self._stop and self._once(paho) == MQTTErrorCode.MQTT_ERR_SUCCESS:
                if self._read and paho.inline:
                    time.sleep(self._gather)  # let the next PUBACKs gather: one wake-up for several
        except Exception:
            log.exception("the MQTT network loop failed")
        finally:
            paho.loop_thread = None

    def _once(self, paho: SerialPaho) -> MQTTErrorCode:
        sock = paho.socket()
        if sock is None:
            return MQTTErrorCode.MQTT_ERR_NO_CONN
        pending = sock.pending() if hasattr(sock, "pending") else 0  # TLS: bytes already decrypted
        wake = paho._wake_r
        try:
            readable, _, _ = select.select(
                [sock, wake], [sock] if paho.want_write() else [], [], 0.0 if pending else self._timeout)
        except (OSError, ValueError, TypeError):  # closed under us: the connection is gone
            return MQTTErrorCode.MQTT_ERR_CONN_LOST
        if wake in readable:
            try:
                wake.recv(4096)
            except (BlockingIOError, OSError):
                pass
        self._read = sock in readable or pending > 0
        if self._read:
            rc = paho.loop_read()
            if self._after_read is not None:
                self._after_read()
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS or paho.socket() is None:
                return rc or MQTTErrorCode.MQTT_ERR_CONN_LOST
        if paho.want_write():  # writable, or packets queued from inside a callback just now
            rc = paho.loop_write()
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                return rc
        return paho.loop_misc()
