"""RDA5807M specifics: the model's two I2C faces and register semantics, and what the driver writes.

Runs under CPython (pytest) and MicroPython (tests/test_micropython.py).
"""

from p2mfw import tuner
from p2mfw.rda5807m import Rda5807m as RdaDriver

from hwsim.chips.radio_world import RadioWorld, SimClock
from hwsim.chips.rda5807m import Rda5807m as RdaModel
from hwsim.i2c import SimI2C


def _rig():
    clock = SimClock()
    world = RadioWorld(clock=clock, seed=3)
    bus = SimI2C()
    model = RdaModel(world)
    model.attach(bus)
    return bus, model, RdaDriver(bus, clock), clock


def _w(bus, reg, *values):
    data = bytearray([reg])
    for v in values:
        data += bytes([v >> 8, v & 0xFF])
    bus.writeto(0x11, data)


def _r(bus, reg):
    d = bus.readfrom_mem(0x11, reg, 2)
    return (d[0] << 8) | d[1]


def test_rda_model_chip_id_on_both_addresses():
    bus, model, _drv, _clock = _rig()
    assert _r(bus, 0x00) == 0x5804
    assert bus.scan() == [0x10, 0x11]
    d = bus.readfrom(0x10, 12)  # sequential: 0x0A..0x0F, all the datasheet defines
    assert len(d) == 12 and model.violations == []


def test_rda_model_refuses_a_sequential_read_past_0x0f():
    """RDA5807M datasheet v1.1 §7: a 0x10 read starts at 0x0A and runs on; no register after
    0x0F and no wrap is documented (the RDA5802 programming guide says the same), so the
    model counts a violation and the bytes past 0x0F read 0xFF (nobody drives SDA)."""
    bus, model, _drv, _clock = _rig()
    d = bus.readfrom(0x10, 32)
    assert d[12:] == b"\xff" * 20
    assert len(model.take_violations()) == 1
    bus.writeto(0x11, bytes([0x0F]))
    bus.readfrom(0x11, 4)  # 0x0F, then past the map
    assert [v for v in model.take_violations() if "past register 0x0F" in v]


def test_rda_driver_reads_the_register_file_by_random_access():
    """Bug 1 of issue 10: the driver read 32 bytes at 0x10 and assumed a wrap to 0x00.

    Before the fix the chip id read 0xFFFF here (NO_DEVICE: the tuner never attached)
    and the shadow of 0x04/0x05 was junk; now every read at 0x10 stays within 0x0A-0x0F
    and the register file comes from 0x11, one register per transaction.
    """
    bus, model, drv, _clock = _rig()
    bus.record = True
    assert drv.identify() == 0x5804
    drv.power_up()
    drv.tune(88400)
    drv.read_rds()
    reads = [(a, len(d)) for (_t, a, k, d) in bus.transactions if k == "r"]
    assert reads and all(n <= 12 for (a, n) in reads if a == 0x10), reads
    assert all(n == 2 for (a, n) in reads if a == 0x11), reads
    assert drv.regs[0x00] == 0x5804 and drv.regs[0x05] & 0xF == drv.volume
    assert model.violations == []


def test_rda_model_random_access_writes_only_the_addressed_register():
    bus, model, _drv, clock = _rig()
    _w(bus, 0x02, 0xC001)
    clock.advance(5)  # the power-up delay
    before = list(model.regs)
    _w(bus, 0x05, 0x8883)
    assert model.regs[0x05] == 0x8883
    assert [model.regs[i] for i in range(16) if i not in (0x05, 0x0A, 0x0B)] == \
           [before[i] for i in range(16) if i not in (0x05, 0x0A, 0x0B)]


def test_rda_model_tune_sets_stc_after_60_ms_and_clears_tune_itself():
    bus, model, _drv, clock = _rig()
    _w(bus, 0x02, 0xC001)
    clock.advance(10)
    _w(bus, 0x03, (14 << 6) | 0x0010)  # 87.0 + 1.4 = 88.4 MHz, band 0, 100 kHz
    clock.advance(59)
    assert not _r(bus, 0x0A) & 0x4000 and model.busy()
    clock.advance(1)
    r0a = _r(bus, 0x0A)
    assert r0a & 0x4000 and r0a & 0x03FF == 14
    assert not model.regs[0x03] & 0x0010  # TUNE cleared by the chip
    r0b = _r(bus, 0x0B)
    assert r0b >> 9 == 63 and r0b & 0x0100  # RSSI and FM_TRUE
    assert model.bus_noise == 2  # pointer write + read at 59 ms


