"""RDS beyond the basics: country and language (1A), PTYN (10A), RadioText+ (ODA).

Theory of operation
-------------------
Sans-IO, fed by ``RdsDecoder`` with the groups it has already gated (block B
usable, the station's PI).  Like every field of the decoder, each value here is
published only after it was received consistently:

* **Extended country code and language** (group 1A, block C: variant in bits
  14-12).  Variant 0 carries the ECC (bits 7-0), variant 3 the language code
  (bits 11-0).  Each is accepted after two identical sightings.  The country is
  looked up from the ECC and the PI's country nibble (EN 50067 / IEC 62106
  annex D; the European ECCs E0-E4 are known here, others give the ECC alone).
* **Programme type name** (group 10A): 8 characters in 2 segments of 4, an A/B
  flag that clears the name when it flips (after two groups agree on the new
  flag).  Segments are confirmed like PS segments (two sightings, whole-pass);
  the name ends at 0x0D (stations send it: "CRI.CN" + 0D 0D) and trailing
  spaces are stripped.
* **RadioText+** (RT+, open data application 0x4BD7).  A 3A group announces
  which group type carries it (usually 11A, any type the 3A names); once two
  identical announcements are seen, groups of that type (version A) are read as
  RT+: an item toggle and item-running bit, and two tags, each a content type
  (1 = item.title, 4 = item.artist), a start and an *additional* length into the
  current radiotext.  A tag set is accepted after two identical sightings
  *after the radiotext it points into was published* (a tag is never applied
  to the text before), and the artist and title are that radiotext's slices,
  trailing spaces stripped (some encoders send a length one too long).  With
  item running 0 there is no artist or title.  When the item toggle bit flips,
  a new item has begun and its radiotext is on its way: artist and title are
  unknown until that radiotext is published and the tags are seen again for it.
  A station that changes its radiotext without toggling and keeps sending the
  old tags a while gets slices of the new text cut with the old tags (the
  decoder cannot tell them apart).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from device.radio.rds import charset
from device.radio.rds.text import Confirmed, SegmentedText

RTPLUS_AID: Final = 0x4BD7
RTPLUS_TITLE: Final = 1
RTPLUS_ARTIST: Final = 4
GROUP_1: Final = 1
GROUP_3: Final = 3
GROUP_10: Final = 10
CR: Final = 0x0D

# EN 50067 / IEC 62106 annex D: ECC E0-E4, indexed by the PI's country nibble (1-F).
_ECC_COUNTRIES: Final[dict[int, tuple[str, ...]]] = {
    0xE0: ("DE", "DZ", "AD", "IL", "IT", "BE", "RU", "PS", "AL", "AT", "HU", "MT", "DE", "", "EG"),
    0xE1: ("GR", "CY", "SM", "CH", "JO", "FI", "LU", "BG", "DK", "GI", "IQ", "GB", "LY", "RO", "FR"),
    0xE2: ("MA", "CZ", "PL", "VA", "SK", "SY", "TN", "", "LI", "IS", "MC", "LT", "RS", "ES", "NO"),
    0xE3: ("ME", "IE", "TR", "MK", "", "", "", "NL", "LV", "LB", "AZ", "HR", "KZ", "SE", "BY"),
    0xE4: ("MD", "EE", "KG", "", "", "UA", "", "PT", "SI", "AM", "", "GE", "", "", "BA"),
}
# EN 50067 annex J, language codes 0x01-0x2B (the European ones).
_LANGUAGES: Final = (
    "", "Albanian", "Breton", "Catalan", "Croatian", "Welsh", "Czech", "Danish", "German",
    "English", "Spanish", "Esperanto", "Estonian", "Basque", "Faroese", "French", "Frisian",
    "Irish", "Gaelic", "Galician", "Icelandic", "Italian", "Lappish", "Latin", "Latvian",
    "Luxembourgian", "Lithuanian", "Hungarian", "Maltese", "Dutch", "Norwegian", "Occitan",
    "Polish", "Portuguese", "Romanian", "Romansh", "Serbian", "Slovak", "Slovene", "Finnish",
    "Swedish", "Turkish", "Flemish", "Walloon",
)


def country(ecc: int, pi: int | None) -> str | None:
    """ISO 3166 code of the country an ECC and a PI name (None when unknown)."""
    row = _ECC_COUNTRIES.get(ecc)
    nibble = None if pi is None else pi >> 12
    if row is None or not nibble:
        return None
    return row[nibble - 1] or None


def language_name(code: int) -> str | None:
    """The language an RDS language code names (None when unknown)."""
    return _LANGUAGES[code] or None if 0 <= code < len(_LANGUAGES) else None


def text_up_to_end(chars: bytes) -> bytes:
    """A segment with what follows its 0x0D (end of text) blanked: not text."""
    if CR not in chars:
        return chars
    end = chars.index(CR) + 1
    return chars[:end] + b" " * (len(chars) - end)


@dataclass(frozen=True)
class EccChanged:
    """The extended country code (and the country it names) was confirmed."""

    ecc: int
    country: str | None


@dataclass(frozen=True)
class LanguageChanged:
    """The programme's language code was confirmed."""

    code: int
    name: str | None


