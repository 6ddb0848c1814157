"""The firmware's LinkServer driven through an in-memory port (CPython and MicroPython)."""

from p2mfw import proto
from p2mfw.compat import sleep_ms
from p2mfw.frame import FrameDecoder, encode_frame
from p2mfw.server import LinkServer


class MemPort:
    """A port whose input the test fills and whose output the test decodes."""

    def __init__(self):
        self.inbox = bytearray()
        self.out = bytearray()

    def read(self, n):
        if not self.inbox:
            return None
        data = bytes(self.inbox[:n])
        self.inbox = self.inbox[n:]
        return data

    def write(self, buf):
        self.out += buf
        return len(buf)


def _server(**kw):
    port = MemPort()
    server = LinkServer(port, fw_version="9.9.9", caps=["test"], boot_id=1234, **kw)
    server.poll()  # announces the boot
    port.out = bytearray()
    return server, port


def _replies(port):
    frames = FrameDecoder().feed(bytes(port.out))
    port.out = bytearray()
    return frames


def _send(server, port, mtype, seq, payload, version=proto.PROTO_MAJOR, bytewise=False):
    wire = encode_frame(version, mtype, seq, payload)
    if bytewise:
        for i in range(len(wire)):
            port.inbox += wire[i:i + 1]
            server.poll()
    else:
        port.inbox += wire
        server.poll()
    return _replies(port)


def _hello(server, port, seq=1):
    return _send(server, port, proto.HELLO, seq, proto.hello_payload(1, 0, 256))


def _call(server, port, seq, method, args=None, bytewise=False):
    frames = _send(server, port, proto.REQUEST, seq, proto.request_payload(method, args),
                   bytewise=bytewise)
    assert len(frames) == 1, frames
    return frames[0]


def _error(frame):
    payload = frame[3]
    n = payload[0]
    return payload[1:1 + n].decode(), payload[1 + n:].decode()


def test_link_server_announces_boot_on_first_poll():
    port = MemPort()
    server = LinkServer(port, fw_version="1.2.3", boot_id=77)
    server.poll()
    frames = FrameDecoder().feed(bytes(port.out))
    assert len(frames) == 1
    version, mtype, seq, payload, _crc = frames[0]
    assert (version, mtype, seq) == (proto.PROTO_MAJOR, proto.EVENT, 0)
    assert payload == proto.event_payload("link.boot", {"boot": 77, "fw": "1.2.3"})


def test_link_server_hello_ack_states_version_and_caps():
    server, port = _server()
    server.add_capability("bme280")
    frames = _hello(server, port, seq=5)
    assert len(frames) == 1
    _version, mtype, seq, payload, _crc = frames[0]
    assert (mtype, seq) == (proto.HELLO_ACK, 5)
    assert payload == proto.hello_ack_payload(1, 0, 256, 1234, "9.9.9", ["test", "bme280"])


def test_link_server_refuses_requests_before_hello():
    server, port = _server()
    server.register("echo", lambda args: args)
    frame = _call(server, port, 3, "echo", {"x": 1})
    assert frame[1] == proto.ERROR
    assert _error(frame)[0] == "hello_required"


def test_link_server_answers_request_whole_and_bytewise():
    for bytewise in (False, True):
        server, port = _server()
        server.register("echo", lambda args: args)
        _hello(server, port)
        frame = _call(server, port, 9, "echo", {"x": 1, "s": "hi"}, bytewise=bytewise)
        assert (frame[1], frame[2]) == (proto.RESPONSE, 9)
        assert proto.decode_value(frame[3]) == {"x": 1, "s": "hi"}


def test_link_server_maps_handler_failures_to_error_codes():
    server, port = _server()

    def fw_error(args):
        raise server.FwError("bad_freq", "98.0 is outside the band")

    def io_error(args):
        raise OSError(5)

    def bug(args):
        return 1 // 0

    server.register("fw", fw_error)
    server.register("io", io_error)
    server.register("bug", bug)
    server.register("big", lambda args: {"blob": b"x" * 300})
    _hello(server, port)
    assert _error(_call(server, port, 1, "fw")) == ("bad_freq", "98.0 is outside the band")
    assert _error(_call(server, port, 2, "io"))[0] == "io_error"
    assert _error(_call(server, port, 3, "bug"))[0] == "internal"
    assert _error(_call(server, port, 4, "nope"))[0] == "unknown_method"
    assert _error(_call(server, port, 5, "big"))[0] == "too_large"
    # The server still works afterwards.
    assert proto.decode_value(_call(server, port, 6, "link.ping")[3])["uptime_ms"] >= 0


