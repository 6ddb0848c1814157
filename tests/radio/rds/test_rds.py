"""RDS decoder behaviour, group by group: vectors, gating, confirmation, every field."""

from __future__ import annotations

import itertools
import random
import unicodedata
from typing import TypeVar

from hypothesis import given, settings
from hypothesis import strategies as st

from device.radio.rds import charset
from device.radio.rds.decoder import (
    AfListChanged,
    DecoderInfo,
    DecoderInfoChanged,
    MusicSpeechChanged,
    PiChanged,
    PsChanged,
    PtyChanged,
    RadioTextChanged,
    RdsChange,
    RdsCleared,
    RdsDecoder,
    RdsState,
    TrafficChanged,
    rbds_callsign,
)
from device.radio.rds.ptype import RBDS_PTY, RDS_PTY, pty_name
from hwsim.chips.rds_groups import (
    af_pairs,
    block_b,
    group_0a,
    group_2a,
    ps_groups,
    radiotext_groups,
)

E = TypeVar("E")
Group = tuple[int, int, int, int]
PI = 0xD3C2
CLEAN = (0, 0, 0, 0)
# fm-radio.md: 0A, PS "MDR JUMP", PI D3C2, PTY 10, music, DI 0b1001.
MDR_B = (0x014C, 0x0149, 0x014A, 0x014F)
MDR_D = (0x4D44, 0x5220, 0x4A55, 0x4D50)


def mdr_group(segment: int) -> Group:
    return (PI, MDR_B[segment], 0xE0CD, MDR_D[segment])


def feed_all(dec: RdsDecoder, groups: list[Group], errors: object = CLEAN) -> list[RdsChange]:
    out: list[RdsChange] = []
    for g in groups:
        out += dec.feed(*g, errors=errors)  # type: ignore[arg-type]
    return out


def of_type(events: list[RdsChange], kind: type[E]) -> list[E]:
    return [e for e in events if isinstance(e, kind)]


# --- PS and the fm-radio.md vector ----------------------------------------------------


def test_rds_ps_vector_mdr_jump_in_order() -> None:
    dec = RdsDecoder()
    per_group = [dec.feed(*mdr_group(i % 4), errors=CLEAN) for i in range(8)]
    assert all(not of_type(e, PsChanged) for e in per_group[:7])
    assert of_type(per_group[7], PsChanged) == [PsChanged("MDR JUMP")]
    assert dec.state == RdsState(
        pi=PI,
        ps="MDR JUMP",
        pty=10,
        pty_name="Pop music",
        tp=False,
        ta=False,
        music=True,
        di=DecoderInfo(dynamic_pty=True, compressed=False, artificial_head=False, stereo=True),
    )


def test_rds_ps_vector_events_in_full() -> None:
    dec = RdsDecoder()
    events = feed_all(dec, [mdr_group(i % 4) for i in range(8)])
    assert events == [
        PiChanged(PI),
        PtyChanged(10, "Pop music"),
        MusicSpeechChanged(music=True),
        TrafficChanged(tp=False, ta=False),
        DecoderInfoChanged(DecoderInfo(True, False, False, True)),
        PsChanged("MDR JUMP"),
    ]
    assert PiChanged(PI).hex == "D3C2"


def test_rds_encoder_reproduces_the_vector() -> None:
    groups = ps_groups(PI, "MDR JUMP", pty=10, music=True, di=0b1001)
    assert [g[1] for g in groups] == list(MDR_B)
    assert [g[3] for g in groups] == list(MDR_D)
    assert all(g[0] == PI for g in groups)


def test_rds_ps_any_segment_order() -> None:
    for order in itertools.permutations(range(4)):
        dec = RdsDecoder()
        events = feed_all(dec, [mdr_group(s) for s in order * 2])
        assert of_type(events, PsChanged) == [PsChanged("MDR JUMP")], order


