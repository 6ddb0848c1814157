"""The client sends readings on the thread that queued them (`pump`), paho writing inline.

Several producer threads, the sender thread and the network loop all write to one socket:
every reading must arrive exactly once, each producer's readings in order, each one
acknowledged (the outbox empties) — over plain TCP, where publishes write inline.
"""

from __future__ import annotations

import threading

from device.config import parse_config
from device.mqtt.client import MqttClient
from device.mqtt.topics import Topics
from device.outbox import MemoryOutbox, OutMsg
from tests.mosquitto import Mosquitto
from tests.mqttwait import Subscriber

PRODUCERS = 4
EACH = 300


def test_client_pump_from_many_threads_keeps_each_producers_order(broker: Mosquitto, subscriber: Subscriber) -> None:
    subscriber.subscribe("pi2mqtt/pump/#")
    cfg = parse_config({"device": {"id": "pump"}, "mqtt": {"url": broker.url}})
    outbox = MemoryOutbox()
    c = MqttClient(cfg.mqtt, Topics("pi2mqtt", "pump"), outbox, window=20)  # a small window: it fills
    c.start()
    try:
        assert c.wait_connected(10), c.last_error

        def produce(p: int) -> None:
            for i in range(EACH):
                outbox.put(OutMsg(f"pi2mqtt/pump/p{p}", str(i).encode(), 1, False, f"p{p}", float(i), i))
                c.pump()

        threads = [threading.Thread(target=produce, args=(p,)) for p in range(PRODUCERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        got = subscriber.wait_count(lambda m: m.topic.startswith("pi2mqtt/pump/p"), PRODUCERS * EACH, timeout=30)
        for p in range(PRODUCERS):
            seen = [int(m.payload) for m in got if m.topic == f"pi2mqtt/pump/p{p}"]
            assert seen == list(range(EACH)), f"producer {p}: {len(seen)} readings, out of order or doubled"
        subscriber.wait(lambda: outbox.pending() == 0, 10, "every reading acknowledged")
        assert c.counters()["published"] == PRODUCERS * EACH
        assert c.network_alive()
    finally:
        c.stop()
