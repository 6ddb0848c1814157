"""After a crash while connected: ask the broker for each entity's newest seq.

Readings are retained, so the broker holds each entity's newest reading published
on its live topic, with its `seq`. `SeqSync` subscribes to `<base>/+` before the
client connects, publishes a marker to `<base>/_seqsync` right after the connect
(no entity name starts with `_`), and waits for the marker to come back: the
broker queues the retained messages of a subscription before any message published
after it on the same connection, so by then every retained reading has arrived.
Then it unsubscribes and releases the `SeqStore` with what it found. If the broker
cannot be reached within `timeout`, the store is released without it (one block
ahead: a gap, never a reused seq).
"""

from __future__ import annotations

import json
import logging
import os
import threading

from device.core.statedir import SeqStore
from device.mqtt.client import MqttClient

log = logging.getLogger("pi2mqtt.seq")

SYNC_TIMEOUT = 5.0
MARKER = "_seqsync"


class SeqSync:
    """One broker round trip that tells the `SeqStore` where each entity's seq stands."""

    def __init__(self, client: MqttClient, base: str, seqs: SeqStore, timeout: float = SYNC_TIMEOUT) -> None:
        self.client = client
        self.base = base
        self.seqs = seqs
        self.timeout = timeout
        self.found: dict[str, int] = {}
        self._marker = f"{base}/{MARKER}"
        self._nonce = os.urandom(8).hex().encode()
        self._done = threading.Event()
        self._finished = False

    def register(self) -> None:
        """Before the client starts: hold the store, subscribe, hook the marker to the connect."""
        self.seqs.hold()
        self.client.subscribe(f"{self.base}/+", self._on_message, qos=1)
        self.client.on_connected(self._send_marker)

    def start(self) -> threading.Thread:
        """Wait for the answer (or the timeout) on a thread; the store is released either way."""
        t = threading.Thread(target=self._finish, name="seq-sync", daemon=True)
        t.start()
        return t

    def _send_marker(self) -> None:
        if not self._finished:
            self.client.publish_now(self._marker, self._nonce, qos=1)

    def _on_message(self, topic: str, payload: bytes, props: object) -> None:
        if topic == self._marker:
            if payload == self._nonce:
                self._done.set()
            return
        entity = topic.rsplit("/", 1)[-1]
        try:
            doc = json.loads(payload)
        except ValueError:
            return
        seq = doc.get("seq") if isinstance(doc, dict) else None
        if isinstance(seq, int) and not isinstance(seq, bool) and seq > self.found.get(entity, 0):
            self.found[entity] = seq

    def _finish(self) -> None:
        ok = self._done.wait(self.timeout)
        self._finished = True
        self.client.unsubscribe(f"{self.base}/+")
        if ok:
            log.info("after a crash: seq continues above the broker's retained readings (%d entities)",
                     len(self.found))
        self.seqs.release(dict(self.found) if ok else None)