def test_rds_ps_random_orders_and_repeats() -> None:
    rng = random.Random(5)
    for _ in range(200):
        dec = RdsDecoder()
        segments = [rng.randrange(4) for _ in range(40)]
        events = feed_all(dec, [mdr_group(s) for s in segments])
        published = [e for e in of_type(events, PsChanged)]
        complete = all(segments.count(s) >= 2 for s in range(4))
        assert published == ([PsChanged("MDR JUMP")] if complete else [])


def test_rds_ps_each_segment_twice_in_a_row() -> None:
    """Twice each, but segment 0 was last seen before segment 3 first appeared: the
    station may have renamed itself in between, so 0-2 must be seen once more."""
    dec = RdsDecoder()
    events = feed_all(dec, [mdr_group(s) for s in (0, 0, 1, 1, 2, 2, 3, 3)])
    assert of_type(events, PsChanged) == []
    events = feed_all(dec, [mdr_group(s) for s in (0, 1)])
    assert of_type(events, PsChanged) == []
    events = feed_all(dec, [mdr_group(2)])
    assert of_type(events, PsChanged) == [PsChanged("MDR JUMP")]


def test_rds_ps_change_is_published_whole_never_mixed() -> None:
    dec = RdsDecoder()
    old = [g for _ in range(2) for g in ps_groups(PI, "OLD NAME")]
    new = [g for _ in range(3) for g in ps_groups(PI, "NEW TEXT")]
    for cut in range(4):  # the station switches in the middle of a cycle
        dec = RdsDecoder()
        stream = old + old[:cut] + new[cut:]
        names = [e.ps for e in of_type(feed_all(dec, stream), PsChanged)]
        assert names == ["OLD NAME", "NEW TEXT"], cut


def test_rds_ps_one_corrupt_segment_is_not_published() -> None:
    dec = RdsDecoder()
    stream = ps_groups(PI, "MDR JUMP") * 2
    bad = list(stream[5])
    bad[3] ^= 0x0404  # an undetected error: the chip says 0 errors
    stream[5] = (bad[0], bad[1], bad[2], bad[3])
    events = feed_all(dec, stream + ps_groups(PI, "MDR JUMP") * 2)
    assert of_type(events, PsChanged) == [PsChanged("MDR JUMP")]


def test_rds_ps_needs_block_d_and_b() -> None:
    dec = RdsDecoder()
    groups = ps_groups(PI, "MDR JUMP") * 2
    assert not of_type(feed_all(dec, groups, errors=(0, 0, 0, 2)), PsChanged)
    assert not of_type(feed_all(dec, groups, errors=(0, 3, 0, 0)), PsChanged)
    assert dec.stats.groups_bad_b == 8
    assert of_type(feed_all(dec, groups, errors=(3, 1, 3, 1)), PsChanged)


def test_rds_ps_with_rda_error_info_for_a_and_b_only() -> None:
    dec = RdsDecoder()
    events = feed_all(dec, ps_groups(PI, "RDA TEST") * 2, errors=(0, 0, None, None))
    assert of_type(events, PsChanged) == [PsChanged("RDA TEST")]
    dec = RdsDecoder()
    events = feed_all(dec, ps_groups(PI, "NO INFO ") * 2, errors=None)
    assert of_type(events, PsChanged) == [PsChanged("NO INFO ")]


def test_rds_ps_max_errors_is_configurable() -> None:
    strict = RdsDecoder(max_errors=0)
    assert not feed_all(strict, ps_groups(PI, "STRICT  ") * 2, errors=(0, 1, 0, 0))
    lenient = RdsDecoder(max_errors=2)
    events = feed_all(lenient, ps_groups(PI, "LENIENT ") * 2, errors=(0, 2, 0, 2))
    assert of_type(events, PsChanged) == [PsChanged("LENIENT ")]


