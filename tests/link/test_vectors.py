"""The host codec against the golden wire vectors (every decoder fed whole and bytewise)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from p2mfw import cobs

from device.link.frame import NEED_DATA, Frame, FrameDecoder, encode_frame
from device.link.messages import (
    ErrorReply,
    Event,
    Hello,
    HelloAck,
    Message,
    Request,
    Response,
    decode_message,
    decode_value,
    encode_message,
    encode_value,
)
from tests.link.vectorgen import JSON_PATH, MPY_PATH, build, from_json

VECTORS: dict[str, Any] = json.loads(JSON_PATH.read_text())


def _frames(data: bytes, bytewise: bool) -> tuple[FrameDecoder, list[Frame]]:
    dec = FrameDecoder()
    out: list[Frame] = []
    chunks = [data[i : i + 1] for i in range(len(data))] if bytewise else [data]
    for chunk in chunks:
        dec.receive_data(chunk)
        while (f := dec.next_frame()) is not NEED_DATA:
            assert isinstance(f, Frame)
            out.append(f)
    return dec, out


def test_vectors_json_matches_generator_and_micropython_copy() -> None:
    assert build() == VECTORS, "run `python -m tests.link.vectorgen` after a wire change"
    text = MPY_PATH.read_text()
    embedded = text.split("VECTORS_JSON = r'''", 1)[1].rsplit("'''", 1)[0]
    assert json.loads(embedded) == VECTORS


@pytest.mark.parametrize("v", VECTORS["cobs"], ids=lambda v: v["name"])
def test_vectors_cobs(v: dict[str, str]) -> None:
    assert cobs.encode(bytes.fromhex(v["decoded"])) == bytes.fromhex(v["encoded"])
    assert cobs.decode(bytes.fromhex(v["encoded"])) == bytes.fromhex(v["decoded"])


@pytest.mark.parametrize("v", VECTORS["values"], ids=lambda v: v["name"])
def test_vectors_values(v: dict[str, Any]) -> None:
    value = from_json(v["value"])
    assert encode_value(value) == bytes.fromhex(v["encoded"])
    assert decode_value(bytes.fromhex(v["encoded"])) == value


@pytest.mark.parametrize("bytewise", [False, True], ids=["whole", "bytewise"])
@pytest.mark.parametrize("v", VECTORS["frames"], ids=lambda v: v["name"])
def test_vectors_frames(v: dict[str, Any], bytewise: bool) -> None:
    payload = bytes.fromhex(v["payload"])
    wire = bytes.fromhex(v["wire"])
    assert encode_frame(v["version"], v["type"], v["seq"], payload) == wire
    _dec, frames = _frames(wire, bytewise)
    assert [(f.version, f.type, f.seq, f.payload) for f in frames] == [
        (v["version"], v["type"], v["seq"], payload)
    ]


def _message(fields: dict[str, Any]) -> Message:
    kind = fields["kind"]
    if kind == "hello":
        return Hello(fields["major"], fields["minor"], fields["max_frame"])
    if kind == "hello_ack":
        return HelloAck(fields["major"], fields["minor"], fields["max_frame"], fields["boot_id"],
                        fields["fw"], tuple(fields["caps"]))
    if kind == "request":
        return Request(fields["method"], from_json(fields["args"]))
    if kind == "response":
        return Response(from_json(fields["result"]))
    if kind == "error":
        return ErrorReply(fields["code"], fields["message"])
    return Event(fields["name"], from_json(fields["data"]))


@pytest.mark.parametrize("bytewise", [False, True], ids=["whole", "bytewise"])
@pytest.mark.parametrize("v", VECTORS["messages"], ids=lambda v: v["name"])
def test_vectors_messages(v: dict[str, Any], bytewise: bool) -> None:
    msg = _message(v["fields"])
    wire = bytes.fromhex(v["wire"])
    assert encode_message(msg, v["seq"]) == wire
    _dec, frames = _frames(wire, bytewise)
    assert [decode_message(f) for f in frames] == [msg]
    assert frames[0].seq == v["seq"]


@pytest.mark.parametrize("bytewise", [False, True], ids=["whole", "bytewise"])
@pytest.mark.parametrize("v", VECTORS["streams"], ids=lambda v: v["name"])
def test_vectors_streams(v: dict[str, Any], bytewise: bool) -> None:
    want = [f for w in v["frames"] for f in _frames(bytes.fromhex(w), False)[1]]
    dec, frames = _frames(bytes.fromhex(v["stream"]), bytewise)
    assert frames == want
    assert dec.stats() == v["counters"]
