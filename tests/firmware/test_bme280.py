"""BME280 driver, compensation and chip model (runs under CPython and MicroPython)."""

from p2mfw import bme280 as drv
from p2mfw import bme280_compensation as comp
from p2mfw.compat import sleep_ms

from hwsim.chips.bme280 import (
    DEFAULT_CALIBRATION,
    BME280Model,
    XorShift32,
    calibration_registers,
)
from hwsim.i2c import SimI2C

ADDR = 0x76


class Room:
    """A settable source for the chip model."""

    def __init__(self, celsius=21.0, rh=45.0, hpa=1013.25):
        self.celsius = celsius
        self.rh = rh
        self.hpa = hpa

    def __call__(self):
        return self.celsius, self.rh, self.hpa


class FakeServer:
    """The slice of the link server that attach() uses."""

    class FwError(Exception):
        def __init__(self, code, message):
            super().__init__(code, message)
            self.code = code
            self.message = message

    def __init__(self):
        self.methods = {}
        self.capabilities = []
        self.events = []
        self.timers = []

    def register(self, name, handler):
        self.methods[name] = handler

    def add_capability(self, name):
        self.capabilities.append(name)

    def every(self, ms, fn):
        self.timers.append((ms, fn))

    def emit(self, event, data):
        self.events.append((event, data))

    def call(self, name, args=None):
        return self.methods[name](args or {})

    def error_code(self, name, args=None):
        try:
            self.call(name, args)
        except self.FwError as e:
            return e.code
        raise AssertionError("expected an FwError from " + name)


def _rig(room=None, noise=False, seed=7):
    room = room or Room()
    bus = SimI2C()
    chip = BME280Model(room, noise=noise, seed=seed)
    bus.attach(ADDR, chip)
    return bus, chip, room