def test_rds_ps_control_characters_are_rejected() -> None:
    dec = RdsDecoder()
    groups = ps_groups(PI, "MDR JUMP") * 2
    bad = [(a, b, c, (d & 0xFF00) | 0x07) if b & 3 == 1 else (a, b, c, d) for a, b, c, d in groups]
    assert not of_type(feed_all(dec, bad), PsChanged)
    assert dec.stats.segments_rejected == 2


def test_rds_ps_0b_groups() -> None:
    dec = RdsDecoder()
    events = feed_all(dec, ps_groups(PI, "VERSIONB", version_b=True) * 2)
    assert of_type(events, PsChanged) == [PsChanged("VERSIONB")]


def test_rds_ps_accented_characters() -> None:
    dec = RdsDecoder()
    events = feed_all(dec, ps_groups(PI, "Ö3 Süd€") * 2)
    assert of_type(events, PsChanged) == [PsChanged("Ö3 Süd€ ")]


# --- PI ----------------------------------------------------------------------------------


def test_rds_pi_confirmed_on_second_sighting() -> None:
    dec = RdsDecoder()
    g = mdr_group(0)
    assert not of_type(dec.feed(*g, errors=CLEAN), PiChanged)
    assert dec.state.pi is None
    assert of_type(dec.feed(*g, errors=CLEAN), PiChanged) == [PiChanged(PI)]
    assert dec.state.pi == PI


def test_rds_pi_block_c_of_version_b_groups_must_match() -> None:
    dec = RdsDecoder()
    feed_all(dec, ps_groups(PI, "VERSIONB", version_b=True) * 2)
    assert dec.state.ps == "VERSIONB"
    b = block_b(0, True, False, 0, 0)
    assert dec.feed(PI, b, 0x1234, 0x4142, errors=CLEAN) == []
    assert dec.stats.groups_other_pi == 1


def test_rds_pi_change_needs_four_block_a_sightings() -> None:
    dec = RdsDecoder()
    feed_all(dec, ps_groups(PI, "MDR JUMP") * 2)
    other = ps_groups(0x1234, "OTHER FM")
    assert feed_all(dec, other[:3]) == []
    assert dec.feed(*other[3], errors=CLEAN)[:2] == [RdsCleared("pi_changed"), PiChanged(0x1234)]
    # a corrupt block B that makes a 0A group look like 0B cannot change the PI
    dec = RdsDecoder()
    feed_all(dec, ps_groups(PI, "MDR JUMP") * 2)
    fake_0b = (0xFFFF, block_b(0, True, False, 0, 0), 0xCDCD, 0x4142)
    for _ in range(10):
        dec.feed(*fake_0b, errors=(3, 0, 0, 0))
    assert dec.state.pi == PI and dec.state.ps == "MDR JUMP"


def test_rds_pi_single_foreign_group_is_ignored() -> None:
    dec = RdsDecoder()
    feed_all(dec, ps_groups(PI, "MDR JUMP") * 2)
    foreign = group_0a(0x1234, 0, "XXXXXXXX")
    assert dec.feed(*foreign, errors=CLEAN) == []
    assert dec.stats.groups_other_pi == 1
    assert dec.state.ps == "MDR JUMP" and dec.state.pi == PI


def test_rds_pi_change_clears_and_restarts() -> None:
    dec = RdsDecoder()
    feed_all(dec, ps_groups(PI, "MDR JUMP") * 2)
    events = feed_all(dec, ps_groups(0x1234, "OTHER FM") * 3)
    assert events[:2] == [RdsCleared("pi_changed"), PiChanged(0x1234)]
    assert of_type(events, PsChanged) == [PsChanged("OTHER FM")]
    assert dec.state.pi == 0x1234


def test_rds_pi_unusable_block_a_still_reads_the_group() -> None:
    dec = RdsDecoder()
    events = feed_all(dec, ps_groups(PI, "MDR JUMP") * 2, errors=(3, 0, 0, 0))
    assert of_type(events, PsChanged) == [PsChanged("MDR JUMP")]
    assert dec.state.pi is None


