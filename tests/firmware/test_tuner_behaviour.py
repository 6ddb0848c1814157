"""One behavioural suite for both FM tuner drivers, each against its register-level model.

Every test loops over the (driver, model) pairs: RDA5807M and Si4703. Time is a
shared SimClock, so datasheet timings (60 ms tune, 60 ms per seek channel, 610 ms
Si4703 power-up, 87.6 ms per RDS group) cost nothing and every run is identical.
Runs under CPython (pytest) and MicroPython (tests/test_micropython.py).
"""

from p2mfw import tuner, tuners
from p2mfw.rda5807m import Rda5807m as RdaDriver
from p2mfw.si4703 import Si4703 as SiDriver

from hwsim.chips.radio_world import Clock, RadioWorld, SimClock, Station, default_stations
from hwsim.chips.rda5807m import Rda5807m as RdaModel
from hwsim.chips.si4703 import Si4703 as SiModel
from hwsim.i2c import McuPin, SimI2C

PAIRS = (("rda5807m", RdaModel, RdaDriver), ("si4703", SiModel, SiDriver))


class Rig:
    """A chip model on a simulated bus, its driver, a world and one clock."""

    def __init__(self, name, model_cls, driver_cls, stations=None, clock=None, time_scale=1.0):
        self.name = name
        self.clock = clock or SimClock()
        self.world = RadioWorld(default_stations() if stations is None else stations,
                                clock=self.clock, seed=3)
        self.bus = SimI2C()
        self.model = model_cls(self.world, time_scale=time_scale)
        # The board's pins (board_pico.make_pins): the Si4703's RST, SDA, the bus re-init.
        self.rst = McuPin("tuner_rst", 0)
        self.pins = {"tuner_rst": self.rst, "sda": self.bus.sda, "i2c_init": self.bus.init}
        if name == "si4703":
            self.model.attach(self.bus, self.rst)
            self.tuner = driver_cls(self.bus, self.clock, self.pins)
        else:
            self.model.attach(self.bus)
            self.tuner = driver_cls(self.bus, self.clock)

    def powered(self):
        self.tuner.power_up()
        return self

    def reset_counters(self):
        m = self.model
        m.transactions = 0
        m.bus_noise = 0
        m.tunes_started = 0
        m.seeks_started = 0


def rigs(stations=None):
    """A fresh rig per chip (stations: a function returning a station list)."""
    out = []
    for name, model_cls, driver_cls in PAIRS:
        out.append(Rig(name, model_cls, driver_cls, None if stations is None else stations()))
    return out


class FakeServer:
    """The LinkServer surface the tuner uses: register, emit, every, add_capability, FwError."""

    class FwError(Exception):
        def __init__(self, code, message):
            super().__init__(message)
            self.code = code
            self.message = message

    def __init__(self, clock):
        self.clock = clock
        self.handlers = {}
        self.events = []
        self.tasks = []
        self.capabilities = []

    def register(self, name, handler):
        self.handlers[name] = handler

    def emit(self, event, data):
        self.events.append((event, data))

    def every(self, ms, fn):
        self.tasks.append((ms, fn))

    def add_capability(self, name):
        self.capabilities.append(name)

    def call(self, name, args=None):
        return self.handlers[name](args or {})

    def run_for(self, ms, until=None):
        """Run the periodic tasks for `ms` of clock time (40 ms ticks), or until an event."""
        end = self.clock.ticks_ms() + ms
        while self.clock.ticks_diff(end, self.clock.ticks_ms()) > 0:
            for _period, fn in self.tasks:
                fn()
            if until is not None and self.named(until):
                return True
            self.clock.sleep_ms(self.tasks[0][0] if self.tasks else 40)
        return False

    def named(self, event):
        return [d for (e, d) in self.events if e == event]


def expect_error(code, fn, *args):
    try:
        fn(*args)
    except tuner.TunerError as e:
        assert e.code == code, f"{e.code} instead of {code}: {e.message}"
        return e
    raise AssertionError(f"expected TunerError {code}")


def _no_stations():
    return []


