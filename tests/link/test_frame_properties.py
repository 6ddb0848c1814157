"""Property tests: the host decoder never raises and never yields a frame that was not sent."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from p2mfw import cobs

from device.link.frame import MAX_PAYLOAD, NEED_DATA, Frame, FrameDecoder, encode_frame
from device.link.messages import decode_message, decode_value

frames_st = st.builds(
    lambda t, s, p: (1, t, s, p),
    st.integers(1, 6),
    st.integers(0, 255),
    st.binary(max_size=MAX_PAYLOAD),
)


def _decode_all(chunks: list[bytes]) -> tuple[FrameDecoder, list[Frame]]:
    dec = FrameDecoder()
    out: list[Frame] = []
    for c in chunks:
        dec.receive_data(c)
        while (f := dec.next_frame()) is not NEED_DATA:
            assert isinstance(f, Frame)
            decode_message(f)  # must not raise either
            out.append(f)
    return dec, out


def _key(f: Frame) -> tuple[int, int, int, bytes]:
    return (f.version, f.type, f.seq, f.payload)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4000))
def test_frame_decoder_random_bytes_never_raise_or_frame(data: bytes) -> None:
    dec, frames = _decode_all([data])
    assert frames == []
    s = dec.stats()
    assert s["frames_ok"] == 0
    assert s["garbage_bytes"] <= len(data)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_frame_decoder_garbage_between_frames_loses_nothing(data: st.DataObject) -> None:
    sent = data.draw(st.lists(frames_st, max_size=8))
    stream = bytearray()
    for f in sent:
        stream += data.draw(st.binary(max_size=40))
        stream += encode_frame(*f)
    stream += data.draw(st.binary(max_size=40))
    cut = data.draw(st.lists(st.integers(0, len(stream)), max_size=6))
    chunks, last = [], 0
    for c in sorted(cut):
        chunks.append(bytes(stream[last:c]))
        last = c
    chunks.append(bytes(stream[last:]))
    _dec, got = _decode_all(chunks)
    assert [_key(f) for f in got] == sent


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_frame_decoder_mutated_streams_yield_only_sent_frames(data: st.DataObject) -> None:
    sent = data.draw(st.lists(frames_st, min_size=1, max_size=6))
    stream = bytearray(b"".join(encode_frame(*f) for f in sent))
    for _ in range(data.draw(st.integers(1, 8))):
        op = data.draw(st.sampled_from(["flip", "drop", "insert"]))
        i = data.draw(st.integers(0, max(0, len(stream) - 1)))
        if op == "flip" and stream:
            stream[i] ^= data.draw(st.integers(1, 255))
        elif op == "drop" and stream:
            del stream[i]
        else:
            stream[i:i] = data.draw(st.binary(min_size=1, max_size=5))
    bytewise = data.draw(st.booleans())
    chunks = [bytes(stream[i : i + 1]) for i in range(len(stream))] if bytewise else [bytes(stream)]
    _dec, got = _decode_all(chunks)
    sent_keys = [tuple(f) for f in sent]
    for f in got:
        assert _key(f) in sent_keys


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600))
def test_cobs_roundtrip_and_no_zero(data: bytes) -> None:
    enc = cobs.encode(data)
    assert 0 not in enc
    assert cobs.decode(enc) == data


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_value_decoder_raises_only_value_error(data: bytes) -> None:
    try:
        decode_value(data)
    except ValueError:
        pass