# --- reset on retune -----------------------------------------------------------------------


def test_rds_reset_clears_everything() -> None:
    dec = RdsDecoder()
    feed_all(dec, ps_groups(PI, "MDR JUMP", af_khz=(88_000, 90_000)) * 4)
    feed_all(dec, radiotext_groups(PI, "Hello") * 2)
    assert dec.state.ps and dec.state.radiotext and dec.state.af_khz
    dec.reset()
    assert dec.state == RdsState()
    # a half-received PS from before the retune must not complete a new one
    events = feed_all(dec, ps_groups(PI, "NEW ONE ")[:4])
    assert not of_type(events, PsChanged)
    assert dec.stats.groups > 0  # counters survive


def test_rds_reset_drops_partial_segments() -> None:
    dec = RdsDecoder()
    feed_all(dec, ps_groups(PI, "AAAABBBB")[:2] * 2)  # segments 0 and 1 confirmed
    dec.reset()
    events = feed_all(dec, ps_groups(PI, "CCCCDDDD")[2:] * 2)
    assert not of_type(events, PsChanged)


# --- radiotext ---------------------------------------------------------------------------


def test_rds_radiotext_full_64_characters() -> None:
    text = "".join(chr(ord("A") + i % 26) for i in range(64))
    dec = RdsDecoder()
    groups = radiotext_groups(PI, text)
    assert len(groups) == 16
    assert not of_type(feed_all(dec, groups), RadioTextChanged)
    events = feed_all(dec, groups)
    assert of_type(events, RadioTextChanged) == [RadioTextChanged(text)]


def test_rds_radiotext_ends_at_carriage_return() -> None:
    dec = RdsDecoder()
    groups = radiotext_groups(PI, "Now: Song A")
    assert len(groups) == 3
    events = feed_all(dec, groups * 2)
    assert of_type(events, RadioTextChanged) == [RadioTextChanged("Now: Song A")]


def test_rds_radiotext_single_confirmation_when_configured() -> None:
    dec = RdsDecoder(rt_confirmations=1)
    events = feed_all(dec, radiotext_groups(PI, "Quick"))
    assert of_type(events, RadioTextChanged) == [RadioTextChanged("Quick")]


def test_rds_radiotext_2b() -> None:
    dec = RdsDecoder()
    events = feed_all(dec, radiotext_groups(PI, "Short 2B text", version_b=True) * 2)
    assert of_type(events, RadioTextChanged) == [RadioTextChanged("Short 2B text")]
    full = "x" * 32
    dec = RdsDecoder()
    events = feed_all(dec, radiotext_groups(PI, full, version_b=True) * 2)
    assert of_type(events, RadioTextChanged) == [RadioTextChanged(full)]


def test_rds_radiotext_padding_is_stripped() -> None:
    dec = RdsDecoder()
    groups = [group_2a(PI, s, "Padded".ljust(64), 0) for s in range(16)]
    assert of_type(feed_all(dec, groups * 2), RadioTextChanged) == [RadioTextChanged("Padded")]


def test_rds_radiotext_ab_flip_clears_the_buffer() -> None:
    dec = RdsDecoder()
    first = "First text that is long enough.."
    second = "Second"
    feed_all(dec, radiotext_groups(PI, first, 0) * 2)
    assert dec.state.radiotext == first
    # after the flip, segments of the old text must not complete the new one
    flipped = radiotext_groups(PI, second, 1)
    events = feed_all(dec, flipped[:1])
    assert dec.state.radiotext == first  # kept until the new one is complete
    events += feed_all(dec, flipped * 2)
    assert of_type(events, RadioTextChanged) == [RadioTextChanged(second)]