# -- power -------------------------------------------------------------------------------------
def test_tuner_power_up_follows_datasheet_sequence():
    for r in rigs():
        t0 = r.clock.ticks_ms()
        st = r.tuner.power_up()
        took = r.clock.ticks_diff(r.clock.ticks_ms(), t0)
        assert st["powered"] and r.model.powered, r.name
        assert r.model.violations == [], (r.name, r.model.violations)
        assert r.tuner.chip_id == r.tuner.CHIP_ID
        # Si4703: 500 ms crystal + 110 ms power-up; RDA5807M: 5 ms soft reset (+ the first tune)
        assert took >= (610 if r.name == "si4703" else 65), (r.name, took)
        assert r.model.pops == 0, r.name
        r.tuner.power_down()
        assert not r.model.powered and not r.tuner.status()["powered"], r.name


def test_tuner_requests_while_powered_off_are_refused():
    for r in rigs():
        before = r.model.transactions
        expect_error("POWERED_OFF", r.tuner.tune, 88400)
        expect_error("POWERED_OFF", r.tuner.seek_start, True, True)
        assert r.tuner.read_rds() is None
        r.tuner.set_volume(3)
        assert r.model.transactions == before, r.name
        assert r.tuner.powered is False and r.tuner.volume == 3


# -- tune --------------------------------------------------------------------------------------
def test_tuner_tune_reports_station_from_world():
    for r in rigs():
        r.powered()
        st = r.tuner.tune(88400)
        assert st["khz"] == 88400 and r.model.freq_khz() == 88400, (r.name, st)
        assert st["rssi"] == 63 and st["stereo"] and st["station"], (r.name, st)
        st = r.tuner.tune(99900)
        assert st["station"] and not st["stereo"], (r.name, st)  # a mono news station
        assert r.tuner.status()["khz"] == 99900


def test_tuner_tune_empty_channel_has_no_station():
    for r in rigs():
        r.powered()
        st = r.tuner.tune(90000)
        assert st["khz"] == 90000, r.name
        assert not st["station"] and not st["stereo"] and st["rssi"] < 20, (r.name, st)


def test_tuner_tune_keeps_bus_quiet():
    for r in rigs():
        r.powered()
        r.reset_counters()
        t0 = r.clock.ticks_ms()
        r.tuner.tune(91700)
        took = r.clock.ticks_diff(r.clock.ticks_ms(), t0)
        assert r.model.bus_noise == 0, (r.name, r.model.bus_noise)
        assert r.model.transactions <= 4, (r.name, r.model.transactions)
        assert r.model.tunes_started == 1
        assert took <= 60 + 25, (r.name, took)  # one STC read right after the chip's 60 ms


def test_tuner_tune_mutes_around_and_restores_mute_state():
    for r in rigs():
        r.powered()
        r.tuner.tune(88400)
        assert r.model.audible(), r.name
        r.tuner.tune(91700)
        assert r.model.pops == 0 and r.model.audible(), r.name
        r.tuner.set_mute(True)
        r.tuner.tune(95100)
        assert not r.model.audible() and r.tuner.status()["mute"], r.name
        r.tuner.set_mute(False)
        assert r.model.audible(), r.name
        r.tuner.seek(True, True)
        assert r.model.pops == 0 and r.model.audible(), r.name


def test_tuner_rejects_bad_requests_before_touching_the_chip():
    for r in rigs():
        r.powered()
        before = r.model.transactions
        e = expect_error("OUT_OF_BAND", r.tuner.tune, 108100)
        assert "108000" in e.message
        expect_error("OUT_OF_BAND", r.tuner.tune, 60000)
        e = expect_error("MISALIGNED", r.tuner.tune, 88450)
        assert "88400" in e.message and "88500" in e.message, e.message
        expect_error("RANGE", r.tuner.set_volume, 16)
        expect_error("RANGE", r.tuner.set_deemphasis, 60)
        expect_error("UNSUPPORTED", r.tuner.set_band, 9, 0)
        assert r.model.transactions == before, r.name


