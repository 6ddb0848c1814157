"""The firmware codec against the golden wire vectors (CPython and MicroPython).

The vectors are tests/vectors/link_vectors.json, embedded below because the
MicroPython harness copies only .py files; tests/link/test_vectors.py checks
that this copy equals the JSON file.
"""

import json
import struct

from p2mfw import proto
from p2mfw.cobs import decode as cobs_decode
from p2mfw.cobs import encode as cobs_encode
from p2mfw.frame import FrameDecoder, encode_frame


def _h(s):
    return bytes.fromhex(s) if s else b""


def _value(v):
    if isinstance(v, dict):
        if list(v.keys()) == ["$bytes"]:
            return _h(v["$bytes"])
        if list(v.keys()) == ["$f64"]:
            return struct.unpack("<d", _h(v["$f64"]))[0]
        return {k: _value(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_value(x) for x in v]
    return v


def _vectors():
    return json.loads(VECTORS_JSON)


def _feed(data, bytewise):
    dec = FrameDecoder()
    frames = []
    if bytewise:
        for i in range(len(data)):
            frames += dec.feed(data[i:i + 1])
    else:
        frames += dec.feed(data)
    return dec, frames


def test_link_vectors_cobs_encode_and_decode():
    for v in _vectors()["cobs"]:
        assert cobs_encode(_h(v["decoded"])) == _h(v["encoded"]), v["name"]
        assert cobs_decode(_h(v["encoded"])) == _h(v["decoded"]), v["name"]


def test_link_vectors_values_encode_and_decode():
    for v in _vectors()["values"]:
        value = _value(v["value"])
        assert proto.encode_value(value) == _h(v["encoded"]), v["name"]
        assert proto.decode_value(_h(v["encoded"])) == value, v["name"]


def test_link_vectors_frames_encode():
    for v in _vectors()["frames"]:
        wire = encode_frame(v["version"], v["type"], v["seq"], _h(v["payload"]))
        assert wire == _h(v["wire"]), v["name"]


def test_link_vectors_frames_decode_whole_and_bytewise():
    for v in _vectors()["frames"]:
        for bytewise in (False, True):
            _dec, frames = _feed(_h(v["wire"]), bytewise)
            assert len(frames) == 1, v["name"]
            version, mtype, seq, payload, _crc = frames[0]
            assert (version, mtype, seq, payload) == (v["version"], v["type"], v["seq"], _h(v["payload"]))


def test_link_vectors_streams_whole_and_bytewise():
    for v in _vectors()["streams"]:
        want = []
        for w in v["frames"]:
            _d, fr = _feed(_h(w), False)
            want += [f[:4] for f in fr]
        for bytewise in (False, True):
            dec, frames = _feed(_h(v["stream"]), bytewise)
            assert [f[:4] for f in frames] == want, v["name"]
            assert dec.stats() == v["counters"], (v["name"], dec.stats())


def _encode_msg(fields):
    kind = fields["kind"]
    if kind == "hello":
        return proto.HELLO, proto.hello_payload(fields["major"], fields["minor"], fields["max_frame"])
    if kind == "hello_ack":
        return proto.HELLO_ACK, proto.hello_ack_payload(
            fields["major"], fields["minor"], fields["max_frame"], fields["boot_id"],
            fields["fw"], fields["caps"])
    if kind == "request":
        return proto.REQUEST, proto.request_payload(fields["method"], _value(fields["args"]))
    if kind == "response":
        return proto.RESPONSE, proto.response_payload(_value(fields["result"]))
    if kind == "error":
        return proto.ERROR, proto.error_payload(fields["code"], fields["message"])
    return proto.EVENT, proto.event_payload(fields["name"], _value(fields["data"]))


def test_link_vectors_messages_encode():
    for v in _vectors()["messages"]:
        mtype, payload = _encode_msg(v["fields"])
        assert encode_frame(proto.PROTO_MAJOR, mtype, v["seq"], payload) == _h(v["wire"]), v["name"]


def test_link_vectors_requests_parse():
    for v in _vectors()["messages"]:
        f = v["fields"]
        if f["kind"] != "request":
            continue
        _d, frames = _feed(_h(v["wire"]), True)
        method, args = proto.parse_request(frames[0][3])
        assert method == f["method"] and args == _value(f["args"]), v["name"]


# --- generated below by `python -m tests.link.vectorgen`
VECTORS_JSON = r'''{
 "about": "Golden wire vectors for the pi2mqtt link; see docs/protocol.md. Hex strings; {'$bytes': hex} and {'$f64': hex of an IEEE double} wrap values JSON lacks.",
 "cobs": [
  {
   "name": "one zero",
   "decoded": "00",
   "encoded": "0101"
  },
  {
   "name": "two zeros",
   "decoded": "0000",
   "encoded": "010101"
  },
  {
   "name": "zero in the middle",
   "decoded": "11220033",
   "encoded": "0311220233"
  },
  {
   "name": "no zero",
   "decoded": "11223344",
   "encoded": "0511223344"
  },
  {
   "name": "trailing zeros",
   "decoded": "11000000",
   "encoded": "0211010101"
  },
  {
   "name": "254 non-zero",
   "decoded": "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfe",
   "encoded": "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfe"
  },
  {
   "name": "zero then 254",
   "decoded": "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfe",
   "encoded": "01ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfe"
  },
  {
   "name": "255 non-zero",
   "decoded": "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
   "encoded": "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfe02ff"
  },
  {
   "name": "254 then zero",
   "decoded": "02030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff00",
   "encoded": "ff02030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff0101"
  },
  {
   "name": "253, zero, one",
   "decoded": "030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff0001",
   "encoded": "fe030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff0201"
  },
  {
   "name": "empty",
   "decoded": "",
   "encoded": "01"
  }
 ],
 "values": [
  {
   "name": "none",
   "value": null,
   "encoded": "00"
  },
  {
   "name": "false",
   "value": false,
   "encoded": "01"
  },
  {
   "name": "true",
   "value": true,
   "encoded": "02"
  },
  {
   "name": "zero",
   "value": 0,
   "encoded": "0300"
  },
  {
   "name": "small int",
   "value": 5,
   "encoded": "030a"
  },
  {
   "name": "negative int",
   "value": -3,
   "encoded": "0305"
  },
  {
   "name": "int 300",
   "value": 300,
   "encoded": "03d804"
  },
  {
   "name": "int -65536",
   "value": -65536,
   "encoded": "03ffff07"
  },
  {
   "name": "int64 max",
   "value": 9223372036854775807,
   "encoded": "03feffffffffffffffff01"
  },
  {
   "name": "int64 min",
   "value": -9223372036854775808,
   "encoded": "03ffffffffffffffffff01"
  },
  {
   "name": "f32",
   "value": 1.5,
   "encoded": "040000c03f"
  },
  {
   "name": "f32 negative",
   "value": -0.25,
   "encoded": "04000080be"
  },
  {
   "name": "f64",
   "value": {
    "$f64": "000040000000f03f"
   },
   "encoded": "05000040000000f03f"
  },
  {
   "name": "str",
   "value": "bme280",
   "encoded": "0606626d65323830"
  },
  {
   "name": "str utf-8",
   "value": "Gr\u00fc\u00dfe",
   "encoded": "06074772c3bcc39f65"
  },
  {
   "name": "empty str",
   "value": "",
   "encoded": "0600"
  },
  {
   "name": "bytes",
   "value": {
    "$bytes": "0001ff"
   },
   "encoded": "07030001ff"
  },
  {
   "name": "list",
   "value": [
    1,
    "a",
    null
   ],
   "encoded": "0803030206016100"
  },
  {
   "name": "map",
   "value": {
    "t": 2345,
    "h": 45.5,
    "ok": true
   },
   "encoded": "090301680400003642026f6b02017403d224"
  },
  {
   "name": "nested",
   "value": {
    "rds": {
     "a": 4660,
     "blocks": [
      1,
      2,
      3
     ]
    },
    "raw": {
     "$bytes": "0000"
    }
   },
   "encoded": "09020372617707020000037264730902016103e84806626c6f636b730803030203040306"
  }
 ],
 "frames": [
  {
   "name": "request frame",
   "version": 1,
   "type": 3,
   "seq": 7,
   "payload": "0b626d653238302e726561640900",
   "wire": "00110103070b626d653238302e72656164090525bf77a300"
  },
  {
   "name": "empty event seq 0",
   "version": 1,
   "type": 6,
   "seq": 0,
   "payload": "",
   "wire": "0003010605a314d9a800"
  },
  {
   "name": "max payload",
   "version": 1,
   "type": 4,
   "seq": 255,
   "payload": "abababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababab",
   "wire": "00fe0104ffabababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababab58c5b87800"
  }
 ],
 "messages": [
  {
   "name": "hello",
   "seq": 1,
   "fields": {
    "kind": "hello",
    "major": 1,
    "minor": 0,
    "max_frame": 256
   },
   "wire": "0005010101010106012c799c0200"
  },
  {
   "name": "hello_ack",
   "seq": 1,
   "fields": {
    "kind": "hello_ack",
    "major": 1,
    "minor": 0,
    "max_frame": 256,
    "boot_id": 3735928559,
    "fw": "0.1.0",
    "caps": [
     "bme280",
     "rda5807m"
    ]
   },
   "wire": "000501020101012f01efbeadde0902046361707308020606626d653238300608726461353830376d0266770605302e312e308ab7a56100"
  },
  {
   "name": "request",
   "seq": 7,
   "fields": {
    "kind": "request",
    "method": "bme280.read",
    "args": {}
   },
   "wire": "00110103070b626d653238302e72656164090525bf77a300"
  },
  {
   "name": "request with args",
   "seq": 8,
   "fields": {
    "kind": "request",
    "method": "fm.tune",
    "args": {
     "mhz": 98.5
    }
   },
   "wire": "001301030807666d2e74756e650901036d687a040107c54272fd702500"
  },
  {
   "name": "request no args",
   "seq": 9,
   "fields": {
    "kind": "request",
    "method": "link.ping",
    "args": null
   },
   "wire": "000e010309096c696e6b2e70696e6705b6aefe8a00"
  },
  {
   "name": "response",
   "seq": 7,
   "fields": {
    "kind": "response",
    "result": {
     "t": 2345,
     "p": 100653,
     "h": 4512
    }
   },
   "wire": "001a0104070903016803c046017003daa40c017403d224cd2654e500"
  },
  {
   "name": "response none",
   "seq": 9,
   "fields": {
    "kind": "response",
    "result": null
   },
   "wire": "000401040905ecab334f00"
  },
  {
   "name": "error",
   "seq": 8,
   "fields": {
    "kind": "error",
    "code": "unknown_method",
    "message": "fm.tune"
   },
   "wire": "001e0105080e756e6b6e6f776e5f6d6574686f64666d2e74756e650f546b7a00"
  },
  {
   "name": "event",
   "seq": 0,
   "fields": {
    "kind": "event",
    "name": "rds",
    "data": {
     "a": 4660,
     "b": 1032,
     "c": 57549,
     "d": 16706
    }
   },
   "wire": "0003010621037264730904016103e84801620390100163039a830701640384850208cbbd4800"
  },
  {
   "name": "boot event",
   "seq": 0,
   "fields": {
    "kind": "event",
    "name": "link.boot",
    "data": {
     "boot": 42,
     "fw": "0.1.0"
    }
   },
   "wire": "0003010622096c696e6b2e626f6f74090204626f6f7403540266770605302e312e30e9e537dc00"
  }
 ],
 "streams": [
  {
   "name": "garbage before and after a frame",
   "stream": "4142430000110103070b626d653238302e72656164090525bf77a300ffff",
   "frames": [
    "00110103070b626d653238302e72656164090525bf77a300"
   ],
   "counters": {
    "frames_ok": 1,
    "crc_errors": 0,
    "cobs_errors": 1,
    "oversize": 0,
    "garbage_bytes": 3
   }
  },
  {
   "name": "corrupted frame then a good one",
   "stream": "00110103070a626d653238302e72656164090525bf77a3000003010605a314d9a800",
   "frames": [
    "0003010605a314d9a800"
   ],
   "counters": {
    "frames_ok": 1,
    "crc_errors": 1,
    "cobs_errors": 0,
    "oversize": 0,
    "garbage_bytes": 22
   }
  },
  {
   "name": "oversize run then a good frame",
   "stream": "0001010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010101010100110103070b626d653238302e72656164090525bf77a300",
   "frames": [
    "00110103070b626d653238302e72656164090525bf77a300"
   ],
   "counters": {
    "frames_ok": 1,
    "crc_errors": 0,
    "cobs_errors": 0,
    "oversize": 1,
    "garbage_bytes": 300
   }
  },
  {
   "name": "runt (valid COBS, too short)",
   "stream": "0004010203000003010605a314d9a800",
   "frames": [
    "0003010605a314d9a800"
   ],
   "counters": {
    "frames_ok": 1,
    "crc_errors": 0,
    "cobs_errors": 1,
    "oversize": 0,
    "garbage_bytes": 4
   }
  },
  {
   "name": "idle delimiters only",
   "stream": "000000",
   "frames": [],
   "counters": {
    "frames_ok": 0,
    "crc_errors": 0,
    "cobs_errors": 0,
    "oversize": 0,
    "garbage_bytes": 0
   }
  }
 ]
}
'''