def test_rds_radiotext_flip_never_mixes_old_and_new() -> None:
    old = "A" * 64
    new = "B" * 64
    dec = RdsDecoder()
    feed_all(dec, radiotext_groups(PI, old, 0) * 2)
    stream = radiotext_groups(PI, new, 1)[:8] + radiotext_groups(PI, new, 1) * 2
    texts = [e.text for e in of_type(feed_all(dec, stream), RadioTextChanged)]
    assert texts == [new]


def test_rds_radiotext_change_without_flip_is_not_mixed() -> None:
    dec = RdsDecoder()
    feed_all(dec, radiotext_groups(PI, "A" * 64, 0) * 2)
    stream = radiotext_groups(PI, "B" * 64, 0) * 3
    texts = [e.text for e in of_type(feed_all(dec, stream), RadioTextChanged)]
    assert texts == ["B" * 64]


def test_rds_radiotext_short_text_without_terminator_after_three_cycles() -> None:
    dec = RdsDecoder()
    text = "No terminator here!!"  # 20 chars = 5 segments, station sends no 0x0D
    groups = [group_2a(PI, s, text.ljust(64), 0) for s in range(5)]
    events = feed_all(dec, groups * 3)
    assert not of_type(events, RadioTextChanged)
    events = feed_all(dec, groups)
    assert of_type(events, RadioTextChanged) == [RadioTextChanged(text)]


def test_rds_radiotext_one_corrupt_ab_flag_does_not_clear() -> None:
    text = "".join(chr(ord("a") + i % 26) for i in range(64))
    groups = radiotext_groups(PI, text, 0)
    dec = RdsDecoder()
    feed_all(dec, groups[:8] * 2)
    corrupt = group_2a(PI, 3, "junk" * 16, 1)
    dec.feed(*corrupt, errors=CLEAN)
    # Segments 0-7 kept their confirmation: one more sighting each (they must be seen
    # after 8-15 first appeared, so the text is one text) completes it.
    events = feed_all(dec, groups[8:] * 2 + groups[:8])
    assert of_type(events, RadioTextChanged) == [RadioTextChanged(text)]


def test_rds_radiotext_lost_last_segment_does_not_truncate() -> None:
    text = "".join(chr(ord("a") + i % 26) for i in range(64))
    groups = radiotext_groups(PI, text, 0)
    dec = RdsDecoder()
    events: list[RdsChange] = []
    for _ in range(10):  # segment 15 always arrives with an uncorrectable block D
        events += feed_all(dec, groups[:15])
        events += dec.feed(*groups[15], errors=(0, 0, 0, 3))
    assert not of_type(events, RadioTextChanged)
    events = feed_all(dec, groups[15:] * 2 + groups[:15])  # 0-14 again after 15 first appeared
    assert of_type(events, RadioTextChanged) == [RadioTextChanged(text)]


def test_rds_radiotext_needs_blocks_c_and_d() -> None:
    dec = RdsDecoder()
    groups = radiotext_groups(PI, "Hello") * 2
    assert not of_type(feed_all(dec, groups, errors=(0, 0, 2, 0)), RadioTextChanged)
    assert not of_type(feed_all(dec, groups, errors=(0, 0, 0, 3)), RadioTextChanged)
    assert of_type(feed_all(dec, groups), RadioTextChanged)


def test_rds_radiotext_line_feed_kept_and_junk_controls_rejected() -> None:
    dec = RdsDecoder()
    events = feed_all(dec, radiotext_groups(PI, "Line one\nLine two") * 2)
    assert of_type(events, RadioTextChanged) == [RadioTextChanged("Line one\nLine two")]
    dec = RdsDecoder()
    g = group_2a(PI, 0, "abcd", 0)
    assert dec.feed(g[0], g[1], 0x0102, g[3], errors=CLEAN) == []
    assert dec.stats.segments_rejected == 1


# --- PTY, TP/TA, M/S, DI ----------------------------------------------------------------


