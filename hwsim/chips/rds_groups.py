"""RDS group encoder and the hex text of recorded groups, written from EN 50067 / IEC 62106.

The one RDS encoder of the project: the radio world builds its stations' groups
with it, and tests and benches use it to make known-good streams for the daemon's
decoder (which it shares no code with). Every builder returns a group as four
16-bit ints, blocks A-D.

What each group carries (EN 50067 section 3.1.5, IEC 62106-2):

* block B of every group: group type (b15-12), version (b11, 1 = B), TP (b10),
  PTY (b9-5), five group-specific bits (b4-0); version B groups repeat PI in C.
* 0A/0B: TA b4, music/speech b3, one DI bit b2 (segment 0 = dynamic PTY ...
  segment 3 = stereo), PS segment b1-0; C = two AF codes (0A) or PI (0B);
  D = PS characters 2s, 2s+1.
* 1A: slow labelling codes in block C: b14-12 variant; variant 0 = paging (b11-8)
  and extended country code (b7-0), variant 3 = language code (b11-0).
  D = programme item number (sent as 0 here).
* 2A/2B: text A/B flag b4, segment b3-0; 2A C+D = characters 4s..4s+3 of 64,
  2B D = characters 2s, 2s+1 of 32; 0x0D ends a shorter text.
* 3A: application group type in B b4-0 (type << 1 | version), C = message
  bits, D = application identifier (AID; RadioText+ is 0x4BD7).
* 4A: clock time (annex G date formulas).
* 10A: programme type name, flag b4, segment b0; C+D = characters 4s..4s+3 of 8.
* RadioText+ (IEC 62106-6 / the RT+ specification): in the group the 3A names,
  B b4 item toggle, b3 item running, b2-0 + C b15-13 the first content type
  (6 bits), C b12-7 its start, C b6-1 its additional length, C b0 + D b15-11 the
  second type, D b10-5 its start, D b4-0 its additional length.

Characters use the EBU G0 table (EN 50067 annex E). Hex text: one group per line
as four 16-bit blocks in hexadecimal separated by spaces, ``----`` for a lost
block (the hex output of RDS Spy and redsea); what follows the fourth block
(RDS Spy's time stamp) is ignored, as are empty lines and lines starting with
``<`` (RDS Spy's header) or ``#``.

Runs under MicroPython too (the chip models use it): no typing, no dataclasses.
"""

AF_FILLER = 205
AF_NONE = 224
AF_COUNT_BASE = 224
RTPLUS_AID = 0x4BD7
PS_LENGTH = 8
RT_A_LENGTH = 64
RT_B_LENGTH = 32

# EBU G0, codes 0x80-0xFF (EN 50067 annex E, figure E.1), one row of 16 per string.
_G0_HIGH = (
    "áàéèíìóòúùÑÇŞß¡Ĳ",
    "âäêëîïôöûüñçşğıĳ",
    "ªα©‰Ğěňőπ€£$←↑→↓",
    "º¹²³±İńűµ¿÷°¼½¾§",
    "ÁÀÉÈÍÌÓÒÚÙŘČŠŽÐĿ",
    "ÂÄÊËÎÏÔÖÛÜřčšžđŀ",
    "ÃÅÆŒŷÝÕØÞŊŔĆŚŹŦð",
    "ãåæœŵýõøþŋŕćśźŧ",
)
# Where G0 differs from ASCII in 0x20-0x7E.
_G0_LOW = {"¤": 0x24, "―": 0x5E, "‖": 0x60, "¯": 0x7E}
_NOT_G0 = "$^`~"
_EBU = {}
for _row, _chars in enumerate(_G0_HIGH):
    for _col, _ch in enumerate(_chars):
        _EBU[_ch] = 0x80 + 16 * _row + _col
_EBU.update(_G0_LOW)


def ebu_encode(text: str, strict: bool = False) -> list[int]:
    """Text as EBU G0 codes; "\\r" is 0x0D, "\\n" 0x0A. A character G0 lacks is
    "?" (or ValueError with `strict`)."""
    out = []
    for ch in text:
        o = ord(ch)
        if ch in _EBU:
            out.append(_EBU[ch])
        elif 0x20 <= o <= 0x7E and ch not in _NOT_G0:
            out.append(o)
        elif ch == "\r" or ch == "\n":
            out.append(0x0D if ch == "\r" else 0x0A)
        elif strict:
            raise ValueError(f"{ch!r} has no code in the RDS character set")
        else:
            out.append(0x3F)
    return out


