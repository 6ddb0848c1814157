"""A private 3-node NATS cluster with MQTT listeners, for the fleet tests and bench.

Each node is its own `nats-server` process with its own config file in a work
directory: `server_name`, a client port, `jetstream { store_dir }` (NATS keeps
MQTT sessions, QoS 1 messages and retained messages in JetStream), a `cluster`
block (name, listen, routes to the other nodes) and an `mqtt { listen }` block.
Every port is a free loopback port: the NATS server that may already run on
4222 is never touched. Nodes can be killed (SIGKILL, as a crashed machine) and
started again on the same ports.

What NATS's MQTT listener is (nats-server 2.9, the Debian package): MQTT 3.1.1
only (an MQTT 5 CONNECT is answered "unacceptable protocol version"), QoS 0 and 1
(a QoS 2 subscription is granted QoS 1, a QoS 2 publish closes the connection),
retained messages and sessions replicated through JetStream, so a message
published on one node reaches subscribers on every node.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from device.app.localbroker import free_port, terminate, wait_port

CLUSTER_NAME = "p2m-test"


def find_nats_server() -> str | None:
    """Path of the nats-server binary, or None when it is not installed."""
    found = shutil.which("nats-server")
    if found:
        return found
    for candidate in ("/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def mqtt_roundtrip(port: int, timeout: float = 3.0) -> bool:
    """Connect (MQTT 3.1.1), subscribe and get back a QoS 1 message within `timeout`."""
    got = threading.Event()
    subscribed = threading.Event()
    topic = f"p2m-ready/{port}"
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    client.on_message = lambda c, u, m: got.set()
    client.on_subscribe = lambda c, u, mid, rcs, p=None: subscribed.set()
    try:
        client.connect("127.0.0.1", port, keepalive=10)
    except OSError:
        return False
    client.loop_start()
    try:
        client.subscribe(topic, 1)
        if not subscribed.wait(timeout):
            return False
        client.publish(topic, b"x", qos=1)
        return got.wait(timeout)
    finally:
        client.disconnect()
        client.loop_stop()


class NatsNode:
    """One nats-server of the cluster: its ports, config file, process."""

    def __init__(self, workdir: Path, name: str, binary: str) -> None:
        self.name = name
        self.binary = binary
        self.workdir = workdir / name
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.client_port = free_port()
        self.cluster_port = free_port()
        self.mqtt_port = free_port()
        self.conf_path = self.workdir / "nats.conf"
        self.log_path = self.workdir / "nats.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The MQTT URL of this node."""
        return f"mqtt://127.0.0.1:{self.mqtt_port}"

    def write_config(self, routes: list[int]) -> None:
        self.replicas = min(3, len(routes) + 1)
        route_lines = ", ".join(f'"nats-route://127.0.0.1:{p}"' for p in routes)
        self.conf_path.write_text(
            f'server_name: "{self.name}"\n'
            f"listen: 127.0.0.1:{self.client_port}\n"
            f'log_file: "{self.log_path}"\n'
            f"jetstream {{\n  store_dir: \"{self.workdir / 'js'}\"\n"
            "  max_memory_store: 64MB\n  max_file_store: 256MB\n}\n"
            f"cluster {{\n  name: {CLUSTER_NAME}\n  listen: 127.0.0.1:{self.cluster_port}\n"
            f"  routes: [{route_lines}]\n}}\n"
            # Replicas 3: the MQTT state (sessions, QoS 1 messages, retained messages, each
            # session's consumers) keeps a quorum when one node of three dies. NATS would
            # pick fewer when the streams are created before every route is up.
            f"mqtt {{\n  listen: 127.0.0.1:{self.mqtt_port}\n"
            f"  stream_replicas: {self.replicas}\n  consumer_replicas: {self.replicas}\n}}\n"
        )

    def start(self, timeout: float = 20.0) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "-c", str(self.conf_path)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            wait_port(self.mqtt_port, timeout)
        except TimeoutError:
            self.kill()
            raise RuntimeError(f"nats-server {self.name} did not start; log:\n{self.log()}") from None

    def kill(self) -> None:
        """SIGKILL: the node dies as a crashed machine would."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is None:
            return
        terminate(self.proc, timeout)
        self.proc = None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""


class NatsCluster:
    """Three (or `size`) NATS nodes routed to each other, each with an MQTT listener."""

    def __init__(self, workdir: Path, size: int = 3, binary: str | None = None) -> None:
        self.binary = binary or find_nats_server() or "nats-server"
        self.nodes = [NatsNode(Path(workdir), f"n{i + 1}", self.binary) for i in range(size)]
        for node in self.nodes:
            node.write_config([n.cluster_port for n in self.nodes if n is not node])

    @property
    def urls(self) -> list[str]:
        return [n.url for n in self.nodes]

    def start(self, timeout: float = 60.0) -> None:
        for node in self.nodes:
            node.start()
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Wait until every node serves MQTT: its JetStream streams exist and a client can
        connect and round-trip a QoS 1 message (the streams need a JetStream leader)."""
        deadline = time.monotonic() + timeout
        for node in self.nodes:
            while True:
                if mqtt_roundtrip(node.mqtt_port, timeout=3.0):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"NATS node {node.name} never served MQTT; log:\n{node.log()}")
                time.sleep(0.2)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def __enter__(self) -> NatsCluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
