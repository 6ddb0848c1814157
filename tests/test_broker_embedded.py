"""The embedded broker: its packet codec and topic matching, then real paho clients against it."""

from __future__ import annotations

import itertools
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from device.broker import EmbeddedBroker
from device.broker import encode as enc
from device.broker import packets as p
from device.broker import props as pr
from device.broker.topics import matches, split
from device.errors import BrokerError
from tests.mqttwait import Subscriber

# ---- codec -------------------------------------------------------------------

SAMPLE = (
    enc.connect("dev-1", keepalive=30, will=p.Will("pi2mqtt/x/status", b"offline", 1, True))
    + enc.subscribe(7, [("a/+/c", 1), ("#", 0)])
    + enc.publish("a/b/c", b"x" * 300, qos=1, retain=True, packet_id=9)
    + bytes((0xC0, 0)) + bytes((0xE0, 0))
)
SAMPLE_PACKETS = [
    p.Connect("MQTT", 4, "dev-1", True, 30, p.Will("pi2mqtt/x/status", b"offline", 1, True)),
    p.Subscribe(7, (("a/+/c", 1), ("#", 0))),
    p.Publish("a/b/c", b"x" * 300, 1, True, False, 9),
    p.PingReq(),
    p.Disconnect(),
]


V5_PROPS = pr.string_prop(0x08, "reply/here") + bytes((0x09, 0, 2, 7, 8))  # response topic, correlation
SAMPLE_V5 = (
    enc.connect("dev-5", will=p.Will("s", b"off", 1, False, pr.byte_prop(0x01, 1)), level=5)
    + enc.subscribe(3, [("a/#", 0x01 | 0x04 | 0x20)], v5=True)
    + enc.publish("a/b", b"hello", qos=1, packet_id=4, properties=V5_PROPS)
    + bytes((0x40, 0x03, 0x00, 0x04, 0x10))  # PUBACK with a reason code
    + bytes((0xE0, 0x01, 0x04))  # DISCONNECT with will
)
SAMPLE_V5_PACKETS = [
    p.Connect("MQTT", 5, "dev-5", True, 60, p.Will("s", b"off", 1, False, b"\x01\x01")),
    p.Subscribe(3, (("a/#", 0x25),)),
    p.Publish("a/b", b"hello", 1, False, False, 4, V5_PROPS),
    p.PubAck(4),
    p.Disconnect(4),
]


def test_packet_reader_decodes_mqtt5_one_byte_at_a_time() -> None:
    reader = p.PacketReader()
    out: list[object] = []
    for i in range(len(SAMPLE_V5)):
        out += reader.feed(SAMPLE_V5[i:i + 1])
    assert out == SAMPLE_V5_PACKETS


def test_packet_reader_refuses_bad_mqtt5_properties() -> None:
    head = enc.connect("x", level=5)
    for props in (bytes((0x7E, 0)), bytes((0x08, 0, 9, 0x61)), pr.byte_prop(0x23, 1)[:1] + b"\x00\x01"):
        out = p.PacketReader().feed(head + enc.publish("t", b"", properties=props))
        assert isinstance(out[-1], p.Malformed), props


def test_packet_reader_decodes_whole_stream() -> None:
    assert p.PacketReader().feed(SAMPLE) == SAMPLE_PACKETS


def test_packet_reader_decodes_one_byte_at_a_time() -> None:
    reader = p.PacketReader()
    out: list[object] = []
    for i in range(len(SAMPLE)):
        out += reader.feed(SAMPLE[i:i + 1])
    assert out == SAMPLE_PACKETS