# -- seek --------------------------------------------------------------------------------------
def test_tuner_seek_up_and_down_finds_the_next_station():
    for r in rigs():
        r.powered()
        r.tuner.tune(88400)
        st = r.tuner.seek(True, True)
        assert st["found"] and st["khz"] == 91700 and st["station"], (r.name, st)
        st = r.tuner.seek(False, True)
        assert st["found"] and st["khz"] == 88400, (r.name, st)
        assert r.model.op is None and r.tuner.status()["busy"] is None


def test_tuner_seek_wraps_or_stops_at_the_band_edge():
    for r in rigs():
        r.powered()
        lowest = 87200 if r.name == "rda5807m" else 88400  # 87.2 MHz is below the Si4703's band
        r.tuner.tune(107900)
        st = r.tuner.seek(True, True)
        assert st["found"] and st["khz"] == lowest, (r.name, st)
        r.tuner.tune(107900)
        st = r.tuner.seek(True, False)
        assert not st["found"] and st["band_limit"] and st["khz"] == 108000, (r.name, st)
        r.tuner.tune(r.tuner.band_limits()[0])
        st = r.tuner.seek(False, False)
        assert st["band_limit"] and st["khz"] == r.tuner.band_limits()[0], (r.name, st)


def test_tuner_seek_on_an_empty_band_fails_after_a_full_wrap():
    for r in rigs(_no_stations):
        r.powered()
        start = r.tuner.tune(95000)["khz"]
        r.reset_counters()
        t0 = r.clock.ticks_ms()
        st = r.tuner.seek(True, True)
        took = r.clock.ticks_diff(r.clock.ticks_ms(), t0)
        channels = r.tuner.last_channel() + 1
        assert not st["found"] and st["band_limit"] and st["khz"] == start, (r.name, st)
        assert took >= channels * 60, (r.name, took)
        # polled sparsely: one status read per 200 ms, not a stream of them
        assert r.model.bus_noise <= took // r.tuner.seek_poll_ms + 2, (r.name, r.model.bus_noise)
        assert r.model.seeks_started == 1


def test_tuner_volume_changes_never_restart_a_seek():
    for r in rigs():
        r.powered()
        r.tuner.tune(88400)
        r.reset_counters()
        r.tuner.seek_start(True, True)
        r.clock.sleep_ms(700)
        r.tuner.set_volume(3)  # during the seek
        r.tuner.set_mono(True)
        st = None
        for _ in range(200):
            st = r.tuner.seek_poll()
            if st is not None:
                break
            r.clock.sleep_ms(r.tuner.seek_wait_ms())
        assert st is not None and st["khz"] == 91700, (r.name, st)
        assert r.model.regs[0x05] & 0xF == 3, r.name  # the deferred volume landed
        for v in (5, 9, 12):  # after the seek
            r.tuner.set_volume(v)
            r.clock.sleep_ms(100)
        r.tuner.set_mono(False)
        r.tuner.set_mute(True)
        r.tuner.set_mute(False)
        r.clock.sleep_ms(3000)
        assert r.model.seeks_started == 1, (r.name, r.model.seeks_started)
        assert r.model.op is None and r.model.freq_khz() == 91700, r.name
        assert r.tuner.status()["khz"] == 91700


def test_tuner_seek_cancel_stops_where_it_is():
    for r in rigs(_no_stations):
        r.powered()
        r.tuner.tune(88000 if r.name == "rda5807m" else 88500)
        r.tuner.seek_start(True, True)
        r.clock.sleep_ms(1000)
        st = r.tuner.seek_cancel()
        assert st["cancelled"] and not st["found"], (r.name, st)
        assert r.model.op is None and not r.tuner.seeking(), r.name
        assert 88500 < st["khz"] < 91000, (r.name, st)
        r.clock.sleep_ms(2000)
        assert r.model.op is None and r.model.seeks_started == 1, r.name
        assert r.model.audible(), r.name