def test_link_server_answers_a_retried_request_from_cache():
    server, port = _server()
    runs = []

    def count(args):
        runs.append(args)
        return {"n": len(runs)}

    server.register("count", count)
    _hello(server, port)
    first = _call(server, port, 42, "count", {"a": 1})
    again = _call(server, port, 42, "count", {"a": 1})
    assert first == again
    assert len(runs) == 1
    other = _call(server, port, 43, "count", {"a": 1})
    assert proto.decode_value(other[3]) == {"n": 2}
    stats = proto.decode_value(_call(server, port, 44, "link.stats")[3])
    assert stats["duplicates"] == 1


def test_link_server_same_seq_new_request_runs_again():
    server, port = _server()
    runs = []
    server.register("count", lambda args: runs.append(1) or {"n": len(runs)})
    _hello(server, port)
    _call(server, port, 7, "count", {"a": 1})
    _call(server, port, 7, "count", {"a": 2})  # different CRC: not a retry
    assert len(runs) == 2
    _hello(server, port)  # a new session forgets the cache
    _call(server, port, 7, "count", {"a": 2})
    assert len(runs) == 3


def test_link_server_survives_garbage_and_counts_it():
    server, port = _server()
    server.register("echo", lambda args: args)
    _hello(server, port)
    junk = bytes((i * 37 + 11) & 0xFF for i in range(3000))
    port.inbox += junk
    for _ in range(20):
        server.poll()
    port.inbox += b"\x00"
    server.poll()
    _replies(port)
    frame = _call(server, port, 10, "echo", {"ok": True})
    assert proto.decode_value(frame[3]) == {"ok": True}
    stats = proto.decode_value(_call(server, port, 11, "link.stats")[3])
    assert stats["garbage_bytes"] > 0
    assert stats["cobs_errors"] + stats["crc_errors"] + stats["oversize"] > 0


def test_link_server_counts_bad_crc():
    server, port = _server()
    _hello(server, port)
    wire = bytearray(encode_frame(1, proto.REQUEST, 3, proto.request_payload("link.ping", None)))
    wire[4] ^= 0x01
    port.inbox += wire
    server.poll()
    assert _replies(port) == []
    stats = proto.decode_value(_call(server, port, 4, "link.stats")[3])
    assert stats["crc_errors"] == 1


def test_link_server_emit_numbers_events():
    server, port = _server()
    assert server.emit("rds", {"a": 0x1234})
    assert server.emit("rds", {"a": 0x5678})
    frames = _replies(port)
    assert [f[2] for f in frames] == [1, 2]  # seq 0 was the boot event
    assert frames[0][3] == proto.event_payload("rds", {"a": 0x1234})


def test_link_server_emit_is_best_effort():
    class Broken(MemPort):
        def write(self, buf):
            raise OSError(5)

    server = LinkServer(Broken(), boot_id=1)
    server.poll()
    assert server.emit("x", {"a": 1}) is False
    assert server.emit("big", {"b": b"y" * 400}) is False
    assert server.stats()["events_dropped"] == 3  # boot, x, big


def test_link_server_runs_periodic_tasks_from_poll():
    server, _port = _server()
    ticks = []
    server.every(2, lambda: ticks.append(1))

    def broken():
        raise ValueError("driver bug")

    server.every(2, broken)
    for _ in range(20):
        sleep_ms(1)
        server.poll()
    assert 3 <= len(ticks) <= 20
    assert server.stats()["task_errors"] >= 3


def test_link_server_ignores_requests_of_another_major():
    server, port = _server()
    _hello(server, port)
    frames = _send(server, port, proto.REQUEST, 5, proto.request_payload("link.ping", None), version=2)
    assert _error(frames[0])[0] == "bad_request"