@pytest.mark.parametrize(
    "data",
    [
        bytes((0x30, 0x03, 0x00, 0x05, 0x61)),        # topic length beyond the body
        bytes((0x82, 0x02, 0x00, 0x01)),              # SUBSCRIBE without filters
        bytes((0x80, 0x00)),                          # SUBSCRIBE with wrong flags
        bytes((0xF0, 0x00)),                          # reserved packet type 15
        bytes((0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F)),  # remaining length of 5 bytes
        enc.publish("a/+", b"x"),                # wildcard in a topic name
        bytes((0x30, 0x04, 0x00, 0x02, 0xC3, 0x28)),  # invalid UTF-8 topic
        bytes((0x36, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01)),  # QoS 3
    ],
)
def test_packet_reader_reports_garbage_without_raising(data: bytes) -> None:
    reader = p.PacketReader()
    out = reader.feed(data)
    assert len(out) == 1 and isinstance(out[0], p.Malformed)
    assert reader.feed(enc.publish("a", b"b")) == []  # stays broken


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=200), cuts=st.lists(st.integers(0, 200), max_size=6))
def test_packet_reader_never_raises_on_random_bytes(data: bytes, cuts: list[int]) -> None:
    reader = p.PacketReader()
    bounds = [0, *sorted(c for c in cuts if c <= len(data)), len(data)]
    out: list[object] = []
    for a, b in itertools.pairwise(bounds):
        out += reader.feed(data[a:b])
    assert all(not isinstance(x, p.Malformed) for x in out[:-1])


@settings(max_examples=200, deadline=None)
@given(cuts=st.lists(st.integers(0, len(SAMPLE)), max_size=8))
def test_packet_reader_same_packets_however_split(cuts: list[int]) -> None:
    reader = p.PacketReader()
    bounds = [0, *sorted(cuts), len(SAMPLE)]
    out: list[object] = []
    for a, b in itertools.pairwise(bounds):
        out += reader.feed(SAMPLE[a:b])
    assert out == SAMPLE_PACKETS


def test_packet_reader_refuses_oversized_packet() -> None:
    out = p.PacketReader(max_packet=100).feed(enc.publish("a", b"x" * 200))
    assert isinstance(out[0], p.Malformed) and "cap" in out[0].reason


@pytest.mark.parametrize(
    ("filt", "topic", "expected"),
    [
        ("a/b", "a/b", True),
        ("a/+", "a/b", True),
        ("a/+", "a/b/c", False),
        ("a/#", "a", True),
        ("a/#", "a/b/c", True),
        ("+/+", "/x", True),
        ("#", "$SYS/broker", False),
        ("+/broker", "$SYS/broker", False),
        ("$SYS/#", "$SYS/broker", True),
        ("a/b", "a/b/", False),
    ],
)
def test_topic_filter_matches(filt: str, topic: str, expected: bool) -> None:
    assert matches(split(filt), split(topic)) is expected


def test_topic_filter_validation() -> None:
    assert p.valid_topic_filter("a/+/#")
    assert not p.valid_topic_filter("a/#/b")
    assert not p.valid_topic_filter("a/b+")
    assert not p.valid_topic_filter("")


# ---- real paho clients against the broker -------------------------------------

@pytest.fixture
def embedded() -> Iterator[EmbeddedBroker]:
    b = EmbeddedBroker()
    b.start()
    yield b
    b.stop()


def client(port: int, client_id: str = "", keepalive: int = 30) -> mqtt.Client:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
    connected = threading.Event()
    c.on_connect = lambda cl, u, f, rc, pr=None: connected.set() if rc == 0 else None
    c.connect("127.0.0.1", port, keepalive=keepalive)
    c.loop_start()
    assert connected.wait(10), "paho client did not connect"
    return c


def stop(c: mqtt.Client) -> None:
    c.disconnect()
    c.loop_stop()


def test_embedded_pubsub_with_wildcards(embedded: EmbeddedBroker) -> None:
    sub = Subscriber(embedded.port).connect()
    sub.subscribe("pi2mqtt/+/temp")
    sub.subscribe("other/#")
    pub = client(embedded.port)
    for topic in ("pi2mqtt/a/temp", "pi2mqtt/a/hum", "pi2mqtt/a/temp/x", "other", "other/1/2", "x/y"):
        pub.publish(topic, topic.encode(), qos=1).wait_for_publish(10)
    pub.publish("other/end", b"end", qos=1).wait_for_publish(10)
    sub.wait_topic("other/end")
    assert [m.topic for m in sub.messages] == ["pi2mqtt/a/temp", "other", "other/1/2", "other/end"]
    stop(pub)
    sub.close()


