"""Radiotext end marker (issue 10, bug 4): bytes after 0x0D in a segment are not text.

A real station sends the segment `39 0D 00 00` ("9", end of text, two stray bytes);
the text up to the 0x0D is accepted and the stray bytes are ignored.
"""

from __future__ import annotations

from device.radio.rds.decoder import RadioTextChanged, RdsDecoder

PI = 0x6204
CLEAN = (0, 0, 0, 0)


def _2a(segment: int, c: int, d: int, flag: int = 0) -> tuple[int, int, int, int]:
    return (PI, 0x2000 | flag << 4 | segment, c, d)


def _texts(dec: RdsDecoder, groups: list[tuple[int, int, int, int]]) -> list[str]:
    out: list[str] = []
    for g in groups:
        out += [e.text for e in dec.feed(*g, errors=CLEAN) if isinstance(e, RadioTextChanged)]
    return out


def test_rds_radiotext_stray_bytes_after_end_marker_are_ignored() -> None:
    groups = [_2a(0, 0x4869, 0x7420), _2a(1, 0x390D, 0x0000)]  # "Hit " + "9", CR, 00, 00
    assert _texts(RdsDecoder(), groups * 2) == ["Hit 9"]


def test_rds_radiotext_end_marker_first_in_block_d() -> None:
    groups = [_2a(0, 0x4869, 0x7420), _2a(1, 0x3939, 0x0D07)]  # "Hit 99", CR, BEL
    assert _texts(RdsDecoder(), groups * 2) == ["Hit 99"]


def test_rds_radiotext_stray_bytes_may_change_between_sightings() -> None:
    groups = [_2a(0, 0x4869, 0x7420), _2a(1, 0x390D, 0x0000),
              _2a(0, 0x4869, 0x7420), _2a(1, 0x390D, 0x1B20)]
    assert _texts(RdsDecoder(), groups) == ["Hit 9"]


def test_rds_radiotext_control_code_before_end_marker_still_rejected() -> None:
    groups = [_2a(0, 0x4869, 0x7420), _2a(1, 0x0739, 0x0D00)]  # BEL before the text ends
    dec = RdsDecoder()
    assert _texts(dec, groups * 2) == []
    assert dec.stats.segments_rejected == 2


def test_rds_radiotext_2b_stray_byte_after_end_marker() -> None:
    groups = [(PI, 0x2800 | 0, PI, 0x4869), (PI, 0x2800 | 1, PI, 0x0D00)]
    assert _texts(RdsDecoder(), groups * 2) == ["Hi"]
