"""Si4703 specifics: sequential-only access, power-up timing, STC handshake, RDS modes.

Runs under CPython (pytest) and MicroPython (tests/test_micropython.py).
"""

from p2mfw.si4703 import Si4703 as SiDriver

from hwsim.chips.radio_world import RadioWorld, SimClock
from hwsim.chips.si4703 import Si4703 as SiModel
from hwsim.i2c import McuPin, SimI2C


def _pins(bus):
    rst = McuPin("tuner_rst", 0)
    return {"tuner_rst": rst, "sda": bus.sda, "i2c_init": bus.init}


def _rig(reset=True):
    """Model with RST wired, driver given the pins; `reset`: select 2-wire mode by hand first."""
    clock = SimClock()
    world = RadioWorld(clock=clock, seed=3)
    bus = SimI2C()
    pins = _pins(bus)
    model = SiModel(world)
    model.attach(bus, pins["tuner_rst"])
    if reset:
        _bus_reset(bus, pins)
    return bus, model, SiDriver(bus, clock, pins), clock


def _bus_reset(bus, pins):
    bus.sda.init(McuPin.OUT, value=0)
    pins["tuner_rst"].value(0)
    pins["tuner_rst"].value(1)
    bus.init()


def _write(bus, *values):
    """Sequential write: registers 0x02, 0x03, ... in order."""
    data = bytearray()
    for v in values:
        data += bytes([v >> 8, v & 0xFF])
    bus.writeto(0x10, data)


def _regs(bus):
    d = bus.readfrom(0x10, 32)
    out = [0] * 16
    for i in range(16):
        out[(0x0A + i) & 0x0F] = (d[2 * i] << 8) | d[2 * i + 1]
    return out


def _power(bus, clock):
    _write(bus, 0, 0, 0, 0, 0, 0x8100)
    clock.advance(500)
    _write(bus, 0x4001)
    clock.advance(110)


def test_si_model_ids_before_and_after_power_up():
    bus, _model, _drv, clock = _rig()
    r = _regs(bus)
    assert r[0x00] == 0x1242 and r[0x01] == 0x1200
    assert bus.scan() == [0x10]  # no random-access address
    _power(bus, clock)
    assert _regs(bus)[0x01] == 0x1253


def test_si_model_flags_enable_before_the_crystal_settled():
    bus, model, _drv, clock = _rig()
    _write(bus, 0, 0, 0, 0, 0, 0x8100)
    clock.advance(100)
    _write(bus, 0x4001)
    assert model.violations and "crystal" in model.violations[0]
    _write(bus, 0x4001, 0x8005)  # a tune 0 ms after ENABLE
    assert len(model.take_violations()) >= 2


def test_si_model_stc_stays_until_tune_is_cleared():
    bus, model, _drv, clock = _rig()
    _power(bus, clock)
    _write(bus, 0x4001, 0x8000 | 9, 0, 0x1918)  # 87.5 + 0.9 = 88.4 MHz at 100 kHz
    clock.advance(60)
    r = _regs(bus)
    assert r[0x0A] & 0x4000 and r[0x0B] & 0x3FF == 9 and r[0x0A] & 0xFF == 63
    assert r[0x0A] & 0x0100  # stereo
    clock.advance(1000)
    assert _regs(bus)[0x0A] & 0x4000  # still set: the chip waits for the host
    _write(bus, 0x4001, 9)
    assert not _regs(bus)[0x0A] & 0x4000
    assert model.tunes_started == 1


def test_si_model_seek_bit_held_high_does_not_restart_but_a_new_edge_does():
    bus, model, _drv, clock = _rig()
    _power(bus, clock)
    _write(bus, 0x4001, 0x8000 | 9, 0, 0x1918)
    clock.advance(60)
    _write(bus, 0x4001, 9)
    _write(bus, 0x4301)  # SEEK | SEEKUP, wrap
    clock.advance(5000)
    r = _regs(bus)
    assert r[0x0A] & 0x4000 and not r[0x0A] & 0x2000
    assert 87500 + (r[0x0B] & 0x3FF) * 100 == 91700
    _write(bus, 0x4301, 9, 0, 0x1915)  # a volume write with SEEK still set: no edge
    assert model.seeks_started == 1 and not model.busy()
    _write(bus, 0x4001)
    _write(bus, 0x4301)
    assert model.seeks_started == 2