def test_embedded_retained_reaches_late_subscriber_and_empty_clears(embedded: EmbeddedBroker) -> None:
    pub = client(embedded.port)
    pub.publish("dev/status", b"online", qos=1, retain=True).wait_for_publish(10)
    pub.publish("dev/gone", b"x", qos=1, retain=True).wait_for_publish(10)
    pub.publish("dev/gone", b"", qos=1, retain=True).wait_for_publish(10)
    sub = Subscriber(embedded.port).connect()
    sub.subscribe("dev/#")
    msg = sub.wait_topic("dev/status")
    assert msg.retain and msg.payload == b"online"
    pub.publish("dev/status", b"live", qos=1, retain=True).wait_for_publish(10)
    live = sub.wait_topic("dev/status", where=lambda m: m.payload == b"live")
    assert not live.retain  # forwarded to an existing subscription: RETAIN cleared
    assert sub.on("dev/gone") == []
    stop(pub)
    sub.close()


def test_embedded_will_on_abrupt_close_not_on_disconnect(embedded: EmbeddedBroker) -> None:
    sub = Subscriber(embedded.port).connect()
    sub.subscribe("dev/+/status")
    clean = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="clean")
    clean.will_set("dev/clean/status", "offline", qos=1, retain=True)
    clean.connect("127.0.0.1", embedded.port)
    clean.loop_start()
    clean.publish("dev/clean/status", "online", qos=1).wait_for_publish(10)
    stop(clean)
    # An abrupt close: raw CONNECT with a will, then the socket just goes away.
    will = p.Will("dev/raw/status", b"offline", 1, True)
    with socket.create_connection(("127.0.0.1", embedded.port), timeout=10) as s:
        s.sendall(enc.connect("raw", will=will))
        assert s.recv(4) == enc.connack(False, 0)
    got = sub.wait_topic("dev/raw/status")
    assert got.payload == b"offline"
    # The same with a paho client whose socket is cut under it.
    cut = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="cut")
    cut.will_set("dev/cut/status", "offline", qos=1, retain=True)
    cut.reconnect_delay_set(60, 120)
    cut.connect("127.0.0.1", embedded.port)
    cut.loop_start()
    cut.publish("dev/cut/status", "online", qos=1).wait_for_publish(10)
    sock = cut.socket()
    assert isinstance(sock, socket.socket)
    sock.shutdown(socket.SHUT_RDWR)
    assert sub.wait_topic("dev/cut/status", where=lambda m: m.payload == b"offline").qos == 1
    cut.loop_stop()
    assert [m.payload for m in sub.on("dev/clean/status")] == [b"online"]


def test_embedded_qos1_round_trip_and_granted_qos(embedded: EmbeddedBroker) -> None:
    sub = Subscriber(embedded.port).connect()
    sub.subscribe("q/1", qos=1)
    sub.subscribe("q/0", qos=0)
    pub = client(embedded.port)
    info = pub.publish("q/1", b"one", qos=1)
    info.wait_for_publish(10)
    assert info.is_published()
    pub.publish("q/0", b"zero", qos=1).wait_for_publish(10)
    pub.publish("q/1", b"two", qos=2).wait_for_publish(10)  # QoS 2 accepted, delivered at 1
    assert sub.wait_topic("q/1").qos == 1
    assert sub.wait_topic("q/0").qos == 0
    assert sub.wait_topic("q/1", where=lambda m: m.payload == b"two").qos == 1
    stop(pub)
    sub.close()


@pytest.mark.parametrize("qos", [0, 1])
def test_embedded_many_messages_arrive_in_order(embedded: EmbeddedBroker, qos: int) -> None:
    # One QoS per run: paho itself sends QoS 0 ahead of QoS 1 messages waiting for inflight room.
    sub = Subscriber(embedded.port).connect()
    sub.subscribe("seq/#", qos=1)
    pub = client(embedded.port)
    n = 2000
    infos = [pub.publish(f"seq/{i % 3}", str(i).encode(), qos=qos) for i in range(n)]
    infos[-1].wait_for_publish(10)
    got = sub.wait_count(lambda m: m.topic.startswith("seq/"), n, timeout=20)
    assert [int(m.payload) for m in got] == list(range(n))
    stop(pub)
    sub.close()