def test_rda_model_stale_seek_bit_restarts_the_seek():
    """What the driver must avoid: rewriting 0x02 with SEEK still set after the seek ended."""
    bus, model, _drv, clock = _rig()
    _w(bus, 0x02, 0xC001)
    clock.advance(10)
    _w(bus, 0x03, (14 << 6) | 0x0010)
    clock.advance(100)
    _w(bus, 0x02, 0xC301)  # SEEKUP | SEEK
    clock.advance(5000)
    assert _r(bus, 0x0A) & 0x4000 and model.seeks_started == 1
    assert not model.regs[0x02] & 0x0100  # the chip cleared SEEK
    _w(bus, 0x02, 0xC301)  # a naive "volume change" from a stale shadow
    assert model.seeks_started == 2 and model.busy()


def test_rda_model_band_3_is_50_or_65_mhz_by_register_7():
    bus, model, _drv, clock = _rig()
    _w(bus, 0x02, 0xC001)
    clock.advance(5)
    _w(bus, 0x03, 0x000C)
    assert model.band_limits() == (65000, 76000)
    _w(bus, 0x07, 0x4002)
    assert model.band_limits() == (50000, 76000)


def test_rda_model_soft_reset_restores_defaults_and_needs_5_ms():
    bus, model, _drv, clock = _rig()
    _w(bus, 0x02, 0xC001)
    clock.advance(10)
    _w(bus, 0x05, 0x888F)
    _w(bus, 0x02, 0xC003)
    assert model.regs[0x05] == 0x8888
    _w(bus, 0x05, 0x8881)
    assert "power-up delay" in model.take_violations()[0]


def test_rda_driver_writes_through_random_access_and_never_rewrites_0x02_for_volume():
    bus, model, drv, _clock = _rig()
    drv.power_up()
    drv.tune(88400)
    bus.record = True
    drv.set_volume(11)
    assert [(a, k, d[0]) for (_t, a, k, d) in bus.transactions] == [(0x11, "w", 0x05)]
    assert model.regs[0x05] & 0xF == 11
    assert model.violations == []


def test_rda_driver_reports_errors_for_blocks_a_and_b_only():
    _bus, _model, drv, clock = _rig()
    drv.power_up()
    drv.tune(103700)  # weak: errors
    seen = []
    for _ in range(200):
        g = drv.read_rds()
        if g is not None:
            seen.append(g[4])
        clock.advance(40)
    assert seen and all(e[2] is None and e[3] is None for e in seen)
    assert any(e[0] or e[1] for e in seen)


def test_rda_driver_maps_the_seek_threshold_to_seekth():
    _bus, model, drv, _clock = _rig()
    drv.power_up()
    drv.set_seek_threshold(40)
    assert (model.regs[0x05] >> 8) & 0xF == 15  # (40 - 8) // 2 = 16, clamped
    drv.set_seek_threshold(24)
    assert (model.regs[0x05] >> 8) & 0xF == 8
    drv.set_seek_threshold(0)
    assert (model.regs[0x05] >> 8) & 0xF == 0
    try:
        drv.set_seek_threshold(200)
        raise AssertionError("expected RANGE")
    except tuner.TunerError as e:
        assert e.code == "RANGE"


def test_rda_driver_settings_reach_their_bits():
    _bus, model, drv, _clock = _rig()
    drv.power_up()
    drv.set_mono(True)
    drv.set_softmute(False)
    drv.set_deemphasis(75)
    drv.set_mute(True)
    drv.set_rds(False)
    r2, r4 = model.regs[0x02], model.regs[0x04]
    assert r2 & 0x2000 and not r2 & 0x4000 and not r2 & 0x0008 and r2 & 0x8000 and r2 & 1
    assert not r4 & 0x0200 and not r4 & 0x0800
    drv.set_deemphasis(50)
    drv.set_softmute(True)
    assert model.regs[0x04] & 0x0800 and model.regs[0x04] & 0x0200
    drv.power_down()
    assert not model.powered


def test_rda_model_counts_a_write_during_a_seek():
    """Only the write that clears SEEK is defined while a seek runs (the driver defers the rest)."""
    bus, model, _drv, clock = _rig()
    _w(bus, 0x02, 0xC001)
    clock.advance(10)
    _w(bus, 0x02, 0xC301)  # SEEKUP | SEEK
    clock.advance(100)
    _w(bus, 0x05, 0x888A)  # a volume change in the middle of the seek
    assert "during a seek" in model.take_violations()[0]
    _w(bus, 0x02, 0xC001)  # SEEK cleared: stops the seek, defined
    assert not model.busy() and model.violations == []
