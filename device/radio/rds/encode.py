"""RDS group encoders: build the four blocks of the groups the decoder reads.

For tests and benches (and anyone wanting a known-good RDS stream on the host).
The simulator's chip models run under MicroPython and carry their own small
encoder; this one is the reference they can be checked against.

Every function returns a ``Group`` (a tuple of four 16-bit ints, blocks A-D).
Text is encoded with the RDS character set (``device.radio.rds.charset``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from device.radio.rds import charset
from device.radio.rds.clock import encode_4a
from device.radio.rds.text import AF_COUNT_FIRST, AF_FILLER, AF_NONE

Group = tuple[int, int, int, int]

PS_LENGTH: Final = 8
RT_A_LENGTH: Final = 64
RT_B_LENGTH: Final = 32


def block_b(group: int, version_b: bool, tp: bool, pty: int, low5: int) -> int:
    """Block B: group type, version, TP, PTY and the group-specific low 5 bits."""
    if not 0 <= group <= 15 or not 0 <= pty <= 31 or not 0 <= low5 <= 31:
        raise ValueError("group 0-15, PTY 0-31 and the low bits 0-31")
    return group << 12 | int(version_b) << 11 | int(tp) << 10 | pty << 5 | low5


def _pad(text: str, length: int) -> bytes:
    data = charset.encode(text)
    if len(data) > length:
        raise ValueError(f"{text!r} is longer than {length} RDS characters")
    return data.ljust(length, b" ")


def af_khz_to_code(khz: int) -> int:
    """A VHF frequency (87.6-107.9 MHz on the 100 kHz raster) as an AF code 1-204."""
    code, rest = divmod(khz - 87_500, 100)
    if rest or not 1 <= code <= 204:
        raise ValueError(f"{khz} kHz cannot be sent as an AF code")
    return code


def af_pairs(frequencies_khz: list[int] | tuple[int, ...]) -> list[tuple[int, int]]:
    """Method-A AF list as the code pairs for successive 0A block Cs (count code first)."""
    if not frequencies_khz:
        return [(AF_NONE, AF_FILLER)]
    if len(frequencies_khz) > 25:
        raise ValueError("an AF list holds at most 25 frequencies")
    codes = [AF_COUNT_FIRST - 1 + len(frequencies_khz)]
    codes += [af_khz_to_code(k) for k in frequencies_khz]
    if len(codes) % 2:
        codes.append(AF_FILLER)
    return [(codes[i], codes[i + 1]) for i in range(0, len(codes), 2)]


def group_0a(
    pi: int,
    segment: int,
    ps: str,
    *,
    pty: int = 0,
    tp: bool = False,
    ta: bool = False,
    music: bool = True,
    di: int = 0,
    af: tuple[int, int] = (AF_FILLER, AF_FILLER),
) -> Group:
    """Group 0A carrying PS segment `segment` (chars 2s, 2s+1), one AF code pair and DI bit."""
    return _group_0(pi, segment, ps, pty, tp, ta, music, di, (af[0] << 8 | af[1]), False)


def group_0b(
    pi: int,
    segment: int,
    ps: str,
    *,
    pty: int = 0,
    tp: bool = False,
    ta: bool = False,
    music: bool = True,
    di: int = 0,
) -> Group:
    """Group 0B carrying PS segment `segment`; block C repeats the PI."""
    return _group_0(pi, segment, ps, pty, tp, ta, music, di, pi, True)


def _group_0(
    pi: int,
    segment: int,
    ps: str,
    pty: int,
    tp: bool,
    ta: bool,
    music: bool,
    di: int,
    c: int,
    version_b: bool,
) -> Group:
    if not 0 <= segment <= 3:
        raise ValueError("PS segment 0-3")
    data = _pad(ps, PS_LENGTH)
    di_bit = (di >> (3 - segment)) & 1
    low5 = int(ta) << 4 | int(music) << 3 | di_bit << 2 | segment
    b = block_b(0, version_b, tp, pty, low5)
    d = data[2 * segment] << 8 | data[2 * segment + 1]
    return (pi, b, c, d)


def ps_groups(
    pi: int,
    ps: str,
    *,
    pty: int = 0,
    tp: bool = False,
    ta: bool = False,
    music: bool = True,
    di: int = 0,
    af_khz: tuple[int, ...] = (),
    version_b: bool = False,
    cycle: int = 0,
) -> list[Group]:
    """One full PS cycle: four 0A (or 0B) groups, segments 0-3, AF pairs spread over them.

    A long AF list takes several cycles: cycle number `cycle` carries AF code pairs
    4*cycle .. 4*cycle+3 (modulo the list), so successive cycles send the whole list.
    """
    pairs = af_pairs(af_khz) if af_khz else [(AF_FILLER, AF_FILLER)]
    out: list[Group] = []
    for seg in range(4):
        if version_b:
            out.append(group_0b(pi, seg, ps, pty=pty, tp=tp, ta=ta, music=music, di=di))
        else:
            pair = pairs[(4 * cycle + seg) % len(pairs)]
            out.append(group_0a(pi, seg, ps, pty=pty, tp=tp, ta=ta, music=music, di=di, af=pair))
    return out


def group_2a(
    pi: int, segment: int, text: str, flag: int, *, pty: int = 0, tp: bool = False
) -> Group:
    """Group 2A: radiotext chars 4s..4s+3 of `text` (padded; 0x0D ends a short text)."""
    data = _rt_bytes(text, RT_A_LENGTH)
    if not 0 <= segment <= 15:
        raise ValueError("radiotext segment 0-15")
    b = block_b(2, False, tp, pty, (flag & 1) << 4 | segment)
    i = 4 * segment
    return (pi, b, data[i] << 8 | data[i + 1], data[i + 2] << 8 | data[i + 3])


def group_2b(
    pi: int, segment: int, text: str, flag: int, *, pty: int = 0, tp: bool = False
) -> Group:
    """Group 2B: radiotext chars 2s, 2s+1 of a 32-character `text`; block C repeats the PI."""
    data = _rt_bytes(text, RT_B_LENGTH)
    if not 0 <= segment <= 15:
        raise ValueError("radiotext segment 0-15")
    b = block_b(2, True, tp, pty, (flag & 1) << 4 | segment)
    i = 2 * segment
    return (pi, b, pi, data[i] << 8 | data[i + 1])


def _rt_bytes(text: str, length: int) -> bytes:
    data = charset.encode(text)
    if len(data) > length:
        raise ValueError(f"radiotext longer than {length} characters")
    if len(data) < length:
        data += b"\r"
    return data.ljust(length, b" ")


def radiotext_segment_count(text: str, version_b: bool = False) -> int:
    """How many segments a station sends for `text` (up to and including the 0x0D)."""
    size, length = (2, RT_B_LENGTH) if version_b else (4, RT_A_LENGTH)
    n = len(charset.encode(text))
    used = n if n == length else n + 1
    return -(-used // size)


def radiotext_groups(
    pi: int,
    text: str,
    flag: int = 0,
    *,
    version_b: bool = False,
    pty: int = 0,
    tp: bool = False,
) -> list[Group]:
    """The groups of one radiotext cycle: only the segments the text needs, in order."""
    build = group_2b if version_b else group_2a
    return [
        build(pi, s, text, flag, pty=pty, tp=tp)
        for s in range(radiotext_segment_count(text, version_b))
    ]


def group_4a(
    pi: int, utc: datetime, offset_minutes: int = 0, *, pty: int = 0, tp: bool = False
) -> Group:
    """Group 4A: clock time `utc` (seconds dropped) with the local offset in minutes."""
    b_low, c, d = encode_4a(utc, offset_minutes)
    return (pi, block_b(4, False, tp, pty, b_low), c, d)
