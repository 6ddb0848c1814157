"""The simulated radio world: RDS block encoders (EN 50067 vectors), scheduler, signal, editing.

The encoders live in `hwsim.chips.rds_groups` (the project's one RDS encoder).

Runs under CPython (pytest) and MicroPython (tests/test_micropython.py).
"""

from hwsim.chips import radio_world as rw
from hwsim.chips import rds_groups as rg
from hwsim.chips.radio_world import RadioWorld, SimClock, Station


def _world(stations=None, epoch_s=None):
    clock = SimClock()
    return RadioWorld(stations if stations is not None else rw.default_stations(), clock=clock,
                      seed=5, epoch_s=epoch_s), clock


# -- encoders against the reference vectors --------------------------------------------------------
def test_world_group_0a_matches_the_mdr_jump_vector():
    bs = [0x014C, 0x0149, 0x014A, 0x014F]
    ds = [0x4D44, 0x5220, 0x4A55, 0x4D50]
    for seg in range(4):
        g = rg.group_0a(0xD3C2, seg, "MDR JUMP", 10, False, False, True, 0b1001,
                        (rg.AF_NONE, rg.AF_FILLER))
        assert g == (0xD3C2, bs[seg], 0xE0CD, ds[seg]), [hex(x) for x in g]


def test_world_group_0b_repeats_pi_in_block_c():
    a, b, c, d = rg.group_0b(0xD3C2, 1, "MDR JUMP", 10, False, False, True, 0b1001)
    assert (a, c) == (0xD3C2, 0xD3C2) and b == 0x0149 | 0x0800 and d == 0x5220


def test_world_group_4a_matches_the_clock_vectors():
    a, b, c, d = rg.group_4a(0xF201, 59724, 21, 55, 4, 0, True)
    assert (a, b & ~0x001C, c, d) == (0xF201, 0x441D & ~0x001C, 0xD299, 0x5DC4)
    assert rg.group_4a(0xF201, 59724, 22, 0, 4, 0, True)[3] == 0x6004
    assert rg.group_4a(0xF201, 59724, 22, 0, -3, 0, True)[3] & 0x3F == 0x20 | 3  # minus sign


def test_world_mjd_round_trips_and_matches_the_vector():
    assert rg.mjd_from_date(2022, 5, 25) == 59724
    assert rg.date_from_mjd(59724) == (2022, 5, 25)
    for y, m, d in ((2000, 1, 1), (2024, 2, 29), (2024, 3, 1), (2099, 12, 31)):
        assert rg.date_from_mjd(rg.mjd_from_date(y, m, d)) == (y, m, d)
    unix = (59724 - 40587) * 86400 + 21 * 3600 + 55 * 60 + 17
    assert rg.clock_fields(unix) == (59724, 21, 55)


def test_world_radiotext_groups_carry_the_text_and_end_mark():
    text = "Hello radio"
    n = rg.rt_segments(text, False)
    assert n == 3  # 11 chars + 0x0D = 12 -> 3 segments of 4
    chars = []
    for seg in range(n):
        _a, b, c, d = rg.group_2a(0xD311, seg, text, 1, 10, True)
        assert b >> 11 == 0b00100 and (b >> 4) & 1 == 1 and b & 0xF == seg
        chars += [c >> 8, c & 0xFF, d >> 8, d & 0xFF]
    assert bytes(chars[:12]) == b"Hello radio\r"
    _a, b, c, d = rg.group_2b(0xD311, 0, "Hi", 0, 10, True)
    assert b >> 11 == 0b00101 and c == 0xD311 and d == (ord("H") << 8) | ord("i")
    assert rg.rt_segments("x" * 64, False) == 16 and rg.rt_segments("x" * 40, True) == 16


def test_world_ebu_table_and_af_codes():
    assert rg.ebu_encode("Az 9") == [0x41, 0x7A, 0x20, 0x39]
    assert rg.ebu_encode("éÜß") == [0x82, 0xD9, 0x8D]
    assert rg.ebu_encode("\u4e2d") == [0x3F]
    assert rg.af_code(87600) == 1 and rg.af_code(107900) == 204
    assert rg.af_pairs([88400, 95100, 101300]) == [(227, 9), (76, 138)]
    assert rg.af_pairs([]) == [(rg.AF_NONE, rg.AF_FILLER)]
    assert rg.af_pairs([88400, 95100]) == [(226, 9), (76, rg.AF_FILLER)]