def test_rds_pty_names_differ_between_rds_and_rbds() -> None:
    assert pty_name(5) == "Education"
    assert pty_name(5, rbds=True) == "Rock"
    assert len(RDS_PTY) == len(RBDS_PTY) == 32
    rbds = RdsDecoder(rbds=True)
    events = feed_all(rbds, ps_groups(PI, "WXYZ FM ", pty=5) * 2)
    assert of_type(events, PtyChanged) == [PtyChanged(5, "Rock")]
    assert rbds.state.pty_name == "Rock"


def test_rds_pty_change_needs_two_groups() -> None:
    dec = RdsDecoder()
    feed_all(dec, ps_groups(PI, "MDR JUMP", pty=10))
    assert of_type(dec.feed(*group_0a(PI, 0, "MDR JUMP", pty=1), errors=CLEAN), PtyChanged) == []
    events = dec.feed(*group_0a(PI, 1, "MDR JUMP", pty=1), errors=CLEAN)
    assert of_type(events, PtyChanged) == [PtyChanged(1, "News")]


def test_rds_traffic_announcement_on_and_off() -> None:
    dec = RdsDecoder()
    events = feed_all(dec, ps_groups(PI, "TRAFFIC ", tp=True))
    assert of_type(events, TrafficChanged) == [TrafficChanged(tp=True, ta=False)]
    events = feed_all(dec, ps_groups(PI, "TRAFFIC ", tp=True, ta=True))
    assert of_type(events, TrafficChanged) == [TrafficChanged(tp=True, ta=True)]
    events = feed_all(dec, ps_groups(PI, "TRAFFIC ", tp=True, ta=False))
    assert of_type(events, TrafficChanged) == [TrafficChanged(tp=True, ta=False)]


def test_rds_traffic_from_group_15b() -> None:
    dec = RdsDecoder()
    b = block_b(15, True, True, 3, 0x10)
    events = feed_all(dec, [(PI, b, PI, b)] * 2)
    assert of_type(events, TrafficChanged) == [TrafficChanged(tp=True, ta=True)]


def test_rds_music_speech_switch() -> None:
    dec = RdsDecoder()
    feed_all(dec, ps_groups(PI, "TALK    ", music=True))
    events = feed_all(dec, ps_groups(PI, "TALK    ", music=False))
    assert of_type(events, MusicSpeechChanged) == [MusicSpeechChanged(music=False)]


def test_rds_decoder_identification_bits() -> None:
    for bits in range(16):
        dec = RdsDecoder()
        feed_all(dec, ps_groups(PI, "DI TEST ", di=bits) * 2)
        assert dec.state.di is not None and dec.state.di.bits == bits


# --- AF lists --------------------------------------------------------------------------


def test_rds_af_list_method_a_confirmed_on_second_list() -> None:
    afs = (88_000, 90_400, 95_100, 101_100, 107_900)
    dec = RdsDecoder()
    pairs = af_pairs(afs)
    assert pairs[0] == (229, 5)
    groups = [group_0a(PI, i % 4, "AF TEST ", af=p) for i, p in enumerate(pairs)]
    assert not of_type(feed_all(dec, groups), AfListChanged)
    events = feed_all(dec, groups)
    assert of_type(events, AfListChanged) == [AfListChanged(afs)]
    assert dec.state.af_khz == afs


def test_rds_af_list_skips_lf_mf_and_filler() -> None:
    dec = RdsDecoder()
    # 3 AFs: 89.0, one LF/MF (code 250 then its code), 99.0; filler pads the last pair
    pairs = [(227, 15), (250, 40), (115, 205)]
    groups = [group_0a(PI, i % 4, "LFMF    ", af=p) for i, p in enumerate(pairs)]
    events = feed_all(dec, groups * 2)
    assert of_type(events, AfListChanged) == [AfListChanged((89_000, 99_000))]


