"""Builds tests/vectors/link_vectors.json (and its MicroPython copy) from the host codec.

Run ``python -m tests.link.vectorgen`` after a deliberate wire-format change; the
tests then hold both codecs to the new bytes. The COBS vectors are the standard
examples (Cheshire & Baker), independent of our code.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

from device.link.frame import encode_frame
from device.link.messages import (
    ErrorReply,
    Event,
    Hello,
    HelloAck,
    Request,
    Response,
    encode_message,
    encode_value,
)

ROOT = Path(__file__).resolve().parents[2]
JSON_PATH = ROOT / "tests" / "vectors" / "link_vectors.json"
MPY_PATH = ROOT / "tests" / "firmware" / "test_link_vectors.py"

STANDARD_COBS = [
    ("one zero", "00", "0101"),
    ("two zeros", "0000", "010101"),
    ("zero in the middle", "11220033", "0311220233"),
    ("no zero", "11223344", "0511223344"),
    ("trailing zeros", "11000000", "0211010101"),
    ("254 non-zero", bytes(range(1, 255)).hex(), "ff" + bytes(range(1, 255)).hex()),
    ("zero then 254", "00" + bytes(range(1, 255)).hex(), "01ff" + bytes(range(1, 255)).hex()),
    ("255 non-zero", bytes(range(1, 256)).hex(), "ff" + bytes(range(1, 255)).hex() + "02ff"),
    ("254 then zero", bytes(range(2, 256)).hex() + "00", "ff" + bytes(range(2, 256)).hex() + "0101"),
    ("253, zero, one", bytes(range(3, 256)).hex() + "0001", "fe" + bytes(range(3, 256)).hex() + "0201"),
    ("empty", "", "01"),
]


def f64(x: float) -> dict[str, str]:
    return {"$f64": struct.pack("<d", x).hex()}


def b(x: bytes) -> dict[str, str]:
    return {"$bytes": x.hex()}


def from_json(v: Any) -> Any:
    """JSON-safe vector value -> Python value ($bytes and $f64 wrappers)."""
    if isinstance(v, dict):
        if set(v) == {"$bytes"}:
            return bytes.fromhex(v["$bytes"])
        if set(v) == {"$f64"}:
            return struct.unpack("<d", bytes.fromhex(v["$f64"]))[0]
        return {k: from_json(x) for k, x in v.items()}
    if isinstance(v, list):
        return [from_json(x) for x in v]
    return v


VALUES: list[tuple[str, Any]] = [
    ("none", None),
    ("false", False),
    ("true", True),
    ("zero", 0),
    ("small int", 5),
    ("negative int", -3),
    ("int 300", 300),
    ("int -65536", -65536),
    ("int64 max", (1 << 63) - 1),
    ("int64 min", -(1 << 63)),
    ("f32", 1.5),
    ("f32 negative", -0.25),
    ("f64", f64(1.0 + 2.0**-30)),
    ("str", "bme280"),
    ("str utf-8", "Grüße"),
    ("empty str", ""),
    ("bytes", b(b"\x00\x01\xff")),
    ("list", [1, "a", None]),
    ("map", {"t": 2345, "h": 45.5, "ok": True}),
    ("nested", {"rds": {"a": 0x1234, "blocks": [1, 2, 3]}, "raw": b(b"\x00\x00")}),
]


def _msgs() -> list[tuple[str, int, Any, dict[str, Any]]]:
    return [
        ("hello", 1, Hello(1, 0, 256), {"kind": "hello", "major": 1, "minor": 0, "max_frame": 256}),
        (
            "hello_ack",
            1,
            HelloAck(1, 0, 256, 0xDEADBEEF, "0.1.0", ("bme280", "rda5807m")),
            {"kind": "hello_ack", "major": 1, "minor": 0, "max_frame": 256, "boot_id": 0xDEADBEEF,
             "fw": "0.1.0", "caps": ["bme280", "rda5807m"]},
        ),
        ("request", 7, Request("bme280.read", {}), {"kind": "request", "method": "bme280.read", "args": {}}),
        (
            "request with args",
            8,
            Request("fm.tune", {"mhz": 98.5}),
            {"kind": "request", "method": "fm.tune", "args": {"mhz": 98.5}},
        ),
        ("request no args", 9, Request("link.ping", None), {"kind": "request", "method": "link.ping", "args": None}),
        (
            "response",
            7,
            Response({"t": 2345, "p": 100653, "h": 4512}),
            {"kind": "response", "result": {"t": 2345, "p": 100653, "h": 4512}},
        ),
        ("response none", 9, Response(None), {"kind": "response", "result": None}),
        (
            "error",
            8,
            ErrorReply("unknown_method", "fm.tune"),
            {"kind": "error", "code": "unknown_method", "message": "fm.tune"},
        ),
        (
            "event",
            0,
            Event("rds", {"a": 0x1234, "b": 0x0408, "c": 0xE0CD, "d": 0x4142}),
            {"kind": "event", "name": "rds", "data": {"a": 0x1234, "b": 0x0408, "c": 0xE0CD, "d": 0x4142}},
        ),
        (
            "boot event",
            0,
            Event("link.boot", {"boot": 42, "fw": "0.1.0"}),
            {"kind": "event", "name": "link.boot", "data": {"boot": 42, "fw": "0.1.0"}},
        ),
    ]


def build() -> dict[str, Any]:
    frame_ok = encode_frame(1, 3, 7, b"\x0bbme280.read\x09\x00")
    frame_seq0 = encode_frame(1, 6, 0, b"")
    bad_crc = bytearray(frame_ok)
    bad_crc[5] ^= 0x01
    streams = [
        {
            "name": "garbage before and after a frame",
            "stream": ("41424300" + frame_ok.hex() + "ffff"),
            "frames": [frame_ok.hex()],
            "counters": {"frames_ok": 1, "crc_errors": 0, "cobs_errors": 1, "oversize": 0, "garbage_bytes": 3},
        },
        {
            "name": "corrupted frame then a good one",
            "stream": bytes(bad_crc).hex() + frame_seq0.hex(),
            "frames": [frame_seq0.hex()],
            "counters": {"frames_ok": 1, "crc_errors": 1, "cobs_errors": 0, "oversize": 0,
                         "garbage_bytes": len(frame_ok) - 2},
        },
        {
            "name": "oversize run then a good frame",
            "stream": "00" + "01" * 300 + frame_ok.hex(),
            "frames": [frame_ok.hex()],
            "counters": {"frames_ok": 1, "crc_errors": 0, "cobs_errors": 0, "oversize": 1, "garbage_bytes": 300},
        },
        {
            "name": "runt (valid COBS, too short)",
            "stream": "000401020300" + frame_seq0.hex(),
            "frames": [frame_seq0.hex()],
            "counters": {"frames_ok": 1, "crc_errors": 0, "cobs_errors": 1, "oversize": 0, "garbage_bytes": 4},
        },
        {
            "name": "idle delimiters only",
            "stream": "000000",
            "frames": [],
            "counters": {"frames_ok": 0, "crc_errors": 0, "cobs_errors": 0, "oversize": 0, "garbage_bytes": 0},
        },
    ]
    return {
        "about": "Golden wire vectors for the pi2mqtt link; see docs/protocol.md. "
                 "Hex strings; {'$bytes': hex} and {'$f64': hex of an IEEE double} wrap values JSON lacks.",
        "cobs": [{"name": n, "decoded": d, "encoded": e} for n, d, e in STANDARD_COBS],
        "values": [
            {"name": n, "value": v, "encoded": encode_value(from_json(v)).hex()} for n, v in VALUES
        ],
        "frames": [
            {"name": "request frame", "version": 1, "type": 3, "seq": 7,
             "payload": "0b626d653238302e726561640900", "wire": frame_ok.hex()},
            {"name": "empty event seq 0", "version": 1, "type": 6, "seq": 0, "payload": "",
             "wire": frame_seq0.hex()},
            {"name": "max payload", "version": 1, "type": 4, "seq": 255, "payload": "ab" * 246,
             "wire": encode_frame(1, 4, 255, b"\xab" * 246).hex()},
        ],
        "messages": [
            {"name": n, "seq": seq, "fields": fields, "wire": encode_message(m, seq).hex()}
            for n, seq, m, fields in _msgs()
        ],
        "streams": streams,
    }


def main() -> None:
    data = build()
    text = json.dumps(data, indent=1, ensure_ascii=True) + "\n"
    JSON_PATH.write_text(text)
    # The MicroPython harness copies only .py files: embed the same JSON text.
    head = MPY_PATH.read_text().split("# --- generated below")[0]
    MPY_PATH.write_text(head + "# --- generated below by `python -m tests.link.vectorgen`\nVECTORS_JSON = r'''" + text + "'''\n")
    print(f"wrote {JSON_PATH} and {MPY_PATH}")


if __name__ == "__main__":
    main()
