"""RdsMemory: a PS or radiotext confirmed before counts as one sighting of each segment, never more."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from device.radio.rds.decoder import PsChanged, RadioTextChanged, RdsDecoder
from device.radio.rds.memory import PS, RT_2A, RT_2B, RdsMemory
from device.radio.rds.text import SegmentedText
from device.radio.state import RadioStore
from hwsim.chips.rds_groups import group_2a, group_2b, ps_groups
from tests.radio.rds.test_rds_stream import PI, Noise, damage, mixed_schedule

RDA = [0, 0, None, None]  # the RDA5807M grades blocks A and B only


def groups_to_ps(dec: RdsDecoder, groups: list[tuple[int, int, int, int]]) -> int | None:
    for n, g in enumerate(groups, 1):
        if any(isinstance(e, PsChanged) for e in dec.feed(*g, errors=RDA)):
            return n
    return None


# -- the memory -------------------------------------------------------------------------

def test_memory_keeps_the_last_name_per_pi_and_drops_the_least_recently_heard() -> None:
    mem = RdsMemory(capacity=2)
    assert mem.put(0xD311, b"ALPHA FM") and mem.changed
    mem.changed = False
    assert not mem.put(0xD311, b"ALPHA FM") and not mem.changed  # same name: no change to save
    assert mem.put(0xD412, b"KLASSIK ")
    mem.put(0xD311, b"ALPHA FM")  # heard again: now the most recent
    mem.put(0xD513, b"NEWS 24 ")
    assert mem.get(0xD412) is None and mem.get(0xD311) == b"ALPHA FM" and len(mem) == 2
    assert not mem.put(0x1FFFF, b"TOO WIDE") and not mem.put(0xD311, b"SHORT")
    assert not mem.put(0xD311, b"CTRL\x01 FM") and not mem.put(0xD311, b"ALPHA FM", "rt9")


def test_memory_keeps_radiotexts_apart_from_names() -> None:
    mem = RdsMemory()
    assert mem.put(0xD311, b"ALPHA FM", PS)
    assert mem.put(0xD311, b"Hits all day\r   ", RT_2A)
    assert mem.put(0xD311, b"Hi\r ", RT_2B)
    assert not mem.put(0xD311, b"odd", RT_2A)  # not whole 4-byte segments
    assert not mem.put(0xD311, b"x" * 68, RT_2A)  # more than 16 segments
    assert mem.get(0xD311, RT_2A) == b"Hits all day\r   " and mem.names() == 1 and len(mem) == 3


def test_memory_round_trips_through_json_and_skips_nonsense(tmp_path: Path) -> None:
    mem = RdsMemory()
    mem.put(0xD311, b"ALPHA FM")
    mem.put(0xC201, b"MDR JUMP")
    store = RadioStore(tmp_path, "radio")
    store.save_rds_memory(mem.to_json())
    doc = store.load_rds_memory()
    mem.put(0xD311, b"Hits all day\r   ", RT_2A)
    store.save_rds_memory(mem.to_json())
    doc = store.load_rds_memory()
    assert doc[0] == {"pi": "D311", "kind": "ps", "raw": b"ALPHA FM".hex(), "text": "ALPHA FM"}
    assert doc[2] == {"pi": "D311", "kind": "rt2a", "raw": b"Hits all day\r   ".hex(), "text": "Hits all day"}
    doc += [{"pi": "XYZ1", "raw": "00"}, {"pi": "D999", "raw": "0001020304050607"}, "junk",
            {"pi": "D998", "raw": b"TOO LONG!".hex()}, {"pi": "D997", "kind": "rt2a", "raw": "zz"}]
    back = RdsMemory.from_json(doc)
    assert back.to_json() == mem.to_json() and not back.changed
    assert RdsMemory.from_json({"not": "a list"}).to_json() == []
    (tmp_path / "radio_rds_memory.json").write_text("{broken")
    assert store.load_rds_memory() is None


# -- hints --------------------------------------------------------------------------------

def test_hint_counts_as_one_sighting_and_never_confirms_on_its_own() -> None:
    text = SegmentedText(4, 2, need=2)
    for i, seg in enumerate((b"AL", b"PH", b"A ", b"FM")):
        text.hint(i, seg)
        text.hint(i, seg)  # a second hint is not a second sighting
    assert text.complete() is None and not any(text.received(i) for i in range(4))
    for i, seg in enumerate((b"AL", b"PH", b"A ", b"FM")):
        text.put(i, seg)
    assert text.complete() == b"ALPHA FM"


def test_hint_after_one_sighting_on_air_confirms_only_the_same_value() -> None:
    text = SegmentedText(4, 2, need=2)
    text.put(0, b"AL")
    text.hint(0, b"AL")
    assert text.confirmed(0)
    text.put(1, b"XX")  # on air first: a different remembered value is ignored
    text.hint(1, b"PH")
    assert not text.confirmed(1)
    text.put(1, b"PH")
    assert not text.confirmed(1)  # one sighting of PH on air: not enough
    one = SegmentedText(4, 2, need=1)
    one.hint(0, b"AL")
    assert not one.received(0) and one.complete() is None


# -- the decoder ----------------------------------------------------------------------------

@pytest.mark.parametrize("start", range(4))
def test_rda_ps_takes_eight_0a_groups_first_and_four_when_heard_before(start: int) -> None:
    groups = ps_groups(PI, "ALPHA FM")
    cycle = (groups[start:] + groups[:start]) * 4
    mem = RdsMemory()
    dec = RdsDecoder(rds_memory=mem)
    assert groups_to_ps(dec, cycle) == 8 and mem.get(PI) == b"ALPHA FM"
    dec.reset()
    assert groups_to_ps(dec, cycle) == 4 and dec.state.ps == "ALPHA FM"
    plain = RdsDecoder()
    assert groups_to_ps(plain, cycle) == 8


def test_a_renamed_station_shows_only_its_new_name() -> None:
    mem = RdsMemory()
    mem.put(PI, b"OLD NAME")
    dec = RdsDecoder(rds_memory=mem)
    cycle = ps_groups(PI, "NEW NAME") * 4
    published = [e.ps for g in cycle for e in dec.feed(*g, errors=RDA) if isinstance(e, PsChanged)]
    assert published == ["NEW NAME"] and mem.get(PI) == b"NEW NAME"


def test_a_partly_renamed_station_needs_two_sightings_of_what_changed() -> None:
    mem = RdsMemory()
    mem.put(PI, b"ROCK FM ")
    dec = RdsDecoder(rds_memory=mem)
    cycle = ps_groups(PI, "JAZZ FM ") * 4
    # "JA" and "ZZ" twice on air (groups 1+5, 2+6); " F" and "M " from memory + air, and
    # seen again after "ZZ" first appeared (group 7), so the text is one text, not a mix.
    assert groups_to_ps(dec, cycle) == 7
    assert dec.state.ps == "JAZZ FM "


def test_memory_is_per_pi() -> None:
    mem = RdsMemory()
    mem.put(0xD311, b"ALPHA FM")
    dec = RdsDecoder(rds_memory=mem)
    assert groups_to_ps(dec, ps_groups(0xD412, "ALPHA FM") * 4) == 8


NAMES = ["MDR JUMP", "HITRADIO", "NEWS 24 ", "TRAFFIC!", "ROCK FM ", "JAZZ FM ", "JAZZ FUN", "ROCK FUN"]


def _dynamic_ps_with_retunes(seed: int, noise: Noise, memory: bool) -> tuple[list[str], int, int]:
    """A station that renames itself every ~12 s (names sharing segments, switched mid-cycle),
    retuned every 2-9 s; returns (garbage, published, published within 20 groups of a retune)."""
    rng = random.Random(seed)
    dec = RdsDecoder(rds_memory=RdsMemory() if memory else None)
    sent: set[str] = set()
    garbage: list[str] = []
    published = quick = since_reset = 0
    reset_every = rng.choice((23, 37, 60, 100))
    stream = mixed_schedule(NAMES[0], "radiotext\r")
    for i in range(6_000):
        if i % 137 == 0:
            name = NAMES[rng.randrange(len(NAMES))]
            sent.add(name)
            stream = mixed_schedule(name, "radiotext\r")
            for _ in range(rng.randrange(5)):
                next(stream)
        if i % reset_every == 0:
            dec.reset()
            since_reset = 0
        since_reset += 1
        group, grades, _ = damage(rng, next(stream), noise)
        for e in dec.feed(*group, errors=grades):
            if isinstance(e, PsChanged):
                published += 1
                quick += since_reset <= 20
                if e.ps not in sent:
                    garbage.append(e.ps)
    return garbage, published, quick


@pytest.mark.parametrize("grades_cd", [False, True], ids=["rda5807m", "si4703"])
@pytest.mark.parametrize("memory", [False, True], ids=["plain", "memory"])
def test_dynamic_ps_with_retunes_and_heavy_noise_never_publishes_a_mix(grades_cd: bool, memory: bool) -> None:
    """Half the blocks damaged, 2 % undetected errors: no garbage, no mix of two names."""
    garbage: list[str] = []
    published = quick = 0
    for seed in range(5):
        bad, n, q = _dynamic_ps_with_retunes(seed, Noise(0.5, 0.02, grades_cd), memory)
        garbage += bad
        published += n
        quick += q
    assert garbage == []
    assert published > 10  # it does keep up
    if memory:
        assert quick > 0


def test_rda_noisy_with_memory_publishes_sooner_after_a_retune() -> None:
    noise = Noise(p_damage=0.30, p_undetected=0.01, grades_cd=False)
    plain = [_dynamic_ps_with_retunes(seed, noise, memory=False) for seed in range(4)]
    remembered = [_dynamic_ps_with_retunes(seed, noise, memory=True) for seed in range(4)]
    assert all(g == [] for g, _, _ in plain + remembered)
    assert sum(q for _, _, q in remembered) > sum(q for _, _, q in plain)


def test_clean_station_heard_before_with_a_realistic_mix() -> None:
    mem = RdsMemory()
    dec = RdsDecoder(rds_memory=mem)
    stream = mixed_schedule("ALPHA FM", "radiotext\r")
    first = [next(stream) for _ in range(40)]
    assert groups_to_ps(dec, first) is not None
    dec.reset()
    again = [next(stream) for _ in range(40)]
    n = groups_to_ps(dec, again)
    assert n is not None and n <= 10  # four 0A groups in a 40 % 0A mix


# -- radiotext ------------------------------------------------------------------------------

RT = "Hits all day"  # 12 characters + 0x0D = four 2A segments


def rt_cycle(text: str, flag: int = 0, version_b: bool = False) -> list[tuple[int, int, int, int]]:
    full = text + "\r"
    size = 2 if version_b else 4
    n = (len(full) + size - 1) // size
    make = group_2b if version_b else group_2a
    return [make(PI, s, full.ljust(32 if version_b else 64), flag) for s in range(n)]


def groups_to_rt(dec: RdsDecoder, groups: list[tuple[int, int, int, int]]) -> int | None:
    for n, g in enumerate(groups, 1):
        if any(isinstance(e, RadioTextChanged) for e in dec.feed(*g, errors=RDA)):
            return n
    return None


@pytest.mark.parametrize("version_b", [False, True], ids=["2A", "2B"])
def test_radiotext_takes_two_passes_first_and_one_when_heard_before(version_b: bool) -> None:
    mem = RdsMemory()
    dec = RdsDecoder(rds_memory=mem)
    pi_groups = ps_groups(PI, "ALPHA FM")[:2]  # the PI is confirmed before the first 2A group
    cycle = rt_cycle(RT, version_b=version_b)
    n = len(cycle)
    assert groups_to_rt(dec, pi_groups + cycle * 3) == 2 + 2 * n
    assert dec.state.radiotext == RT
    assert mem.get(PI, RT_2B if version_b else RT_2A) is not None
    dec.reset()
    assert groups_to_rt(dec, pi_groups + cycle * 3) == 2 + n
    assert dec.state.radiotext == RT


def test_a_new_radiotext_is_never_shown_as_the_remembered_one() -> None:
    mem = RdsMemory()
    mem.put(PI, b"Hits all day\r   ", RT_2A)
    dec = RdsDecoder(rds_memory=mem)
    groups = ps_groups(PI, "ALPHA FM")[:2] + rt_cycle("Hits all night") * 3
    published = [e.text for g in groups for e in dec.feed(*g, errors=RDA) if isinstance(e, RadioTextChanged)]
    assert published == ["Hits all night"]


def _noisy_radiotext(memory: bool, p_damage: float) -> tuple[list[str], int]:
    """Two texts taking turns (A/B flag flipped) every ~90 s, a retune every ~26 s (RDA noise)."""
    texts = ["Now: The Example Band - Song One", "Traffic news at half past"]
    noise = Noise(p_damage=p_damage, p_undetected=0.01, grades_cd=False)
    wrong: list[str] = []
    published = 0
    for seed in range(4):
        rng = random.Random(seed)
        dec = RdsDecoder(rds_memory=RdsMemory() if memory else None)
        which = 0
        stream = mixed_schedule("ALPHA FM", texts[0] + "\r", flag=0)
        for i in range(10_000):
            if i % 1_000 == 0 and i:
                which ^= 1
                stream = mixed_schedule("ALPHA FM", texts[which] + "\r", flag=which)
            if i % 300 == 0:
                dec.reset()
            group, grades, _ = damage(rng, next(stream), noise)
            for e in dec.feed(*group, errors=grades):
                if isinstance(e, RadioTextChanged):
                    published += 1
                    if e.text not in texts:
                        wrong.append(e.text)
    return wrong, published


@pytest.mark.parametrize("p_damage", [0.1, 0.3])
def test_rda_noisy_radiotext_with_memory_is_never_wrong_and_comes_sooner(p_damage: float) -> None:
    wrong, with_memory = _noisy_radiotext(True, p_damage)
    plain_wrong, plain = _noisy_radiotext(False, p_damage)
    assert wrong == [] and plain_wrong == []
    assert with_memory > plain  # more retunes end with the text shown


RT_TEXTS = ["Now: The Example Band - Song One", "Now: The Example Band - Song Two",
            "Traffic news at half past", "Now: Other Band - Song One"]


@pytest.mark.parametrize("p_damage", [0.0, 0.1])
@pytest.mark.parametrize("memory", [False, True], ids=["plain", "memory"])
def test_radiotext_changed_without_an_ab_flip_is_never_a_mix(memory: bool, p_damage: float) -> None:
    """Stations that change the text without flipping A/B (against the standard, but common),
    texts sharing segments, switched mid-cycle, retunes every 5-26 s: only whole texts."""
    wrong: list[str] = []
    published = 0
    for seed in range(6):
        rng = random.Random(seed)
        dec = RdsDecoder(rds_memory=RdsMemory() if memory else None)
        stream = mixed_schedule("ALPHA FM", RT_TEXTS[0] + "\r", flag=0)
        reset_every = rng.choice((60, 150, 300))
        for i in range(8_000):
            if i % 500 == 0 and i:
                stream = mixed_schedule("ALPHA FM", RT_TEXTS[rng.randrange(len(RT_TEXTS))] + "\r", flag=0)
                for _ in range(rng.randrange(5)):
                    next(stream)
            if i % reset_every == 0:
                dec.reset()
            group, grades, _ = damage(rng, next(stream), Noise(p_damage, p_damage / 20, grades_cd=False))
            for e in dec.feed(*group, errors=grades):
                if isinstance(e, RadioTextChanged):
                    published += 1
                    if e.text not in RT_TEXTS:
                        wrong.append(e.text)
    assert wrong == []
    assert published > 30  # and it keeps up
