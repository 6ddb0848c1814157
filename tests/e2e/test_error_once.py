"""An entity that fails publishes its error once, with one text, until it recovers (issue 13.6).

While an entity stays down, the reason its reads fail can change: here the chip stops
answering (NACK), then the whole co-processor goes away (unplug). Before this rule each new
reason was published again as another `value: null` with another text (three per BME280 entity
were seen with a saturated line: a timeout, the link's own timeout, a busy link).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.e2e.conftest import DaemonProcess
from tests.e2e.test_coprocessor_e2e import COPROC, T, control, good, start
from tests.mqttwait import Msg, Subscriber

ENTITIES = ("room_temperature", "room_humidity", "room_pressure")


def _room_errors(m: Msg) -> int:
    doc = json.loads(m.payload)
    room = doc.get("entities", {}).get("room") or {}
    return int(room.get("errors", 0))


def _nulls(sub: Subscriber, entity: str, after: float) -> list[Msg]:
    return [m for m in sub.on(f"pi2mqtt/e2e/{entity}") if m.received > after and m.json()["value"] is None]


def test_e2e_error_published_once_until_recovery(
    spawn: Callable[..., DaemonProcess], subscriber: Subscriber, tmp_path: Path
) -> None:
    subscriber.subscribe("pi2mqtt/e2e/diagnostics")
    start(spawn, subscriber, tmp_path)
    t0 = subscriber.wait_for(good).received
    control(subscriber, "room/nack", "on")
    subscriber.wait_topic(T, where=lambda m: m.json()["value"] is None and m.received > t0, timeout=10)
    first = subscriber.wait_for(
        lambda m: m.topic == "pi2mqtt/e2e/diagnostics" and m.received > t0 and _room_errors(m) >= 4,
        timeout=30, what="four failed reads of the BME280 (chip NACKs)")
    control(subscriber, "mcu/unplug")
    # Many failed reads later, for another reason (diagnostics count them), still one error each.
    diag = subscriber.wait_for(
        lambda m: m.topic == "pi2mqtt/e2e/diagnostics" and m.received > first.received
        and _room_errors(m) >= _room_errors(first) + 4,
        timeout=30, what="four more failed reads (co-processor unplugged)")
    for entity in ENTITIES:
        nulls = _nulls(subscriber, entity, t0)
        assert len(nulls) == 1, (entity, [n.json().get("error") for n in nulls])
    # Recovery publishes values again; a second failure is a new error, published once more.
    control(subscriber, "room/nack", "off")
    control(subscriber, "mcu/replug")
    t1 = subscriber.wait_for(lambda m: good(m) and m.received > diag.received, timeout=15).received
    control(subscriber, "mcu/unplug")
    subscriber.wait_for(
        lambda m: m.topic == "pi2mqtt/e2e/diagnostics" and m.received > t1 and _room_errors(m) >= _room_errors(diag) + 8,
        timeout=30, what="eight more failed reads")
    for entity in ENTITIES:
        assert len(_nulls(subscriber, entity, t1)) == 1, entity
    assert COPROC  # the shared config of the co-processor e2e tests