def test_si_model_standard_mode_drops_errored_groups_and_hides_bler():
    bus, model, drv, clock = _rig()
    drv.power_up()
    drv.tune(103700)  # weak
    model.regs[0x02] &= ~0x0800  # standard RDS mode behind the driver's back
    blers = []
    for _ in range(300):
        r = _regs(bus)
        if r[0x0A] & 0x8000:
            blers.append(((r[0x0A] >> 9) & 3, r[0x0B] >> 10))
        clock.advance(40)
    assert blers and all(b == (0, 0) for b in blers)
    assert all(max(e) < 3 for e in [model.rds_errors])


def test_si_driver_writes_always_start_at_0x02():
    bus, model, drv, _clock = _rig()
    bus.record = True
    drv.power_up()
    drv.tune(88400)
    drv.set_volume(5)
    drv.set_seek_threshold(30)
    drv.seek(True, True)
    writes = [d for (_t, a, k, d) in bus.transactions if k == "w"]
    assert all(a == 0x10 for (_t, a, _k, _d) in bus.transactions)
    assert writes[0][10:12] == b"\x81\x00"  # 0x07 = 0x8100 in the first write
    n = len(bus.transactions)
    drv.set_volume(6)
    vol = bus.transactions[n][3]
    assert len(vol) == 8 and vol[7] & 0x0F == 6  # 0x02..0x05, volume in 0x05's low nibble
    assert not (vol[0] << 8 | vol[1]) & 0x0100  # SEEK clean in the shadow
    assert model.regs[0x05] >> 8 == 30 and model.regs[0x06] == 0x0048
    assert model.violations == []


def test_si_driver_clears_stc_after_every_operation():
    _bus, model, drv, _clock = _rig()
    drv.power_up()
    drv.tune(88400)
    assert not model.stc and not model.regs[0x03] & 0x8000
    drv.seek(True, True)
    assert not model.stc and not model.regs[0x02] & 0x0100
    assert drv.status()["khz"] == 91700


def test_si_driver_reports_all_four_block_error_levels():
    _bus, _model, drv, clock = _rig()
    drv.power_up()
    drv.tune(103700)
    seen = []
    for _ in range(300):
        g = drv.read_rds()
        if g is not None:
            seen.append(g[4])
        clock.advance(40)
    assert seen and all(None not in e for e in seen)
    assert any(e[2] or e[3] for e in seen)


def test_si_driver_power_down_sets_disable_and_stops_rds():
    _bus, model, drv, _clock = _rig()
    drv.power_up()
    drv.power_down()
    assert not model.powered and not model.regs[0x04] & 0x1000
    assert drv.read_rds() is None


# -- bus mode (issue 10, bug 3) ----------------------------------------------------------------
def test_si_model_answers_only_after_rst_rises_with_sdio_low():
    """Si4702/03-C19 datasheet §4.9, "Bus Mode Select": SDIO low at RST's rising edge = 2-wire."""
    bus, model, _drv, _clock = _rig(reset=False)
    pins = _pins(bus)
    model2 = SiModel(RadioWorld(clock=SimClock(), seed=3))
    for m in (model, model2):
        m.take_violations()
    try:
        bus.readfrom(0x10, 32)
        raise AssertionError("the chip answered before its bus mode was selected")
    except OSError:
        pass
    assert model.take_violations()
    # RST rising with SDIO high (idle bus) selects 3-wire mode: still no answer at 0x10
    bus2 = SimI2C()
    model2.attach(bus2, pins["tuner_rst"])
    pins["tuner_rst"].value(0)
    pins["tuner_rst"].value(1)
    try:
        bus2.readfrom(0x10, 2)
        raise AssertionError("the chip answered in 3-wire mode")
    except OSError:
        pass
    assert "3-wire" in model2.take_violations()[0]


def test_si_bus_needs_sda_back_after_the_reset():
    bus, model, _drv, _clock = _rig(reset=False)
    bus.sda.init(McuPin.OUT, value=0)
    try:
        bus.readfrom(0x10, 2)  # SDA is a plain GPIO: no I2C
        raise AssertionError("I2C worked with SDA taken over")
    except OSError:
        pass
    assert model.violations == []  # the chip never saw that transaction


