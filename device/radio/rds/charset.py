"""The RDS character set (EN 50067 Annex E, the EBU G0 code table) to and from Unicode.

RDS text is 8-bit and is *not* Latin-1: 0x20-0x7D is ASCII except 0x24 (currency
sign, not dollar), 0x5E (horizontal bar) and 0x60 (double vertical bar); 0x7E is an
overline; 0x80-0xFE hold accented letters and symbols in their own order (0x8D is
"ß", 0x91 "ä", 0xA9 "€", 0xAB "$").

Control codes that radiotext uses are kept: 0x0A (line feed) and 0x0B (end of
headline) become "\\n", 0x1F (soft hyphen) becomes U+00AD.  0x0D (end of text) is
handled by the radiotext assembler before decoding.  Every other code with no
glyph decodes to U+FFFD, never to a control character.
"""

from __future__ import annotations

from typing import Final

REPLACEMENT: Final = "\ufffd"

_ROWS: Final[tuple[str, ...]] = (
    " !\"#¤%&'()*+,-./",  # 0x20
    "0123456789:;<=>?",  # 0x30
    "@ABCDEFGHIJKLMNO",  # 0x40
    "PQRSTUVWXYZ[\\]―_",  # 0x50
    "‖abcdefghijklmno",  # 0x60
    "pqrstuvwxyz{|}¯" + REPLACEMENT,  # 0x70 (0x7F has no glyph)
    "áàéèíìóòúùÑÇŞß¡Ĳ",  # 0x80
    "âäêëîïôöûüñçşğıĳ",  # 0x90
    "ªα©‰Ğěňőπ€£$←↑→↓",  # 0xA0
    "º¹²³±İńűµ¿÷°¼½¾§",  # 0xB0
    "ÁÀÉÈÍÌÓÒÚÙŘČŠŽÐĿ",  # 0xC0
    "ÂÄÊËÎÏÔÖÛÜřčšžđŀ",  # 0xD0
    "ÃÅÆŒŷÝÕØÞŊŔĆŚŹŦð",  # 0xE0
    "ãåæœŵýõøþŋŕćśźŧ" + REPLACEMENT,  # 0xF0 (0xFF has no glyph)
)

_CONTROLS: Final[dict[int, str]] = {0x0A: "\n", 0x0B: "\n", 0x1F: "\u00ad"}

DECODE: Final[tuple[str, ...]] = tuple(
    _CONTROLS.get(code, REPLACEMENT) for code in range(0x20)
) + tuple("".join(_ROWS))
"""DECODE[byte] is the Unicode text for one RDS byte."""

ENCODE: Final[dict[str, int]] = {
    ch: code for code, ch in enumerate(DECODE) if code >= 0x20 and ch != REPLACEMENT
}
"""The RDS byte for each character that has one (for encoders and tests)."""


def decode_char(code: int) -> str:
    """One RDS byte as text (U+FFFD when it has no glyph)."""
    return DECODE[code & 0xFF]


def decode(data: bytes | bytearray | list[int] | tuple[int, ...]) -> str:
    """RDS bytes as text."""
    return "".join(DECODE[b & 0xFF] for b in data)


def is_control(code: int) -> bool:
    """True for the codes below 0x20 and 0x7F, 0xFF (no printable glyph)."""
    code &= 0xFF
    return code < 0x20 or code in (0x7F, 0xFF)


def encode(text: str) -> bytes:
    """Text as RDS bytes; ValueError names the first character RDS cannot carry."""
    out = bytearray()
    for ch in text:
        if ch in "\r\n":
            out.append(0x0D if ch == "\r" else 0x0A)
            continue
        code = ENCODE.get(ch)
        if code is None:
            raise ValueError(f"{ch!r} has no code in the RDS character set")
        out.append(code)
    return bytes(out)