# -- the scheduler ---------------------------------------------------------------------------------
def test_world_group_mix_completes_ps_in_four_0a_groups():
    world, _clock = _world([Station(88400, pi=0xD311, ps="ALPHA FM", radiotexts=["x" * 20],
                                    clock=False)])
    s = world.stations[0]
    groups = [world.clean_group(s) for _ in range(60)]
    types = [g[1] >> 11 for g in groups]
    assert types.count(0) == 40 and types.count(4) == 20  # 0A : 2A = 4 : 2
    ps = bytearray(8)
    for g in groups[:4]:
        seg = g[1] & 3
        ps[2 * seg] = g[3] >> 8
        ps[2 * seg + 1] = g[3] & 0xFF
    assert bytes(ps) == b"ALPHA FM"


def test_world_sends_clock_time_once_a_minute():
    epoch = (59724 - 40587) * 86400 + 21 * 3600 + 55 * 60
    world, clock = _world([Station(88400, pi=0xF201, ps="CLOCK", tz_half_hours=4)], epoch_s=epoch)
    s = world.stations[0]
    seen = []
    for _ in range(int(180000 / 87.6)):
        g = world.clean_group(s)
        if g[1] >> 11 == 0b01000:
            seen.append(g)
        clock.advance(88)
    assert len(seen) in (3, 4), len(seen)
    _a, b, c, d = seen[0]
    assert (c, d) == (0xD299, 0x5DC4) and b & 3 == 1
    minutes = [(g[3] >> 6) & 0x3F for g in seen]
    assert minutes[:3] == [55, 56, 57], minutes


def test_world_radiotext_rotation_flips_the_ab_flag():
    world, clock = _world([Station(88400, radiotexts=["first", "second"], rt_period_s=10,
                                   clock=False)])
    s = world.stations[0]

    def flags():
        return set((g[1] >> 4) & 1 for g in (world.clean_group(s) for _ in range(30))
                   if g[1] >> 11 == 0b00100)

    first = flags()
    clock.advance(10000)
    second = flags()
    assert len(first) == 1 and len(second) == 1 and first != second


# -- signal and errors -----------------------------------------------------------------------------
def test_world_signal_at_stations_and_empty_channels():
    world, _clock = _world()
    rssi, snr, stereo, st = world.signal(88400)
    assert st is not None and st.ps == "ALPHA FM" and rssi == 63 and stereo and snr > 40
    rssi, snr, stereo, st = world.signal(99900)
    assert st is not None and not stereo  # the mono news station
    rssi, snr, stereo, st = world.signal(90000)
    assert st is None and rssi < 15 and not stereo
    rssi, _snr, _st, st = world.signal(88425)
    assert st is not None and rssi < 63  # slightly off-frequency


def test_world_fading_station_varies_over_time():
    world, clock = _world()
    levels = []
    for _ in range(20):
        levels.append(world.signal(106500)[0])
        clock.advance(1000)
    assert max(levels) - min(levels) > 20, levels


def test_world_block_errors_rise_on_weak_signals_and_corrupt_only_level_3():
    world, _clock = _world()
    strong = world.station(88400)
    weak = world.station(103700)
    assert world.block_error_probability(strong, 63) == 0
    assert world.block_error_probability(weak, 24) > 0.3
    clean = 0
    for _ in range(300):
        blocks, errors = world.next_group(weak, 24)
        assert len(errors) == 4 and all(0 <= e <= 3 for e in errors)
        if errors[0] < 3:
            assert blocks[0] == 0xD614
        else:
            assert blocks[0] != 0xD614
        clean += max(errors) == 0
    assert 0 < clean < 300
    world.set_error_rate(1.0)
    assert all(max(world.next_group(strong, 63)[1]) > 0 for _ in range(20))


def test_world_is_editable_at_run_time():
    world, _clock = _world()
    n = len(world.stations)
    world.add_station(Station(100000, rssi=50, ps="NEW"))
    assert len(world.stations) == n + 1 and world.signal(100000)[3].ps == "NEW"
    world.move_station(100000, 100500)
    assert world.signal(100000)[3] is None and world.signal(100500)[3].ps == "NEW"
    world.set_rssi(100500, 30)
    assert world.signal(100500)[0] == 30
    world.set_ps(100500, "RENAMED")
    world.set_radiotext(100500, ["now this"], period_s=5)
    world.set_error_rate(0.5, 100500)
    world.set_fading(100500, 5, 10)
    d = next(s for s in world.describe() if s["khz"] == 100500)
    assert d["ps"] == "RENAMED" and d["radiotexts"] == ["now this"] and d["error_rate"] == 0.5
    assert world.remove_station(100500) and not world.remove_station(100500)
    try:
        world.set_rssi(100500, 1)
        raise AssertionError("expected KeyError")
    except KeyError:
        pass
    khz = [s["khz"] for s in world.describe()]
    assert khz == sorted(khz) and 87200 in khz and len(khz) == n