def test_si_driver_selects_the_2_wire_mode_with_the_board_pins():
    """Bug 3 of issue 10: the firmware never drove RST/SDIO, so a real Si4703 may never answer."""
    bus, model, drv, _clock = _rig(reset=False)
    st = drv.power_up()
    assert st["powered"] and model.powered and model.bus_mode == "2-wire" and model.resets == 1
    assert bus.sda.mode == McuPin.ALT  # SDA handed back to the I2C block
    assert model.violations == []


def test_si_firmware_attach_resets_the_chip_through_main_pins():
    from p2mfw.main import attach_drivers

    bus, _model, _drv, clock = _rig(reset=False)
    pins = {"tuner_rst": McuPin("tuner_rst", 0), "sda": bus.sda, "i2c_init": bus.init}
    bus2 = SimI2C()
    model2 = SiModel(RadioWorld(clock=clock, seed=3))
    model2.attach(bus2, pins["tuner_rst"])
    pins["sda"] = bus2.sda
    pins["i2c_init"] = bus2.init
    server = _Server()
    status = attach_drivers(server, bus2, ("p2mfw.tuners",), pins=pins)
    assert status == {"p2mfw.tuners": "ok"} and "tuner.si4703" in server.caps, status
    assert model2.bus_mode == "2-wire" and model2.violations == []


class _Server:
    class FwError(Exception):
        pass

    def __init__(self):
        self.handlers = {}
        self.caps = []

    def register(self, name, fn):
        self.handlers[name] = fn

    def every(self, ms, fn):
        pass

    def add_capability(self, name):
        self.caps.append(name)

    def emit(self, name, data):
        pass


# -- RDSR (issue 10, bug 2) ----------------------------------------------------------------------
def test_si_model_rdsr_holds_40_ms_and_a_read_does_not_clear_it():
    """Si4702/03-C19 datasheet §4.4: "RDSR will be set for a minimum of 40 ms" per group."""
    bus, _model, drv, clock = _rig()
    drv.power_up()
    drv.tune(88400)
    for _ in range(200):  # find a rising edge of RDSR, 1 ms resolution
        if _regs(bus)[0x0A] & 0x8000:
            break
        clock.advance(1)
    first = _regs(bus)
    assert first[0x0A] & 0x8000
    clock.advance(20)
    again = _regs(bus)  # read twice within the 40 ms: same group, RDSR still set
    assert again[0x0A] & 0x8000 and again[0x0C:0x10] == first[0x0C:0x10]
    clock.advance(21)
    later = _regs(bus)
    assert not later[0x0A] & 0x8000 and later[0x0C:0x10] == first[0x0C:0x10]  # data stay


def test_si_driver_reports_each_rds_group_once():
    """Bug 2 of issue 10: RDSR stays up >= 40 ms, so a poll could report one group twice
    (Rockbox's Si4700 driver had the same bug: commit 4ffa052, "RDS on Samsung YPR0").

    Polled every 10 ms (faster than the firmware's 20 ms task) the driver must still
    report exactly the groups the chip received, each once.
    """
    _bus, model, drv, clock = _rig()
    drv.power_up()
    drv.tune(88400)
    start = model.rds_groups
    reported = []
    for _ in range(1000):  # 10 s
        g = drv.read_rds()
        if g is not None:
            reported.append(g)
        clock.advance(10)
    received = model.rds_groups - start
    assert received > 100
    assert received - 1 <= len(reported) <= received, (len(reported), received)


def test_si_model_counts_reserved_bits_and_codes():
    """Si4702/03 datasheet §6: reserved bits are written 0 (TEST1's as read); BAND/SPACE 11 reserved."""
    bus, model, _drv, clock = _rig()
    _power(bus, clock)
    _write(bus, 0x4001 | 0x0080)  # POWERCFG bit 7 is reserved
    _write(bus, 0x4001, 0, 0, 0x00F0)  # SYSCONFIG2 BAND 11 and SPACE 11
    _write(bus, 0x4001, 0, 0, 0x1918, 0, 0x8000)  # TEST1 reserved 13:0 cleared (was 0x0100)
    got = model.take_violations()
    assert len(got) == 3 and "0x0080" in got[0] and "code 11" in got[1] and "TEST1" in got[2], got