def _raises(exc, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except exc as e:
        return e
    raise AssertionError("expected " + exc.__name__)


# -- compensation ----------------------------------------------------------------


def _double_t(cal, adc_t):
    # The datasheet's floating-point formula, as an independent cross-check.
    v1 = (adc_t / 16384.0 - cal.T1 / 1024.0) * cal.T2
    v2 = (adc_t / 131072.0 - cal.T1 / 8192.0) ** 2 * cal.T3
    return (v1 + v2) / 5120.0, v1 + v2


def _double_p(cal, adc_p, t_fine):
    v1 = t_fine / 2.0 - 64000.0
    v2 = v1 * v1 * cal.P6 / 32768.0
    v2 = v2 + v1 * cal.P5 * 2.0
    v2 = v2 / 4.0 + cal.P4 * 65536.0
    v1 = (cal.P3 * v1 * v1 / 524288.0 + cal.P2 * v1) / 524288.0
    v1 = (1.0 + v1 / 32768.0) * cal.P1
    p = 1048576.0 - adc_p
    p = (p - v2 / 4096.0) * 6250.0 / v1
    v1 = cal.P9 * p * p / 2147483648.0
    v2 = p * cal.P8 / 32768.0
    return p + (v1 + v2 + cal.P7) / 16.0


def test_bme280_compensation_matches_datasheet_vectors():
    cal = DEFAULT_CALIBRATION
    t, t_fine = comp.compensate_t(cal, 519888)
    assert t == 2508 and t_fine == 128422
    p = comp.compensate_p(cal, 415148, t_fine)
    # The published 64-bit formula yields 25767233 (100653.25 Pa); the datasheet's
    # table prints 25767236 and its float formula 100653.27 Pa.
    assert p == 25767233
    assert abs(p / 256 - 100653.27) < 0.05
    t_double, t_fine_double = _double_t(cal, 519888)
    assert abs(t_double - 25.08) < 0.005
    assert abs(_double_p(cal, 415148, t_fine_double) - 100653.27) < 0.01


def test_bme280_compensation_agrees_with_float_formula_across_range():
    cal = DEFAULT_CALIBRATION
    for adc_t in (380000, 450000, 519888, 560000):
        t, t_fine = comp.compensate_t(cal, adc_t)
        assert abs(t / 100 - _double_t(cal, adc_t)[0]) <= 0.01
        for adc_p in (250000, 330000, 415148, 480000):
            p = comp.compensate_p(cal, adc_p, t_fine)
            assert abs(p / 256 - _double_p(cal, adc_p, t_fine)) < 0.5


def test_bme280_division_truncates_toward_zero_like_c():
    assert comp._cdiv(-7, 2) == -3
    assert comp._cdiv(7, -2) == -3
    assert comp._cdiv(-7, -2) == 3
    assert comp._cdiv(7, 2) == 3


def test_bme280_humidity_is_clamped_to_0_and_100_percent():
    cal = DEFAULT_CALIBRATION
    t_fine = comp.compensate_t(cal, 519888)[1]
    assert comp.compensate_h(cal, 0, t_fine) == 0
    assert comp.compensate_h(cal, 65535, t_fine) == 100 * 1024
    assert 40 * 1024 < comp.compensate_h(cal, 28000, t_fine) < 50 * 1024


def test_bme280_calibration_registers_roundtrip_with_negative_h4_h5():
    for cal in (DEFAULT_CALIBRATION,
                comp.Calibration(28000, 26000, -500, 36000, -10000, 3000, 2800, -140, -7,
                                15000, -14000, 6000, 0, -200, 255, -300, -1000, -128)):
        tp, h = calibration_registers(cal)
        assert comp.parse_calibration(tp, h).as_tuple() == tuple(cal.words() if hasattr(cal, "words")
                                                                  else cal.as_tuple())
    tp, h = calibration_registers(DEFAULT_CALIBRATION)
    assert tp[0] == 0x70 and tp[1] == 0x6B  # dig_T1 = 27504, LSB first
    assert h[3] == 313 >> 4 and h[4] == (313 & 0xF) | ((50 & 0xF) << 4) and h[5] == 50 >> 4


# -- driver against the chip model ------------------------------------------------------


def test_bme280_driver_roundtrip_without_noise():
    bus, _chip, room = _rig()
    dev = drv.BME280(bus, ADDR)
    for celsius, rh, hpa in ((21.0, 45.0, 1013.25), (-10.5, 12.0, 950.0),
                             (38.2, 88.5, 1040.7), (0.0, 0.0, 870.0), (60.0, 100.0, 1100.0)):
        room.celsius, room.rh, room.hpa = celsius, rh, hpa
        t, p, h = dev.read()
        assert abs(t / 100 - celsius) <= 0.05, (t, celsius)
        assert abs(p / 256 - hpa * 100) <= 3.0, (p / 256, hpa)
        assert abs(h / 1024 - rh) <= 0.5, (h / 1024, rh)


def test_bme280_driver_roundtrip_with_noise_and_oversampling():
    bus, _chip, _room = _rig(Room(23.4, 55.5, 998.0), noise=True)
    dev = drv.BME280(bus, ADDR, osrs_t=2, osrs_p=16, osrs_h=1, filter=4)
    for _ in range(3):
        t, p, h = dev.read()
        assert abs(t / 100 - 23.4) <= 0.05
        assert abs(p / 256 - 99800.0) <= 5.0
        assert abs(h / 1024 - 55.5) <= 0.5


def test_bme280_noise_is_repeatable_with_a_seed():
    a, b = XorShift32(42), XorShift32(42)
    assert [a.next() for _ in range(5)] == [b.next() for _ in range(5)]
    assert XorShift32(1).next() != XorShift32(2).next()
    g = [a.gauss() for _ in range(400)]
    mean = sum(g) / len(g)
    var = sum((x - mean) ** 2 for x in g) / len(g)
    assert abs(mean) < 0.2 and 0.7 < var < 1.3


def test_bme280_quantisation_follows_oversampling_without_filter():
    bus, _chip, _room = _rig()
    dev = drv.BME280(bus, ADDR, osrs_t=1, osrs_p=1, osrs_h=1)
    dev.read()
    adc_t, adc_p, _ = dev.read_raw()
    assert adc_t % 16 == 0 and adc_p % 16 == 0  # 16-bit output at x1
    dev.configure(filter=2)
    dev.read()
    adc_t, adc_p, _ = dev.read_raw()
    assert adc_t % 16 != 0 or adc_p % 16 != 0  # 20-bit with the IIR filter


def test_bme280_reset_values_are_rejected():
    bus, _chip, _room = _rig()
    dev = drv.BME280(bus, ADDR)
    assert dev.read_raw() == (0x80000, 0x80000, 0x8000)  # nothing measured yet
    _raises(drv.NoDataError, dev.compensate, 0x80000, 0x80000, 0x8000)
    _raises(drv.NoDataError, dev.compensate, 519888, 0x80000, 30000)
    _raises(drv.NoDataError, dev.compensate, 519888, 415148, 0x8000)


def test_bme280_normal_mode_has_no_data_before_first_conversion():
    bus, chip, _room = _rig()
    dev = drv.BME280(bus, ADDR, mode="normal", standby_ms=0.5)
    _raises(drv.NoDataError, dev.read)
    sleep_ms(15)
    assert abs(dev.read()[0] / 100 - 21.0) <= 0.05
    assert chip.ctrl_meas & 0x03 == 3  # still in normal mode
    done = chip.conversions
    sleep_ms(25)
    dev.read()
    assert chip.conversions > done


def test_bme280_forced_mode_sets_measuring_then_sleeps():
    bus, chip, _room = _rig()
    dev = drv.BME280(bus, ADDR, osrs_t=2, osrs_p=2, osrs_h=2)
    dev.trigger()
    assert dev.status() & drv.STATUS_MEASURING
    assert bus.readfrom_mem(ADDR, drv.REG_CTRL_MEAS, 1)[0] & 0x03 == 1
    dev.wait_measured()
    assert not dev.status() & drv.STATUS_MEASURING
    assert bus.readfrom_mem(ADDR, drv.REG_CTRL_MEAS, 1)[0] & 0x03 == 0
    assert chip.conversions == 1


def test_bme280_wrong_chip_id_is_refused():
    bus, chip, _room = _rig()
    chip.chip_id = 0x58  # a BMP280
    e = _raises(drv.ChipIdError, drv.BME280, bus, ADDR)
    assert "0x58" in str(e)


def test_bme280_nack_raises_oserror():
    bus, _chip, _room = _rig()
    dev = drv.BME280(bus, ADDR)
    bus.set_nack(ADDR)
    _raises(OSError, dev.read)
    bus.set_nack(ADDR, False)
    assert dev.read()[0] == 2100


def test_bme280_bad_settings_are_refused():
    bus, _chip, _room = _rig()
    dev = drv.BME280(bus, ADDR)
    _raises(drv.BadSetting, dev.configure, osrs_t=3)
    _raises(drv.BadSetting, dev.configure, osrs_t=0)
    _raises(drv.BadSetting, dev.configure, filter=5)
    _raises(drv.BadSetting, dev.configure, standby_ms=7)
    _raises(drv.BadSetting, dev.configure, mode="turbo")
    assert dev.settings()["osrs_t"] == 1


def test_bme280_skipped_quantities_read_as_none():
    bus, _chip, _room = _rig()
    dev = drv.BME280(bus, ADDR, osrs_p=0, osrs_h=0)
    t, p, h = dev.read()
    assert abs(t / 100 - 21.0) <= 0.05 and p is None and h is None
    assert dev.read_raw()[1:] == (0x80000, 0x8000)


def test_bme280_measurement_timeout_is_bounded():
    bus, chip, _room = _rig()
    dev = drv.BME280(bus, ADDR)
    chip._measuring = lambda: True  # a chip that never finishes
    _raises(drv.MeasureTimeout, dev.read)


# -- chip model details -----------------------------------------------------------


def test_bme280_model_writes_are_register_data_pairs():
    bus, chip, _room = _rig()
    sleep_ms(3)
    bus.writeto(ADDR, bytes((0xF2, 0x03, 0xF5, 0x10)))
    assert chip.ctrl_hum == 0x03 and chip.config == 0x10
    assert chip.osrs_h_latched == 0  # ctrl_hum only takes effect with ctrl_meas
    bus.writeto_mem(ADDR, 0xF4, b"\x24")
    assert chip.osrs_h_latched == 4


def test_bme280_model_reset_runs_nvm_copy():
    bus, _chip, _room = _rig()
    sleep_ms(3)
    assert bus.readfrom_mem(ADDR, 0x88, 2) == b"\x70\x6b"
    bus.writeto_mem(ADDR, 0xE0, b"\xb6")
    assert bus.readfrom_mem(ADDR, 0xF3, 1)[0] & drv.STATUS_IM_UPDATE
    assert bus.readfrom_mem(ADDR, 0x88, 2) == b"\x00\x00"
    assert "im_update" in _chip.take_violations()[0]  # reading trimming words now is undefined
    sleep_ms(3)
    assert not bus.readfrom_mem(ADDR, 0xF3, 1)[0] & drv.STATUS_IM_UPDATE
    assert bus.readfrom_mem(ADDR, 0xD0, 1) == b"\x60"


def test_bme280_model_ignores_config_in_normal_mode():
    bus, _chip, _room = _rig()
    sleep_ms(3)
    bus.writeto_mem(ADDR, 0xF5, b"\xa0")
    bus.writeto_mem(ADDR, 0xF4, b"\x27")  # normal mode
    bus.writeto_mem(ADDR, 0xF5, b"\x04")
    assert bus.readfrom_mem(ADDR, 0xF5, 1) == b"\xa0"
    assert "normal mode" in _chip.take_violations()[0]


def test_bme280_model_counts_what_the_datasheet_leaves_undefined():
    """BST-BME280-DS002 §5.3 memory map, §5.4.3 ctrl_hum and §5.4.6 config reserved bits."""
    bus, chip, _room = _rig()
    sleep_ms(3)
    bus.readfrom_mem(ADDR, 0xF6, 1)  # reserved, between config and press_msb
    bus.writeto_mem(ADDR, 0xF3, b"\x00")  # status is read-only
    bus.writeto_mem(ADDR, 0xF2, b"\x09")  # ctrl_hum bit 3 is reserved
    bus.writeto_mem(ADDR, 0xF5, b"\x02")  # config bit 1 is reserved
    got = chip.take_violations()
    assert len(got) == 4 and "memory map" in got[0] and "not a writable" in got[1], got
    bus.readfrom_mem(ADDR, 0xF7, 8)  # the data burst the datasheet recommends: fine
    bus.readfrom_mem(ADDR, 0x88, 26)
    bus.readfrom_mem(ADDR, 0xE1, 7)
    assert chip.violations == []


# -- faults -------------------------------------------------------------------------


def test_bme280_stuck_sensor_repeats_its_last_values():
    bus, chip, room = _rig()
    dev = drv.BME280(bus, ADDR)
    first = dev.read()
    chip.set_stuck()
    room.celsius = 30.0
    assert dev.read() == first
    chip.set_stuck(False)
    assert abs(dev.read()[0] / 100 - 30.0) <= 0.05


def test_bme280_dropout_reads_as_no_data():
    bus, chip, _room = _rig()
    dev = drv.BME280(bus, ADDR)
    dev.read()
    chip.set_dropout()
    _raises(drv.NoDataError, dev.read)
    chip.set_dropout(False)
    assert dev.read()[0] == 2100


def test_bme280_spike_hits_one_reading_only():
    bus, chip, _room = _rig()
    dev = drv.BME280(bus, ADDR)
    chip.inject_spike(celsius=20.0, rh=0.0, hpa=0.0)
    assert abs(dev.read()[0] / 100 - 41.0) <= 0.05
    assert abs(dev.read()[0] / 100 - 21.0) <= 0.05


# -- link methods -----------------------------------------------------------------------


def test_bme280_attach_read_returns_integers():
    bus, _chip, _room = _rig(Room(19.5, 60.0, 1000.0))
    server = FakeServer()
    drv.attach(server, bus, ADDR)
    assert "bme280" in server.capabilities
    reply = server.call("bme280.read")
    assert abs(reply["t"] - 1950) <= 5
    assert abs(reply["p"] / 256 - 100000.0) <= 3.0
    assert abs(reply["h"] / 1024 - 60.0) <= 0.5
    assert server.timers == []


def test_bme280_attach_maps_errors_to_codes():
    bus, chip, _room = _rig()
    server = FakeServer()
    drv.attach(server, bus, ADDR)
    bus.set_nack(ADDR)
    assert server.error_code("bme280.read") == "I2C"
    assert server.error_code("bme280.read") == "ABSENT"  # re-probe finds nobody
    bus.set_nack(ADDR, False)
    chip.set_dropout()
    assert server.error_code("bme280.read") == "NO_DATA"
    chip.set_dropout(False)
    assert server.call("bme280.read")["t"] == 2100
    chip.chip_id = 0x58
    chip.power_on()
    bus.set_nack(ADDR)
    server.error_code("bme280.read")
    bus.set_nack(ADDR, False)
    assert server.error_code("bme280.read") == "CHIP_ID"


def test_bme280_attach_absent_chip_recovers_when_plugged():
    bus = SimI2C()
    server = FakeServer()
    drv.attach(server, bus, ADDR)
    assert "bme280.read" in server.methods and "bme280" in server.capabilities
    assert server.error_code("bme280.read") == "ABSENT"
    bus.attach(ADDR, BME280Model(Room(5.0, 30.0, 990.0), noise=False))
    reply = server.call("bme280.read")
    assert abs(reply["t"] - 500) <= 5


def test_bme280_id_reads_the_chip_id_register_only():
    # `pi2mqtt doctor` asks for the id (register 0xD0) to tell a missing chip from a wrong one.
    bus, chip, _room = _rig()
    server = FakeServer()
    drv.attach(server, bus, ADDR)
    assert server.call("bme280.id") == {"addr": ADDR, "id": 0x60}
    chip.chip_id = 0x58  # a BMP280 answers with its own id, not an error
    assert server.call("bme280.id") == {"addr": ADDR, "id": 0x58}
    bus.set_nack(ADDR)
    assert server.error_code("bme280.id") == "ABSENT"


def test_bme280_attach_reinitialises_a_power_cycled_chip():
    bus, chip, _room = _rig()
    server = FakeServer()
    drv.attach(server, bus, ADDR)
    server.call("bme280.config", {"mode": "normal", "standby_ms": 10})
    bus.set_nack(ADDR)
    server.error_code("bme280.read")
    chip.power_on()  # came back reset: sleep mode, no data
    bus.set_nack(ADDR, False)
    server.error_code("bme280.read")  # re-probed and set up again; first conversion running
    sleep_ms(25)
    assert server.call("bme280.read")["t"] == 2100
    assert chip.ctrl_meas & 0x03 == 3


def test_bme280_attach_config_validates_and_applies():
    bus, chip, _room = _rig()
    server = FakeServer()
    drv.attach(server, bus, ADDR)
    before = (chip.ctrl_meas, chip.config, chip.ctrl_hum)
    assert server.error_code("bme280.config", {"osrs_p": 3}) == "BAD_ARG"
    assert server.error_code("bme280.config", {"colour": "red"}) == "BAD_ARG"
    assert server.error_code("bme280.config", {"standby_ms": "soon"}) == "BAD_ARG"
    assert (chip.ctrl_meas, chip.config, chip.ctrl_hum) == before  # chip untouched
    reply = server.call("bme280.config", {"osrs_p": 16, "filter": 16})
    assert reply["osrs_p"] == 16 and reply["filter"] == 16 and reply["mode"] == "forced"
    assert (chip.config >> 2) & 0x07 == 4
    assert abs(server.call("bme280.read")["t"] - 2100) <= 5


def test_bme280_attach_periodic_readings_and_error_events():
    bus, _chip, _room = _rig()
    server = FakeServer()
    drv.attach(server, bus, ADDR, period_ms=1000)
    assert server.timers[0][0] == 1000
    tick = server.timers[0][1]
    tick()
    assert server.events[-1][0] == "bme280.reading"
    bus.set_nack(ADDR)
    tick()
    tick()
    tick()
    errors = [e for e in server.events if e[0] == "bme280.error"]
    assert [e[1]["code"] for e in errors] == ["I2C", "ABSENT"]
    bus.set_nack(ADDR, False)
    tick()
    assert server.events[-1][0] == "bme280.reading"
