"""Firmware COBS, frame and value codec edge cases (CPython and MicroPython)."""

from p2mfw import proto
from p2mfw.cobs import CobsError
from p2mfw.cobs import decode as cobs_decode
from p2mfw.cobs import encode as cobs_encode
from p2mfw.frame import MAX_PAYLOAD, FrameDecoder, FrameTooLarge, encode_frame


def _lcg_bytes(n, seed):
    out = bytearray(n)
    x = seed
    for i in range(n):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        out[i] = (x >> 16) & 0xFF
    return bytes(out)


def test_link_cobs_roundtrips_every_length_and_has_no_zero():
    lengths = list(range(300))
    lengths.extend((508, 509, 600))
    for n in lengths:
        for data in (bytes(n), bytes((i % 255) + 1 for i in range(n)), _lcg_bytes(n, n)):
            enc = cobs_encode(data)
            assert enc.find(b"\x00") < 0
            assert len(enc) <= len(data) + 1 + len(data) // 254
            assert cobs_decode(enc) == data


def test_link_cobs_decode_rejects_malformed():
    for bad in (b"", b"\x05\x01", b"\x03\x00\x01", b"\x00"):
        try:
            cobs_decode(bad)
        except CobsError:
            pass
        else:
            raise AssertionError("accepted " + repr(bad))


def test_link_frame_decoder_survives_pseudo_random_garbage():
    dec = FrameDecoder()
    frames = []
    for seed in range(1, 40):
        frames += dec.feed(_lcg_bytes(997, seed))
    assert frames == []
    s = dec.stats()
    assert s["garbage_bytes"] > 0 and s["frames_ok"] == 0
    good = encode_frame(1, proto.EVENT, 3, proto.event_payload("x", None))
    assert [f[:3] for f in dec.feed(good)] == [(1, proto.EVENT, 3)]


def test_link_frame_refuses_oversized_payload():
    encode_frame(1, proto.RESPONSE, 1, b"\x01" * MAX_PAYLOAD)
    try:
        encode_frame(1, proto.RESPONSE, 1, b"\x01" * (MAX_PAYLOAD + 1))
    except FrameTooLarge:
        pass
    else:
        raise AssertionError("oversized payload accepted")


def test_link_value_decode_raises_only_proto_error():
    samples = [b"", b"\x03", b"\x03\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", b"\x04\x00",
               b"\x06\x05ab", b"\x06\x02\xff\xfe", b"\x08\x05\x00", b"\x09\x01\x01a",
               b"\x0a", b"\x00\x00"]
    samples += [_lcg_bytes(n, n * 7) for n in range(1, 60)]
    nest = b"\x08\x01" * 12 + b"\x00"
    samples.append(nest)
    for s in samples:
        try:
            proto.decode_value(s)
        except proto.ProtoError:
            pass


def test_link_value_roundtrips_floats_and_ints():
    for v in (0, 1, -1, 63, -64, 64, 2 ** 31, -(2 ** 31), 0.5, -2.0, 1e-3, 123456.789, 3.0e38):
        assert proto.decode_value(proto.encode_value(v)) == v
    assert len(proto.encode_value(0.5)) == 5  # f32 when exact
