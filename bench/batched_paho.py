"""The honest floor for CPU per reading: a bare paho loop that batches as the daemon does.

One wake-up per tick publishes a reading for every one of `--topics` topics
(QoS 1, retained, the daemon's JSON payload: value, ts in ISO milliseconds, seq,
unit), on absolute deadlines (start + k / rate), until killed. paho's network
loop runs on its own thread, as in the daemon. Nothing is read from any sensor,
nothing is written to disk: this is what publishing alone costs.

bench/bare_paho.py is the older floor: it wakes once per message.
"""

from __future__ import annotations

import argparse
import socket
import time
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion


def iso_ms(ts: float) -> str:
    secs, ms = divmod(int(ts * 1000), 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{ms:03d}Z"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--topics", type=int, default=50)
    ap.add_argument("--rate", type=float, default=10.0, help="readings per second per topic")
    ap.add_argument("--qos", type=int, default=1)
    ap.add_argument("--protocol", choices=("5", "3.1.1"), default="5", help="MQTT version (the daemon's default: 5)")
    ap.add_argument("--prefix", default="batched")
    args = ap.parse_args()
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{args.prefix}-paho",
                    protocol=mqtt.MQTTv5 if args.protocol == "5" else mqtt.MQTTv311)

    def nodelay(client: Any, userdata: Any, sock: Any) -> None:  # as the daemon does
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    c.on_socket_open = nodelay
    c.max_inflight_messages_set(100)
    c.connect("127.0.0.1", args.port, 60)
    c.loop_start()
    topics = [f"{args.prefix}/t{i:03d}" for i in range(args.topics)]
    period = 1.0 / args.rate
    start = time.monotonic()
    k = 0
    while True:
        k += 1
        delay = start + k * period - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        ts = iso_ms(time.time())
        for topic in topics:
            c.publish(topic, f'{{"value":45.0,"ts":"{ts}","seq":{k},"unit":"°C"}}', qos=args.qos, retain=True)


if __name__ == "__main__":
    main()
