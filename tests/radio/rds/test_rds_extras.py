"""RDS beyond the basics: ECC and language (1A), PTYN (10A), RadioText+, the block error rate."""

from __future__ import annotations

from device.radio.rds.decoder import (
    EccChanged,
    LanguageChanged,
    PtynChanged,
    RdsChange,
    RdsDecoder,
    RtPlusChanged,
)
from device.radio.rds.extras import country, language_name
from device.radio.rds.quality import BlockErrorRate
from hwsim.chips.rds_groups import group_1a, group_3a, group_10a, radiotext_groups, rtplus_group

PI = 0x6201
CLEAN = (0, 0, 0, 0)
Group = tuple[int, int, int, int]


def feed(dec: RdsDecoder, groups: list[Group], errors: object = CLEAN) -> list[RdsChange]:
    out: list[RdsChange] = []
    for g in groups:
        out += dec.feed(*g, errors=errors)  # type: ignore[arg-type]
    return out


def test_rds_ecc_country_and_language_need_two_sightings() -> None:
    dec = RdsDecoder()
    first = feed(dec, [group_1a(PI, 0, 0xE1), group_1a(PI, 3, 0x27)])
    assert not [e for e in first if isinstance(e, EccChanged | LanguageChanged)]
    events = feed(dec, [group_1a(PI, 0, 0xE1), group_1a(PI, 3, 0x27)])
    assert EccChanged(0xE1, "FI") in events and LanguageChanged(0x27, "Finnish") in events
    doc = dec.state.as_dict()
    assert (doc["ecc"], doc["country"], doc["language"]) == ("E1", "FI", "Finnish")


def test_rds_country_table_edges() -> None:
    assert country(0xE0, 0xD311) == "DE" and country(0xE4, 0x9423) == "SI" and country(0xE2, 0x5000) == "SK"
    assert country(0xA0, 0x1000) is None and country(0xE0, 0x0123) is None and country(0xE0, None) is None
    assert language_name(0x08) == "German" and language_name(0) is None and language_name(0x7FF) is None


def test_rds_ptyn_flag_flip_replaces_the_name() -> None:
    dec = RdsDecoder()
    first = [group_10a(PI, s, "Football", 0) for s in (0, 1)] * 2
    assert [e for e in feed(dec, first) if isinstance(e, PtynChanged)] == [PtynChanged("Football")]
    second = [group_10a(PI, s, "Jazz", 1) for s in (0, 1)] * 3
    assert [e for e in feed(dec, second) if isinstance(e, PtynChanged)] == [PtynChanged("Jazz")]


def _rtplus_stream(text: str, tags: list[tuple[int, int, int]], running: bool = True) -> list[Group]:
    return ([group_3a(PI, 11, False, 0x4BD7), *radiotext_groups(PI, text), rtplus_group(PI, 11, tags, running=running)])


def test_rds_rtplus_artist_and_title_from_the_published_radiotext() -> None:
    text = "Now: The Examples - Test Pattern"
    tags = [(4, 5, 12), (1, 20, 12)]  # (type, start, length)
    dec = RdsDecoder()
    events = feed(dec, _rtplus_stream(text, tags) * 4)
    assert [e for e in events if isinstance(e, RtPlusChanged)] == [RtPlusChanged("The Examples", "Test Pattern")]
    assert (dec.state.rt_artist, dec.state.rt_title) == ("The Examples", "Test Pattern")


def test_rds_rtplus_needs_the_3a_announcement_and_its_group() -> None:
    dec = RdsDecoder()
    text = "Now: The Examples - Test Pattern"
    stream = [*radiotext_groups(PI, text), rtplus_group(PI, 11, [(4, 5, 12)])]
    feed(dec, stream * 4)
    assert dec.state.rt_artist is None  # no 3A: group 11A is not RT+
    feed(dec, [group_3a(PI, 12, False, 0x4BD7)] * 2 + stream * 4)
    assert dec.state.rt_artist is None  # RT+ announced in 12A, sent in 11A


def test_rds_rtplus_never_applied_to_the_previous_text() -> None:
    dec = RdsDecoder()
    feed(dec, _rtplus_stream("AAAA - BBBB", [(4, 0, 4), (1, 7, 4)]) * 4)
    assert (dec.state.rt_artist, dec.state.rt_title) == ("AAAA", "BBBB")
    new = [rtplus_group(PI, 11, [(4, 0, 6), (1, 9, 6)], toggle=1)]  # tags of a text not yet complete
    events = feed(dec, new * 3 + radiotext_groups(PI, "CCCCCC - DDDDDD", 1)[:1])
    assert [e for e in events if isinstance(e, RtPlusChanged)] == [RtPlusChanged(None, None)]
    events = feed(dec, (radiotext_groups(PI, "CCCCCC - DDDDDD", 1) + new) * 3)
    assert (dec.state.rt_artist, dec.state.rt_title) == ("CCCCCC", "DDDDDD")


def test_rds_rtplus_item_not_running_clears_artist_and_title() -> None:
    dec = RdsDecoder()
    text = "Now: The Examples - Test Pattern"
    feed(dec, _rtplus_stream(text, [(4, 5, 12)]) * 4)
    assert dec.state.rt_artist == "The Examples"
    feed(dec, _rtplus_stream(text, [(4, 5, 12)], running=False) * 3)
    assert (dec.state.rt_artist, dec.state.rt_title) == (None, None)


def test_rds_block_error_rate_over_the_last_second() -> None:
    bler = BlockErrorRate()
    assert bler.rate(0.0) is None
    bler.add(0.0, (0, 0, 3, 3))
    bler.add(0.5, (0, 1, 2, 0))
    assert bler.rate(0.6) == 25.0
    assert bler.rate(1.2) == 0.0  # the first group left the window
    bler.add(1.3, (3, 3, None, None))  # RDA5807M: blocks A and B graded only
    assert bler.rate(1.4) == round(100 * 2 / 6, 1)
    assert bler.rate(5.0) is None
