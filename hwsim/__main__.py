"""`python -m hwsim PATH [PAYLOAD]`: send one control message to a running hwsim and print the reply.

    python -m hwsim --broker mqtt://127.0.0.1:1883 --id demo doorbell/press
    python -m hwsim --id demo tank_level/set 0.42

Exit status: 0 when the simulation answered ``ok``, 1 when it refused, 2 when
nothing answered within the timeout or the broker could not be reached.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import threading
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hwsim", description=__doc__.splitlines()[0])
    parser.add_argument("--broker", default=os.environ.get("HWSIM_BROKER", "mqtt://127.0.0.1:1883"))
    parser.add_argument("--id", default=os.environ.get("HWSIM_ID") or socket.gethostname())
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("path", help="<device>/<action>, e.g. doorbell/press")
    parser.add_argument("payload", nargs="?", default="")
    args = parser.parse_args(argv)

    url = urlsplit(args.broker if "://" in args.broker else f"mqtt://{args.broker}")
    root = f"hwsim/{args.id}"
    subscribed = threading.Event()
    answered = threading.Event()
    reply: dict[str, Any] = {}

    def on_connect(client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        client.subscribe(f"{root}/reply", qos=1)

    def on_subscribe(client: mqtt.Client, userdata: Any, mid: int, reasons: Any, props: Any) -> None:
        subscribed.set()

    def on_message(client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            body = json.loads(msg.payload)
        except ValueError:
            return
        if isinstance(body, dict) and body.get("path") == args.path:
            reply.update(body)
            answered.set()

    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    if url.scheme in ("mqtts", "ssl"):
        client.tls_set()
    if url.username:
        client.username_pw_set(url.username, url.password or "")
    try:
        client.connect(url.hostname or "127.0.0.1", url.port or (8883 if url.scheme == "mqtts" else 1883))
    except OSError as e:
        print(f"cannot reach the broker at {args.broker}: {e}", file=sys.stderr)
        return 2
    client.loop_start()
    try:
        if not subscribed.wait(args.timeout):
            print(f"no answer from the broker at {args.broker}", file=sys.stderr)
            return 2
        client.publish(f"{root}/{args.path}", args.payload, qos=1)
        if not answered.wait(args.timeout):
            print(f"no reply from hwsim '{args.id}' within {args.timeout:g} s", file=sys.stderr)
            return 2
    finally:
        client.disconnect()
        client.loop_stop()
    print(json.dumps(reply))
    return 0 if reply.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