def pad(codes: list[int], n: int) -> list[int]:
    """Cut or pad (with spaces) a code list to n entries."""
    codes = codes[:n]
    return codes + [0x20] * (n - len(codes))


def _word(hi: int, lo: int) -> int:
    return ((hi & 0xFF) << 8) | (lo & 0xFF)


def block_b(group: int, version_b: bool, tp: bool, pty: int, low5: int) -> int:
    """Block B: group type, version, TP, PTY and the five group-specific bits."""
    if not (0 <= group <= 15 and 0 <= pty <= 31 and 0 <= low5 <= 31):
        raise ValueError("group 0-15, PTY 0-31 and the low bits 0-31")
    return (group << 12) | (int(version_b) << 11) | (int(tp) << 10) | (pty << 5) | low5


# -- group 0: PS, TA, M/S, DI, AF --------------------------------------------------
def af_code(khz: int) -> int:
    """An FM frequency (87.6-107.9 MHz, 100 kHz raster) as an AF code 1-204."""
    n = (khz - 87500) // 100
    if n < 1 or n > 204 or (khz - 87500) % 100:
        raise ValueError(f"no AF code for {khz} kHz")
    return n


def af_pairs(afs: list[int] | tuple[int, ...]) -> list[tuple[int, int]]:
    """A method-A AF list (kHz) as the code pairs of successive 0A block Cs,
    the count code (224 + n) first; an empty list is "no AF" + filler."""
    if len(afs) > 25:
        raise ValueError("an AF list holds at most 25 frequencies")
    codes = [af_code(khz) for khz in afs]
    if not codes:
        return [(AF_NONE, AF_FILLER)]
    codes.insert(0, AF_COUNT_BASE + len(codes))  # (no [x, *y]: MicroPython)
    if len(codes) % 2:
        codes.append(AF_FILLER)
    return [(codes[i], codes[i + 1]) for i in range(0, len(codes), 2)]


def group_0a(pi: int, segment: int, ps: str, pty: int = 0, tp: bool = False, ta: bool = False,
             music: bool = True, di: int = 0,
             af: tuple[int, int] = (AF_FILLER, AF_FILLER)) -> tuple[int, int, int, int]:
    """Group 0A: PS segment `segment` of `ps`, one AF code pair, DI bit (segment 0 = bit 3)."""
    if not 0 <= segment <= 3:
        raise ValueError("PS segment 0-3")
    codes = pad(ebu_encode(ps), PS_LENGTH)
    low = (int(ta) << 4) | (int(music) << 3) | (((di >> (3 - segment)) & 1) << 2) | segment
    return (pi, block_b(0, False, tp, pty, low), _word(af[0], af[1]),
            _word(codes[2 * segment], codes[2 * segment + 1]))


def group_0b(pi: int, segment: int, ps: str, pty: int = 0, tp: bool = False, ta: bool = False,
             music: bool = True, di: int = 0) -> tuple[int, int, int, int]:
    """Group 0B: like 0A, with PI again in block C."""
    a, b, _c, d = group_0a(pi, segment, ps, pty, tp, ta, music, di)
    return (a, b | 0x0800, pi, d)


def ps_groups(pi: int, ps: str, pty: int = 0, tp: bool = False, ta: bool = False,
              music: bool = True, di: int = 0, af_khz: list[int] | tuple[int, ...] = (),
              version_b: bool = False, cycle: int = 0) -> list[tuple[int, int, int, int]]:
    """One PS cycle: four 0A (or 0B) groups, segments 0-3. Cycle number `cycle`
    carries AF pairs 4*cycle .. 4*cycle+3 of the list (modulo its length)."""
    pairs = af_pairs(af_khz) if af_khz else [(AF_FILLER, AF_FILLER)]
    out = []
    for seg in range(4):
        if version_b:
            out.append(group_0b(pi, seg, ps, pty, tp, ta, music, di))
        else:
            out.append(group_0a(pi, seg, ps, pty, tp, ta, music, di,
                                pairs[(4 * cycle + seg) % len(pairs)]))
    return out


# -- group 1A: extended country code, language ------------------------------------
def group_1a(pi: int, variant: int, data: int, pty: int = 0, tp: bool = False,
             pin: int = 0) -> tuple[int, int, int, int]:
    """Group 1A slow labelling: `variant` 0 carries the ECC in `data` (8 bits),
    variant 3 the language code (12 bits); D is the programme item number."""
    if not 0 <= variant <= 7 or not 0 <= data <= 0xFFF:
        raise ValueError("variant 0-7 and data 0-0xFFF")
    return (pi, block_b(1, False, tp, pty, 0), (variant << 12) | data, pin & 0xFFFF)