# -- bands -------------------------------------------------------------------------------------
def test_tuner_band_encodings_follow_each_chip():
    for r in rigs():
        r.powered()
        for band in r.tuner.BANDS:
            for sp in r.tuner.SPACINGS:
                lo, hi = r.tuner.BANDS[band]
                if (hi - lo) // r.tuner.SPACINGS[sp] > 1023:
                    expect_error("UNSUPPORTED", r.tuner.set_band, band, sp)
                    continue
                st = r.tuner.set_band(band, sp)
                assert (r.model.band_limits() == (lo, hi)), (r.name, band, r.model.band_limits())
                assert r.model.spacing_khz() == r.tuner.SPACINGS[sp], (r.name, sp)
                assert st["band_khz"] == [lo, hi] and lo <= st["khz"] <= hi, (r.name, st)
                if r.name == "rda5807m":
                    assert (r.model.regs[0x03] >> 2) & 3 == band and r.model.regs[0x03] & 3 == sp
                else:
                    assert (r.model.regs[0x05] >> 6) & 3 == band and (r.model.regs[0x05] >> 4) & 3 == sp


def test_tuner_87_0_floor_is_reachable_only_on_rda():
    for r in rigs():
        r.powered()
        if r.name == "rda5807m":
            st = r.tuner.tune(87200)
            assert st["station"] and st["rssi"] == 50, st
            assert r.tuner.tune(87000)["khz"] == 87000
        else:
            expect_error("OUT_OF_BAND", r.tuner.tune, 87200)
            r.tuner.set_band(1, 1)  # 76-108 MHz reaches it
            st = r.tuner.tune(87200)
            assert st["station"] and st["rssi"] == 50, st


# -- RDS ---------------------------------------------------------------------------------------
def _collect_rds(r, ms):
    groups = []
    end = r.clock.ticks_ms() + ms
    while r.clock.ticks_diff(end, r.clock.ticks_ms()) > 0:
        g = r.tuner.read_rds()
        if g is not None:
            groups.append(g)
        r.clock.sleep_ms(tuner.RDS_POLL_MS)
    return groups


def test_tuner_rds_groups_arrive_at_the_group_rate():
    for r in rigs():
        r.powered()
        r.tuner.tune(88400)
        groups = _collect_rds(r, 10000)
        rate = len(groups) / 10.0
        assert 10.5 <= rate <= 11.9, (r.name, rate)
        assert r.model.rds_overwritten == 0, r.name  # 20 ms polling never misses a group
        assert all(g[0] == 0xD311 for g in groups), r.name
        for g in groups:
            if r.name == "rda5807m":
                assert g[4][2] is None and g[4][3] is None, g  # RDA reports A and B only
            else:
                assert None not in g[4], g
            assert g[4][0] == 0 and g[4][1] == 0, (r.name, g)  # a clean, strong signal
        ps_segments = set(g[1] & 3 for g in groups if g[1] >> 11 == 0)
        assert ps_segments == {0, 1, 2, 3}, (r.name, ps_segments)


def test_tuner_rds_reports_block_errors_on_a_weak_signal():
    for r in rigs():
        r.powered()
        r.tuner.tune(103700)  # WEAKLING, 24 dBuV
        groups = _collect_rds(r, 10000)
        assert len(groups) > 50, (r.name, len(groups))
        errs = [e for g in groups for e in g[4] if e is not None]
        assert any(e >= 1 for e in errs) and any(e == 3 for e in errs), r.name
        assert any(g[4][0] == 0 and g[4][1] == 0 for g in groups), r.name


def test_tuner_rds_pauses_while_tuning_and_restarts_after():
    for r in rigs():
        r.powered()
        r.tuner.tune(88400)
        _collect_rds(r, 500)
        r.tuner.seek_start(True, True)
        r.clock.sleep_ms(40)
        before = r.model.transactions
        assert r.tuner.read_rds() is None and r.model.transactions == before, r.name
        for _ in range(100):
            if r.tuner.seek_poll() is not None:
                break
            r.clock.sleep_ms(r.tuner.seek_wait_ms())
        assert not r.tuner.seeking(), r.name
        groups = _collect_rds(r, 1000)
        assert groups and all(g[0] == 0xD412 for g in groups), r.name  # KLASSIK's PI


# -- detection and link methods ----------------------------------------------------------------
def test_tuner_detects_each_chip():
    for r in rigs():
        tuner.bus_mode_reset(r.pins, r.clock)  # what tuners.attach does first
        assert tuner.detect(r.bus) == r.name
        assert tuners.make(r.bus, "auto", r.clock).CHIP == r.name
    assert tuner.detect(SimI2C()) is None
    server = FakeServer(SimClock())
    assert tuners.attach(server, SimI2C()) is None and server.handlers == {}
    r = rigs()[1]
    assert tuners.attach(FakeServer(r.clock), r.bus, "rda5807m", r.clock, r.pins) is None


