"""The floor for CPU per reading: a bare paho loop publishing the same readings.

Publishes `--topics` topics at `--rate` Hz each (QoS 1, JSON payloads of the
same size as the daemon's), on one thread with absolute deadlines, until killed.
Run by bench/daemon_bench.py beside the daemon, in the same run.
"""

from __future__ import annotations

import argparse
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--topics", type=int, default=50)
    ap.add_argument("--rate", type=float, default=10.0)
    ap.add_argument("--qos", type=int, default=1)
    ap.add_argument("--protocol", choices=("5", "3.1.1"), default="5", help="MQTT version (the daemon's default: 5)")
    args = ap.parse_args()
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bare-paho",
                    protocol=mqtt.MQTTv5 if args.protocol == "5" else mqtt.MQTTv311)
    c.connect("127.0.0.1", args.port, 60)
    c.loop_start()
    topics = [f"bare/t{i:02d}" for i in range(args.topics)]
    period = 1.0 / (args.rate * args.topics)
    start = time.monotonic()
    k = 0
    seq = 0
    while True:
        due = start + k * period
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        topic = topics[k % len(topics)]
        if k % len(topics) == 0:
            seq += 1
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + ".000Z"
        c.publish(topic, f'{{"value":45.0,"ts":"{ts}","seq":{seq},"unit":"°C"}}', qos=args.qos, retain=True)
        k += 1


if __name__ == "__main__":
    main()