# -- group 2: radiotext -------------------------------------------------------------
def rt_codes(text: str, version_b: bool = False) -> list[int]:
    """A radiotext's codes as sent: 0x0D after a text shorter than the maximum, then spaces."""
    size = RT_B_LENGTH if version_b else RT_A_LENGTH
    codes = ebu_encode(text)
    if len(codes) > size:
        raise ValueError(f"radiotext longer than {size} characters")
    if len(codes) < size:
        codes.append(0x0D)
    return pad(codes, size)


def rt_segments(text: str, version_b: bool = False) -> int:
    """How many segments a station sends for `text` (up to and including the 0x0D)."""
    size = RT_B_LENGTH if version_b else RT_A_LENGTH
    per = 2 if version_b else 4
    n = len(ebu_encode(text))
    used = n if n >= size else n + 1
    return max(1, min(size // per, (used + per - 1) // per))


def group_2a(pi: int, segment: int, text: str, flag: int = 0, pty: int = 0,
             tp: bool = False) -> tuple[int, int, int, int]:
    """Group 2A: radiotext characters 4s .. 4s+3 of a 64-character text."""
    if not 0 <= segment <= 15:
        raise ValueError("radiotext segment 0-15")
    c = rt_codes(text)
    i = 4 * segment
    return (pi, block_b(2, False, tp, pty, ((flag & 1) << 4) | segment),
            _word(c[i], c[i + 1]), _word(c[i + 2], c[i + 3]))


def group_2b(pi: int, segment: int, text: str, flag: int = 0, pty: int = 0,
             tp: bool = False) -> tuple[int, int, int, int]:
    """Group 2B: radiotext characters 2s, 2s+1 of a 32-character text; PI in block C."""
    if not 0 <= segment <= 15:
        raise ValueError("radiotext segment 0-15")
    c = rt_codes(text, True)
    i = 2 * segment
    return (pi, block_b(2, True, tp, pty, ((flag & 1) << 4) | segment), pi, _word(c[i], c[i + 1]))


def radiotext_groups(pi: int, text: str, flag: int = 0, version_b: bool = False, pty: int = 0,
                     tp: bool = False) -> list[tuple[int, int, int, int]]:
    """One radiotext cycle: the segments the text needs, in order."""
    build = group_2b if version_b else group_2a
    return [build(pi, s, text, flag, pty, tp) for s in range(rt_segments(text, version_b))]


# -- group 3A: open data application announcement ------------------------------------
def group_3a(pi: int, app_group: int, app_version_b: bool, aid: int, message: int = 0,
             pty: int = 0, tp: bool = False) -> tuple[int, int, int, int]:
    """Group 3A: application `aid` is carried in group `app_group` A/B."""
    low = ((app_group & 0xF) << 1) | int(app_version_b)
    return (pi, block_b(3, False, tp, pty, low), message & 0xFFFF, aid & 0xFFFF)


# -- RadioText+ ----------------------------------------------------------------------
def rtplus_group(pi: int, group: int, tags: list[tuple[int, int, int]], toggle: int = 0,
                 running: bool = True, pty: int = 0, tp: bool = False) -> tuple[int, int, int, int]:
    """A RadioText+ group (type `group`, version A): up to two tags, each
    (content type, start, length in characters) within the current radiotext."""
    fields = list(tags[:2]) + [(0, 0, 1)] * (2 - min(2, len(tags)))
    (t1, s1, l1), (t2, s2, l2) = fields
    if not (0 <= t1 < 64 and 0 <= t2 < 64 and 0 <= s1 < 64 and 0 <= s2 < 64
            and 1 <= l1 <= 64 and 1 <= l2 <= 32):
        raise ValueError("RT+ tag out of range")
    low = ((toggle & 1) << 4) | (int(running) << 3) | (t1 >> 3)
    c = ((t1 & 7) << 13) | (s1 << 7) | ((l1 - 1) << 1) | (t2 >> 5)
    d = ((t2 & 0x1F) << 11) | (s2 << 5) | (l2 - 1)
    return (pi, block_b(group, False, tp, pty, low), c, d)


# -- group 4A: clock time ----------------------------------------------------------
def mjd_from_date(year: int, month: int, day: int) -> int:
    """Modified Julian Date of a calendar date (EN 50067 annex G)."""
    leap = 1 if month <= 2 else 0
    return 14956 + day + int((year - 1900 - leap) * 365.25) + int((month + 1 + 12 * leap) * 30.6001)


def date_from_mjd(mjd: int) -> tuple[int, int, int]:
    """(year, month, day) of a Modified Julian Date (EN 50067 annex G)."""
    yp = int((mjd - 15078.2) / 365.25)
    mp = int((mjd - 14956.1 - int(yp * 365.25)) / 30.6001)
    day = mjd - 14956 - int(yp * 365.25) - int(mp * 30.6001)
    k = 1 if mp in (14, 15) else 0
    return 1900 + yp + k, mp - 1 - 12 * k, day


def clock_fields(unix_s: int) -> tuple[int, int, int]:
    """(MJD, UTC hour, minute) of a Unix time."""
    days = unix_s // 86400
    rem = unix_s - days * 86400
    return 40587 + days, rem // 3600, (rem // 60) % 60


def group_4a(pi: int, mjd: int, hour: int, minute: int, offset_half_hours: int = 0, pty: int = 0,
             tp: bool = False) -> tuple[int, int, int, int]:
    """Group 4A clock time: MJD, UTC hour and minute, local offset in signed half-hours."""
    if not (0 <= hour <= 23 and 0 <= minute <= 59 and abs(offset_half_hours) <= 31):
        raise ValueError("hour 0-23, minute 0-59, offset within 31 half-hours")
    sign = 1 if offset_half_hours < 0 else 0
    b = block_b(4, False, tp, pty, (mjd >> 15) & 3)
    c = ((mjd & 0x7FFF) << 1) | ((hour >> 4) & 1)
    d = ((hour & 0xF) << 12) | (minute << 6) | (sign << 5) | abs(offset_half_hours)
    return (pi, b, c, d)


def group_4a_at(pi: int, unix_s: int, offset_half_hours: int = 0, pty: int = 0,
                tp: bool = False) -> tuple[int, int, int, int]:
    """Group 4A for a Unix time (seconds dropped)."""
    mjd, hour, minute = clock_fields(unix_s)
    return group_4a(pi, mjd, hour, minute, offset_half_hours, pty, tp)


# -- group 10A: programme type name --------------------------------------------------
def group_10a(pi: int, segment: int, ptyn: str, flag: int = 0, pty: int = 0,
              tp: bool = False) -> tuple[int, int, int, int]:
    """Group 10A: PTYN characters 4s .. 4s+3 of an 8-character name."""
    if segment not in (0, 1):
        raise ValueError("PTYN segment 0-1")
    c = pad(ebu_encode(ptyn), 8)
    i = 4 * segment
    return (pi, block_b(10, False, tp, pty, ((flag & 1) << 4) | segment),
            _word(c[i], c[i + 1]), _word(c[i + 2], c[i + 3]))


# -- hex text (RDS Spy / redsea) -----------------------------------------------------
def parse_group(line: str) -> tuple | None:
    """One line of hex text as (A, B, C, D) with None for a lost block; None for a
    line that holds no group (empty, header, comment). ValueError says what is wrong."""
    text = line.strip()
    if not text or text[0] in "<#":
        return None
    words = text.split()
    if len(words) < 4:
        raise ValueError(f"a group is four blocks, got {text[:40]!r}")
    blocks: list[int | None] = []
    for w in words[:4]:
        if w == "----":
            blocks.append(None)
            continue
        if len(w) != 4:
            raise ValueError(f"a block is four hex digits or ----, got {w!r}")
        try:
            blocks.append(int(w, 16))
        except ValueError:
            raise ValueError(f"a block is four hex digits or ----, got {w!r}") from None
    return (blocks[0], blocks[1], blocks[2], blocks[3])


def parse_groups(lines: list[str]) -> list[tuple]:
    """Every group in hex text lines (see `parse_group`); ValueError names the line."""
    out = []
    for n, line in enumerate(lines, 1):
        try:
            group = parse_group(line)
        except ValueError as e:
            raise ValueError(f"line {n}: {e}") from None
        if group is not None:
            out.append(group)
    return out


def format_group(blocks: tuple) -> str:
    """(A, B, C, D) as hex text, ``----`` for a lost (None) block."""
    return " ".join("----" if b is None else f"{b:04X}" for b in blocks)