def test_embedded_keepalive_timeout_drops_silent_client(embedded: EmbeddedBroker) -> None:
    sub = Subscriber(embedded.port).connect()
    sub.subscribe("ka/status")
    will = p.Will("ka/status", b"timed out", 0, False)
    with socket.create_connection(("127.0.0.1", embedded.port), timeout=10) as s:
        s.sendall(enc.connect("silent", keepalive=1, will=will))
        assert s.recv(4) == enc.connack(False, 0)
        started = time.monotonic()
        assert s.recv(10) == b""  # the broker closes after 1.5 x keepalive
        assert time.monotonic() - started >= 1.0
    sub.wait_topic("ka/status")
    assert embedded.stats.keepalive_timeouts == 1


def test_embedded_malformed_bytes_close_only_that_client(embedded: EmbeddedBroker) -> None:
    sub = Subscriber(embedded.port).connect()
    sub.subscribe("ok/#")
    for junk in (
        b"\xff" * 64,
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",  # not a CONNECT: closed at the first byte
        enc.connect("j") + b"\x30\x02\x00\x05",  # topic length beyond the body
    ):
        with socket.create_connection(("127.0.0.1", embedded.port), timeout=10) as s:
            s.sendall(junk)
            try:
                while s.recv(100):
                    pass
            except ConnectionResetError:
                pass
    pub = client(embedded.port)
    pub.publish("ok/still", b"alive", qos=1).wait_for_publish(10)
    assert sub.wait_topic("ok/still").payload == b"alive"
    stop(pub)
    sub.close()


def test_embedded_client_id_takeover(embedded: EmbeddedBroker) -> None:
    first = client(embedded.port, client_id="same")
    gone = threading.Event()
    first.on_disconnect = lambda *a: gone.set()
    first.reconnect_delay_set(60, 120)  # keep it from fighting back during the test
    second = client(embedded.port, client_id="same")
    assert gone.wait(10)
    assert second.is_connected()
    stop(second)
    stop(first)


def test_embedded_refuses_unknown_protocol_level_with_version_code(embedded: EmbeddedBroker) -> None:
    with socket.create_connection(("127.0.0.1", embedded.port), timeout=10) as s:
        s.sendall(enc.connect("v6", level=6))
        assert s.recv(4) == enc.connack(False, enc.REFUSED_PROTOCOL_VERSION)
        assert s.recv(4) == b""


def test_embedded_port_in_use_is_a_broker_error(embedded: EmbeddedBroker) -> None:
    with pytest.raises(BrokerError, match="cannot listen"):
        EmbeddedBroker(port=embedded.port).start()


def test_embedded_connect_split_over_many_writes(embedded: EmbeddedBroker) -> None:
    data = enc.connect("slow") + enc.subscribe(1, [("s/#", 0)])
    with socket.create_connection(("127.0.0.1", embedded.port), timeout=10) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(data)):
            s.sendall(data[i:i + 1])
        got = b""
        while len(got) < 9:
            chunk = s.recv(100)
            assert chunk
            got += chunk
    assert got == enc.connack(False, 0) + enc.suback(1, [0])


def test_embedded_broker_as_a_process_prints_url_and_stops_on_sigterm() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "device.broker"], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("listening on mqtt://127.0.0.1:")
        port = int(line.rsplit(":", 1)[1])
        sub = Subscriber(port).connect()
        sub.subscribe("p/#")
        sub.publish("p/x", b"1")
        assert sub.wait_topic("p/x").payload == b"1"
        sub.close()
        proc.terminate()
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


# ---- MQTT 5 clients ----------------------------------------------------------------