def test_tuner_link_methods_drive_the_chip():
    for r in rigs():
        server = FakeServer(r.clock)
        svc = tuners.attach(server, r.bus, "auto", r.clock, r.pins)
        assert svc is not None and "tuner" in server.capabilities, r.name
        info = server.call("tuner.info")
        assert info["chip"] == r.name and info["bands"]["0"][1] == 108000, info
        assert server.call("tuner.power", {"on": True})["powered"]
        st = server.call("tuner.tune", {"khz": 88400})
        assert st["khz"] == 88400 and st["station"], st
        try:
            server.call("tuner.tune", {"khz": 200000})
            raise AssertionError("expected an error")
        except FakeServer.FwError as e:
            assert e.code == "OUT_OF_BAND", e.code
        try:
            server.call("tuner.volume", {"volume": 99})
            raise AssertionError("expected an error")
        except FakeServer.FwError as e:
            assert e.code == "RANGE", e.code
        assert server.call("tuner.volume", {"volume": 4, "mute": False}) == {"volume": 4, "mute": False}
        cfg = server.call("tuner.config", {"deemph": 75, "mono": False, "seek_threshold": 25})
        assert cfg["deemph"] == 75
        server.run_for(2000)
        rds = server.named("rds")
        assert len(rds) >= 18 and rds[0]["a"] == 0xD311 and len(rds[0]["e"]) == 4, (r.name, len(rds))
        started = server.call("tuner.seek", {"up": True, "wrap": True})
        assert started["started"], started
        try:
            server.call("tuner.tune", {"khz": 95100})
            raise AssertionError("expected BUSY")
        except FakeServer.FwError as e:
            assert e.code == "BUSY", e.code
        assert server.run_for(10000, until="tuner.seek_done"), r.name
        done = server.named("tuner.seek_done")[0]
        assert done["found"] and done["khz"] == 91700, done
        progress = [d["khz"] for d in server.named("tuner.seek_progress")]
        assert progress and all(88400 < k <= 91700 for k in progress), progress
        assert server.call("tuner.status")["khz"] == 91700
        # a seek that is cancelled
        server.call("tuner.seek", {"up": False})
        server.run_for(40)
        out = server.call("tuner.cancel")
        assert out["cancelled"] and server.named("tuner.seek_done")[-1]["cancelled"]
        # band by limits instead of chip codes
        lo = 76000
        cfg = server.call("tuner.config", {"band_khz": [lo, 108000], "spacing_khz": 100})
        assert cfg["band_khz"] == [lo, 108000] and cfg["status"]["band_khz"] == [lo, 108000], cfg
        try:
            server.call("tuner.config", {"band_khz": [1, 2]})
            raise AssertionError("expected an error")
        except FakeServer.FwError as e:
            assert e.code == "UNSUPPORTED"
        assert server.call("tuner.power", {"on": False})["powered"] is False


def test_tuner_works_in_real_time_with_a_scaled_model():
    """Real clock, model time_scale 0.1 (6 ms tune and seek step): a smoke test of the real path."""
    for name, model_cls, driver_cls in PAIRS:
        stations = [Station(88400, rssi=60, pi=0xD311, ps="ALPHA FM"),
                    Station(88800, rssi=60, pi=0xD412, ps="KLASSIK")]
        r = Rig(name, model_cls, driver_cls, stations, clock=Clock(), time_scale=0.1)
        t = r.tuner
        if name == "si4703":
            t.xtal_ms = 55  # model: 50 ms and 11 ms at time_scale 0.1
            t.powerup_ms = 15
        t.tune_wait_ms = 6
        t.seek_step_ms = 6
        t.seek_poll_ms = 20
        t.power_up()
        assert t.tune(88400)["station"], name
        st = t.seek(True, True)
        assert st["found"] and st["khz"] == 88800, (name, st)
        assert r.model.violations == [], (name, r.model.violations)