@dataclass(frozen=True)
class PtynChanged:
    """A complete, confirmed programme type name."""

    ptyn: str


@dataclass(frozen=True)
class RtPlusChanged:
    """RadioText+ artist or title changed (None: not known, or no item running)."""

    artist: str | None
    title: str | None


ExtraChange = EccChanged | LanguageChanged | PtynChanged | RtPlusChanged
Tags = tuple[int, int, tuple[tuple[int, int, int], ...]]  # toggle, running, (type, start, extra)


class RdsExtras:
    """1A, 10A and RadioText+ for one station; see the module docstring."""

    def __init__(self) -> None:
        self._ecc = Confirmed[int](2)
        self._language = Confirmed[int](2)
        self._ptyn = SegmentedText(2, 4, 2, whole_pass=True)
        self._ptyn_flag = Confirmed[int](2)
        self._oda_group = Confirmed[int](2)
        self._tags = Confirmed[Tags](2)
        self.clear()

    def clear(self) -> None:
        """Forget the station."""
        for value in (self._ecc, self._language, self._ptyn_flag, self._oda_group, self._tags):
            value.clear()
        self._ptyn.clear()
        self.ptyn: str | None = None
        self.artist: str | None = None
        self.title: str | None = None
        self._radiotext: str | None = None
        self._new_item = False  # the item toggled: its radiotext is on its way

    @property
    def ecc(self) -> int | None:
        return self._ecc.value

    @property
    def language(self) -> int | None:
        return self._language.value

    def feed(self, b: int, c: int, d: int, ok: list[bool], pi: int | None) -> list[ExtraChange]:
        """One group (block B usable, the station's); the changes it caused."""
        group, version_b = b >> 12, bool(b & 0x0800)
        if version_b:
            return []
        if group == GROUP_1 and ok[2]:
            return self._group_1a(c, pi)
        if group == GROUP_3 and ok[3]:
            if d == RTPLUS_AID:
                self._oda_group.put(b & 0x1F)
            return []
        if group == GROUP_10 and ok[2] and ok[3]:
            return self._group_10a(b, c, d)
        if self._oda_group.value == group << 1 and ok[2] and ok[3]:
            return self._rtplus(b, c, d)
        return []

    def radiotext_changed(self, text: str) -> list[ExtraChange]:
        """A new radiotext was published: RT+ tags must be seen again for it."""
        self._radiotext = text
        self._tags.clear()
        self._new_item = False
        return self._update_items()

    # -- 1A

    def _group_1a(self, c: int, pi: int | None) -> list[ExtraChange]:
        variant = (c >> 12) & 0x7
        if variant == 0 and self._ecc.put(c & 0xFF):
            ecc = c & 0xFF
            return [EccChanged(ecc, country(ecc, pi))]
        if variant == 3 and self._language.put(c & 0xFFF):
            code = c & 0xFFF
            return [LanguageChanged(code, language_name(code))]
        return []

    # -- 10A

    def _group_10a(self, b: int, c: int, d: int) -> list[ExtraChange]:
        flag = (b >> 4) & 1
        before = self._ptyn_flag.value
        if self._ptyn_flag.put(flag) and before is not None:
            self._ptyn.clear()
        if self._ptyn_flag.value is not None and flag != self._ptyn_flag.value:
            return []
        chars = text_up_to_end(bytes((c >> 8, c & 0xFF, d >> 8, d & 0xFF)))
        if any(charset.is_control(ch) and ch != CR for ch in chars):
            return []
        self._ptyn.put(b & 1, chars)
        raw = self._ptyn.complete(terminator=CR)
        if raw is None:
            return []
        name = charset.decode(raw).rstrip(" ")
        if name == self.ptyn:
            return []
        self.ptyn = name
        return [PtynChanged(name)]

    # -- RadioText+

    def _rtplus(self, b: int, c: int, d: int) -> list[ExtraChange]:
        first = (((b & 0x7) << 3) | (c >> 13), (c >> 7) & 0x3F, (c >> 1) & 0x3F)
        second = (((c & 1) << 5) | (d >> 11), (d >> 5) & 0x3F, d & 0x1F)
        tags: Tags = ((b >> 4) & 1, (b >> 3) & 1, (first, second))
        applied = self._tags.value
        if self._radiotext is None or not self._tags.put(tags):
            return []
        if applied is not None and applied[0] != tags[0]:
            self._new_item = True  # never slice the old text with the new item's tags
        return self._update_items()

    def _update_items(self) -> list[ExtraChange]:
        artist = title = None
        tags, text = self._tags.value, self._radiotext
        if tags is not None and text is not None and tags[1] and not self._new_item:
            for kind, start, extra in tags[2]:
                part = text[start:start + extra + 1].rstrip(" ") or None
                if kind == RTPLUS_ARTIST:
                    artist = part
                elif kind == RTPLUS_TITLE:
                    title = part
        if (artist, title) == (self.artist, self.title):
            return []
        self.artist, self.title = artist, title
        return [RtPlusChanged(artist, title)]