class V5Client:
    """A paho MQTT 5 client that records messages (with properties) and awaits them."""

    def __init__(self, port: int, client_id: str = "", will: tuple[str, bytes] | None = None) -> None:
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        if will:
            self.client.will_set(will[0], will[1], qos=1)
        self.cond = threading.Condition()
        self.messages: list[mqtt.MQTTMessage] = []
        self.acks: dict[int, Any] = {}
        self.connack_props: Any = None
        connected = threading.Event()

        def on_connect(c: Any, u: Any, f: Any, rc: Any, props: Any = None) -> None:
            self.connack_props = props
            if rc == 0:
                connected.set()

        def on_message(c: Any, u: Any, m: mqtt.MQTTMessage) -> None:
            with self.cond:
                self.messages.append(m)
                self.cond.notify_all()

        def on_ack(c: Any, u: Any, mid: int, rcs: Any, props: Any = None) -> None:
            with self.cond:
                self.acks[mid] = rcs
                self.cond.notify_all()

        self.client.on_connect = on_connect
        self.client.on_message = on_message
        self.client.on_subscribe = on_ack
        self.client.on_unsubscribe = on_ack
        self.client.connect("127.0.0.1", port, keepalive=30)
        self.client.loop_start()
        assert connected.wait(10), "MQTT 5 client did not connect"

    def wait(self, what: Any, timeout: float = 10.0) -> None:
        with self.cond:
            assert self.cond.wait_for(what, timeout), "timed out"

    def subscribe(self, topic: str, **opts: Any) -> Any:
        _, mid = self.client.subscribe(topic, options=mqtt.SubscribeOptions(**opts))
        self.wait(lambda: mid in self.acks)
        return self.acks[mid]

    def topic(self, topic: str) -> mqtt.MQTTMessage:
        self.wait(lambda: any(m.topic == topic for m in self.messages))
        return next(m for m in self.messages if m.topic == topic)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_embedded_mqtt5_properties_forwarded_to_v5_and_dropped_for_v311(embedded: EmbeddedBroker) -> None:
    v5 = V5Client(embedded.port)
    v5.subscribe("cmd/#", qos=1)
    v3 = Subscriber(embedded.port).connect()
    v3.subscribe("cmd/#")
    pub = V5Client(embedded.port)
    props = Properties(PacketTypes.PUBLISH)
    props.ResponseTopic = "cmd/reply"
    props.CorrelationData = b"\x01\x02"
    props.UserProperty = [("k", "v")]
    pub.client.publish("cmd/tune", b'{"value": 98.5}', qos=1, properties=props).wait_for_publish(10)
    got = v5.topic("cmd/tune")
    assert got.payload == b'{"value": 98.5}' and got.qos == 1
    assert got.properties.ResponseTopic == "cmd/reply"
    assert got.properties.CorrelationData == b"\x01\x02"
    assert got.properties.UserProperty == [("k", "v")]
    assert v3.wait_topic("cmd/tune").payload == b'{"value": 98.5}'
    for c in (v5, pub):
        c.close()
    v3.close()


def test_embedded_mqtt5_no_local_and_retain_options(embedded: EmbeddedBroker) -> None:
    me = V5Client(embedded.port)
    me.subscribe("nl/#", qos=1, noLocal=True)
    other = V5Client(embedded.port)
    other.subscribe("nl/#", qos=1, retainAsPublished=True)
    me.client.publish("nl/x", b"mine", qos=1, retain=True).wait_for_publish(10)
    assert other.topic("nl/x").retain  # Retain As Published keeps the flag on a live forward
    late = V5Client(embedded.port)
    late.subscribe("nl/#", qos=1, retainHandling=2)  # do not send retained
    late.subscribe("nl/end", qos=1)
    other.client.publish("nl/end", b"end", qos=1).wait_for_publish(10)
    me.topic("nl/end")
    late.topic("nl/end")
    assert [m.topic for m in me.messages] == ["nl/end"]  # its own nl/x was not echoed
    assert [m.topic for m in late.messages] == ["nl/end"]
    for c in (me, other, late):
        c.close()


def test_embedded_mqtt5_assigned_client_id_and_unsubscribe_codes(embedded: EmbeddedBroker) -> None:
    c = V5Client(embedded.port)
    assert c.connack_props.AssignedClientIdentifier.startswith("pi2mqtt-embedded-")
    c.subscribe("u/1", qos=0)
    _, mid = c.client.unsubscribe(["u/1", "u/never"])
    c.wait(lambda: mid in c.acks)
    assert [int(rc.value) for rc in c.acks[mid]] == [0, 0x11]
    c.close()


def test_embedded_mqtt5_disconnect_with_will_reason_sends_will(embedded: EmbeddedBroker) -> None:
    sub = Subscriber(embedded.port).connect()
    sub.subscribe("w5/#")
    c = V5Client(embedded.port, client_id="w5", will=("w5/status", b"offline"))
    c.client.disconnect(reasoncode=ReasonCode(PacketTypes.DISCONNECT, identifier=0x04))
    c.client.loop_stop()
    assert sub.wait_topic("w5/status").payload == b"offline"
    sub.close()
