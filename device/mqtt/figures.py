"""What the broker connection counts and logs beyond plain traffic: failovers, protocol
fallbacks, reason codes, denied publishes, self-repaired status.

`ConnectionFigures` is told what happened (a drop, a connect, a failure reason code, a
denied publish) and keeps the figures that go into the `mqtt` part of the diagnostics
document; it logs each event once in words a user can act on. Thread-safe: paho's
thread and the supervisor both report to it.

Denied publishes: with MQTT 5 a PUBACK with a failure reason code (0x87 Not
authorized from a Mosquitto ACL) is counted (`denied`) and logged once per topic
(the client acknowledges the row: retrying cannot help). MQTT 3.1.1 brokers drop
denied publishes silently and still acknowledge them: nothing to count.
"""

from __future__ import annotations

import logging
import threading
import time

from device.core.values import JsonDoc
from device.mqtt.brokers import BrokerAddress

log = logging.getLogger("pi2mqtt.mqtt")


def reason_name(rc: object) -> str:
    """A paho ReasonCode's name ("Not authorized"), or the value as text."""
    get_name = getattr(rc, "getName", None)
    return str(get_name()) if callable(get_name) else str(rc)


class ConnectionFigures:
    """Failovers, fallbacks, failure reason codes and denied publishes, for diagnostics."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.failovers = 0
        self.last_failover: JsonDoc | None = None
        self.protocol_fallbacks = 0
        self.status_repaired = 0
        self.denied = 0
        self.last_denied: str | None = None
        self.reasons: dict[str, int] = {}
        self._denied_logged: set[str] = set()
        self._dropped_at: float | None = None
        self._dropped_from: BrokerAddress | None = None

    def count_reason(self, rc: object) -> None:
        """Count a failure reason code (CONNACK, SUBACK, PUBACK, DISCONNECT) by name."""
        if getattr(rc, "is_failure", False):
            name = reason_name(rc)
            with self._lock:
                self.reasons[name] = self.reasons.get(name, 0) + 1

    def dropped(self, broker: BrokerAddress, rc: object) -> None:
        """A working connection to `broker` was lost."""
        self._dropped_at = time.monotonic()
        self._dropped_from = broker
        self.count_reason(rc)

    def failed_over(self, to: BrokerAddress) -> None:
        """Connected to `to`, another broker than the last: log and count it."""
        outage = time.monotonic() - self._dropped_at if self._dropped_at is not None else None
        was = self._dropped_from.display if self._dropped_from is not None else "?"
        with self._lock:
            self.failovers += 1
            self.last_failover = {"from": was, "to": to.display, "at": round(time.time(), 3),
                                  "outage_s": round(outage, 3) if outage is not None else None}
        log.warning("failed over from %s to %s%s (failover %d)", was, to.display,
                    f" after {outage:.2f}s without a broker" if outage is not None else "",
                    self.failovers)

    def fell_back(self, broker: BrokerAddress, rc: object) -> None:
        """`broker` refused MQTT 5; 3.1.1 is used with it from now on."""
        self.protocol_fallbacks += 1
        log.warning("broker %s refuses MQTT 5 (%s): falling back to MQTT 3.1.1 with it (no reason "
                    "codes, request/response properties or session expiry there)", broker.where, rc)

    def repaired_status(self) -> None:
        self.status_repaired += 1
        log.warning("the status topic said offline while connected (a will published late by a "
                    "broker we left?): publishing online again")

    def denied_publish(self, topic: str | None, rc: object) -> None:
        """Count a publish the broker refused (MQTT 5 PUBACK reason code); log once per topic."""
        self.count_reason(rc)
        with self._lock:
            self.denied += 1
            self.last_denied = topic
            key = topic or "?"
            first = key not in self._denied_logged and len(self._denied_logged) < 100
            if first:
                self._denied_logged.add(key)
        if first:
            log.error("the broker refused a publish to %s: %s (check its ACL; counted as "
                      "mqtt.denied in diagnostics, logged once per topic)", key, rc)

    def as_dict(self) -> JsonDoc:
        with self._lock:
            return {
                "failovers": self.failovers,
                "last_failover": self.last_failover,
                "protocol_fallbacks": self.protocol_fallbacks,
                "status_repaired": self.status_repaired,
                "reasons": dict(self.reasons),
                "denied": self.denied,
                "last_denied": self.last_denied,
            }
