"""The embedded broker: its packet codec and topic matching, then real paho clients against it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from device.broker import EmbeddedBroker
from device.broker import packets as p
from device.broker.topics import matches, split
from device.errors import BrokerError
from tests.mqttwait import Subscriber

# ---- codec -------------------------------------------------------------------

SAMPLE = (
    p.encode_connect("dev-1", keepalive=30, will=p.Will("pi2mqtt/x/status", b"offline", 1, True))
    + p.encode_subscribe(7, [("a/+/c", 1), ("#", 0)])
    + p.encode_publish("a/b/c", b"x" * 300, qos=1, retain=True, packet_id=9)
    + bytes((0xC0, 0)) + bytes((0xE0, 0))
)
SAMPLE_PACKETS = [
    p.Connect("MQTT", 4, "dev-1", True, 30, p.Will("pi2mqtt/x/status", b"offline", 1, True)),
    p.Subscribe(7, (("a/+/c", 1), ("#", 0))),
    p.Publish("a/b/c", b"x" * 300, 1, True, False, 9),
    p.PingReq(),
    p.Disconnect(),
]


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
        p.encode_publish("a/+", b"x"),                # wildcard in a topic name
        bytes((0x30, 0x04, 0x00, 0x02, 0xC3, 0x28)),  # invalid UTF-8 topic
        bytes((0x36, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01)),  # QoS 3
    ],
)
def test_packet_reader_reports_garbage_without_raising(data: bytes) -> None:
    reader = p.PacketReader()
    out = reader.feed(data)
    assert len(out) == 1 and isinstance(out[0], p.Malformed)
    assert reader.feed(p.encode_publish("a", b"b")) == []  # stays broken


def test_packet_reader_refuses_oversized_packet() -> None:
    out = p.PacketReader(max_packet=100).feed(p.encode_publish("a", b"x" * 200))
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
        s.sendall(p.encode_connect("raw", will=will))
        assert s.recv(4) == p.encode_connack(False, 0)
    got = sub.wait_topic("dev/raw/status")
    assert got.payload == b"offline"
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
        s.sendall(p.encode_connect("silent", keepalive=1, will=will))
        assert s.recv(4) == p.encode_connack(False, 0)
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
        p.encode_connect("j") + b"\x30\x02\x00\x05",  # topic length beyond the body
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


def test_embedded_refuses_mqtt5_with_protocol_version_code(embedded: EmbeddedBroker) -> None:
    with socket.create_connection(("127.0.0.1", embedded.port), timeout=10) as s:
        s.sendall(p.encode_connect("v5", level=5))
        assert s.recv(4) == p.encode_connack(False, p.REFUSED_PROTOCOL_VERSION)
        assert s.recv(4) == b""


def test_embedded_port_in_use_is_a_broker_error(embedded: EmbeddedBroker) -> None:
    with pytest.raises(BrokerError, match="cannot listen"):
        EmbeddedBroker(port=embedded.port).start()


def test_embedded_connect_split_over_many_writes(embedded: EmbeddedBroker) -> None:
    data = p.encode_connect("slow") + p.encode_subscribe(1, [("s/#", 0)])
    with socket.create_connection(("127.0.0.1", embedded.port), timeout=10) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(len(data)):
            s.sendall(data[i:i + 1])
        got = b""
        while len(got) < 9:
            chunk = s.recv(100)
            assert chunk
            got += chunk
    assert got == p.encode_connack(False, 0) + p.encode_suback(1, [0])