def test_rds_af_list_via_ps_cycles() -> None:
    afs = tuple(88_000 + 400 * i for i in range(12))
    dec = RdsDecoder()
    groups = [g for cycle in range(8) for g in ps_groups(PI, "LONG AF ", af_khz=afs, cycle=cycle)]
    events = feed_all(dec, groups)
    assert of_type(events, AfListChanged) == [AfListChanged(afs)]


def test_rds_af_corrupt_list_not_published() -> None:
    afs = (88_000, 90_400, 95_100)
    pairs = af_pairs(afs)
    good = [group_0a(PI, i % 4, "AF TEST ", af=p) for i, p in enumerate(pairs)]
    bad = [group_0a(PI, 0, "AF TEST ", af=pairs[0]), group_0a(PI, 1, "AF TEST ", af=(60, 70))]
    dec = RdsDecoder()
    events = feed_all(dec, good + bad + good + good)
    assert [e.frequencies_khz for e in of_type(events, AfListChanged)] == [afs]


# --- robustness -------------------------------------------------------------------------

grades = st.one_of(st.none(), st.integers(min_value=0, max_value=3))


@settings(max_examples=500)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 0xFFFF),
            st.integers(0, 0xFFFF),
            st.integers(0, 0xFFFF),
            st.integers(0, 0xFFFF),
            st.one_of(st.none(), st.tuples(grades, grades, grades, grades)),
        ),
        max_size=60,
    ),
    st.booleans(),
)
def test_rds_arbitrary_groups_never_raise(
    groups: list[tuple[int, int, int, int, tuple[int | None, ...] | None]], rbds: bool
) -> None:
    dec = RdsDecoder(rbds=rbds)
    for a, b, c, d, errors in groups:
        dec.feed(a, b, c, d, errors=errors)
        state = dec.state
        assert state.ps is None or len(state.ps) == 8
        assert state.radiotext is None or len(state.radiotext) <= 64
    assert dec.stats.groups == len(groups)


@given(
    st.lists(st.integers(-(2**20), 2**20), min_size=4, max_size=4),
    st.lists(st.one_of(st.none(), st.integers(-5, 9)), max_size=6),
)
def test_rds_out_of_range_input_never_raises(words: list[int], errors: list[int | None]) -> None:
    dec = RdsDecoder()
    dec.feed(words[0], words[1], words[2], words[3], errors=errors)


@given(st.lists(st.integers(0, 0xFFFF), min_size=4, max_size=4))
def test_rds_group_type_2_garbage_never_raises(words: list[int]) -> None:
    dec = RdsDecoder()
    b = (words[1] & 0x0FFF) | 0x2000
    for _ in range(3):
        dec.feed(words[0], b, words[2], words[3], errors=CLEAN)


# --- charset and RBDS call letters ----------------------------------------------------------


def test_charset_ascii_and_ebu_specials() -> None:
    assert charset.decode(b"MDR JUMP") == "MDR JUMP"
    assert charset.decode(bytes([0x8D, 0x91, 0x97, 0xA9, 0xAB, 0x24])) == "ßäö€$¤"
    assert charset.encode("Süd€$") == bytes([0x53, 0x99, 0x64, 0xA9, 0xAB])


def test_charset_unknown_codes_are_not_control_characters() -> None:
    for code in range(256):
        ch = charset.decode_char(code)
        if ch == "\n":
            continue
        assert unicodedata.category(ch) != "Cc", hex(code)
    assert charset.decode_char(0x00) == charset.REPLACEMENT
    assert charset.decode_char(0xFF) == charset.REPLACEMENT


def test_charset_round_trip() -> None:
    for ch, code in charset.ENCODE.items():
        assert charset.decode_char(code) == ch
    assert len(set(charset.ENCODE.values())) == len(charset.ENCODE)


def test_rbds_call_letters() -> None:
    assert rbds_callsign(0x1000) == "KAAA"
    assert rbds_callsign(0x54A8) == "WAAA"
    assert rbds_callsign(0x54A7) == "KZZZ"
    assert rbds_callsign(0xD3C2) is None
