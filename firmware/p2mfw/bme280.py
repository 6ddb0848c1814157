"""BME280 driver: probe, reset, calibration, forced/normal mode, Bosch integer compensation.

Theory of operation
-------------------
`BME280(i2c, addr)` reads the chip id (0x60, else `ChipIdError`), soft-resets the
chip (0xB6 to 0xE0), waits for the NVM copy to finish (status bit im_update), reads
the calibration words and applies the configuration. In *forced* mode every
`read()` starts one conversion, sleeps for the datasheet's typical conversion time,
then polls the `measuring` bit with a bounded timeout (`MeasureTimeout`). In
*normal* mode the chip converts on its own every t_standby and `read()` just
burst-reads the latest result. Before the first conversion after a reset the data
registers hold 0x80000 / 0x80000 / 0x8000; `read()` refuses those (`NoDataError`).

The maths (calibration words, Bosch's integer compensation, conversion times)
is in `p2mfw.bme280_compensation`, apart from the bus: this module owns the
registers and the timing. Units (all integers): temperature in 0.01 degC,
pressure in Pa * 256, humidity in %RH * 1024.

I2C failures surface as the bus's `OSError`. `attach(server, i2c)` publishes the
driver as link methods `bme280.read` / `bme280.config` on the firmware server and
translates errors to link error codes. It raises the translated error *after* the
`except` block on purpose: `raise ... from e` makes MicroPython print "exception
chaining not supported" on the console, which on a USB-CDC link is the wire.

Runs under MicroPython and CPython: no `typing`, only `p2mfw.compat` for time.
"""

from p2mfw.bme280_compensation import (
    CALIB_H_LEN,
    CALIB_TP_LEN,
    compensate_h,
    compensate_p,
    compensate_t,
    measure_time_us,
    parse_calibration,
)
from p2mfw.compat import sleep_ms, sleep_us, ticks_diff, ticks_ms

CHIP_ID = 0x60
ADDR_PRIMARY = 0x76
ADDR_SECONDARY = 0x77

REG_CALIB_TP = 0x88  # 0x88..0xA1: T1..T3, P1..P9, (0xA0 reserved), H1
REG_CALIB_H = 0xE1  # 0xE1..0xE7: H2..H6
REG_ID = 0xD0
REG_RESET = 0xE0
RESET_CMD = 0xB6
REG_CTRL_HUM = 0xF2
REG_STATUS = 0xF3
REG_CTRL_MEAS = 0xF4
REG_CONFIG = 0xF5
REG_DATA = 0xF7  # press_msb .. hum_lsb, 8 bytes
DATA_LEN = 8

STATUS_MEASURING = 0x08
STATUS_IM_UPDATE = 0x01

MODE_SLEEP = 0
MODE_FORCED = 1
MODE_NORMAL = 3
MODES = {"sleep": MODE_SLEEP, "forced": MODE_FORCED, "normal": MODE_NORMAL}

# Oversampling count -> register code (0 = measurement skipped).
OSRS_CODES = {0: 0, 1: 1, 2: 2, 4: 3, 8: 4, 16: 5}
OSRS_COUNTS = (0, 1, 2, 4, 8, 16, 16, 16)  # register code -> count
# IIR filter coefficient -> register code.
FILTER_CODES = {0: 0, 2: 1, 4: 2, 8: 3, 16: 4}
FILTER_COEFFS = (0, 2, 4, 8, 16, 16, 16, 16)
# Standby time in microseconds, indexed by the 3-bit t_sb code (BME280, not BMP280).
STANDBY_US = (500, 62500, 125000, 250000, 500000, 1000000, 10000, 20000)

RESET_ADC_TP = 0x80000
RESET_ADC_H = 0x8000

RESET_WAIT_MS = 10  # NVM copy takes ~2 ms (startup time); give it 10
MEASURE_SLACK_MS = 20  # poll for this long beyond the datasheet maximum


class BME280Error(Exception):
    """Base of the driver's errors; `code` is the link error code."""

    code = "BME280"


class ChipIdError(BME280Error):
    """The chip at the address is not a BME280 (wrong id in 0xD0)."""

    code = "CHIP_ID"


class NoDataError(BME280Error):
    """The data registers still hold their reset values: no conversion yet."""

    code = "NO_DATA"


class MeasureTimeout(BME280Error):
    """The chip stayed busy (measuring or im_update) past the bounded wait."""

    code = "TIMEOUT"


class BadSetting(BME280Error):
    """An oversampling, filter, standby or mode value the chip does not have."""

    code = "BAD_ARG"


def standby_code(standby_ms):
    """Register code for a standby time in ms (0.5, 10, 20, 62.5, 125, ... 1000)."""
    us = int(standby_ms * 1000 + 0.5)
    for code in range(8):
        if STANDBY_US[code] == us:
            return code
    raise BadSetting("standby_ms must be one of 0.5, 10, 20, 62.5, 125, 250, 500, 1000")


# -- the driver ----------------------------------------------------------------


class BME280:
    """A BME280 on an I2C bus (`machine.I2C` API) at addr 0x76 or 0x77.

    Construction probes, resets and configures the chip; bus failures raise OSError.
    Oversampling and filter are given as counts (0/1/2/4/8/16), standby in ms.
    """

    def __init__(self, i2c, addr=ADDR_PRIMARY, osrs_t=1, osrs_p=1, osrs_h=1, filter=0,
                 standby_ms=1000, mode="forced"):
        self.i2c = i2c
        self.addr = addr
        self.calibration = None
        self.osrs_t = 1
        self.osrs_p = 1
        self.osrs_h = 1
        self.filter = 0
        self.standby_ms = 1000
        self.mode = "forced"
        self.probe()
        self.reset()
        self.calibration = self.read_calibration()
        self.configure(osrs_t=osrs_t, osrs_p=osrs_p, osrs_h=osrs_h, filter=filter,
                       standby_ms=standby_ms, mode=mode)

    # -- register access
    def _read(self, reg, n):
        return self.i2c.readfrom_mem(self.addr, reg, n)

    def _write(self, reg, value):
        # One register per transaction: the BME280 does not auto-increment on writes.
        self.i2c.writeto_mem(self.addr, reg, bytes((value & 0xFF,)))

    def status(self):
        return self._read(REG_STATUS, 1)[0]

    # -- bring-up
    def probe(self):
        """Check the chip id; raise ChipIdError if it is not 0x60."""
        chip = self._read(REG_ID, 1)[0]
        if chip != CHIP_ID:
            raise ChipIdError(f"chip at 0x{self.addr:02x} has id 0x{chip:02x}, a BME280 has 0x60")
        return chip

    def reset(self):
        """Soft reset, then wait (bounded) until the NVM copy (im_update) is done."""
        self._write(REG_RESET, RESET_CMD)
        sleep_ms(2)
        self._wait_clear(STATUS_IM_UPDATE, RESET_WAIT_MS, "NVM copy after reset")

    def read_calibration(self):
        return parse_calibration(self._read(REG_CALIB_TP, CALIB_TP_LEN),
                                 self._read(REG_CALIB_H, CALIB_H_LEN))

    def _wait_clear(self, bit, timeout_ms, what):
        start = ticks_ms()
        while self.status() & bit:
            if ticks_diff(ticks_ms(), start) > timeout_ms:
                raise MeasureTimeout(f"{what}: still busy after {timeout_ms} ms")
            sleep_us(200)

    # -- configuration
    def configure(self, osrs_t=None, osrs_p=None, osrs_h=None, filter=None, standby_ms=None,
                  mode=None):
        """Change any of the settings; unspecified ones keep their value.

        The chip is put to sleep first (config writes may be ignored in normal mode),
        then config, ctrl_hum and ctrl_meas are written, the last one latching ctrl_hum.
        """
        new_t = self.osrs_t if osrs_t is None else osrs_t
        new_p = self.osrs_p if osrs_p is None else osrs_p
        new_h = self.osrs_h if osrs_h is None else osrs_h
        new_f = self.filter if filter is None else filter
        new_sb = self.standby_ms if standby_ms is None else standby_ms
        new_mode = self.mode if mode is None else mode
        for name, v in (("osrs_t", new_t), ("osrs_p", new_p), ("osrs_h", new_h)):
            if v not in OSRS_CODES:
                raise BadSetting(f"{name} must be one of 0, 1, 2, 4, 8, 16 (got {v!r})")
        if new_t == 0:
            raise BadSetting("osrs_t must not be 0: pressure and humidity need the temperature")
        if new_f not in FILTER_CODES:
            raise BadSetting(f"filter must be one of 0, 2, 4, 8, 16 (got {new_f!r})")
        if new_mode not in MODES:
            raise BadSetting(f"mode must be 'sleep', 'forced' or 'normal' (got {new_mode!r})")
        sb = standby_code(new_sb)
        self.osrs_t, self.osrs_p, self.osrs_h = new_t, new_p, new_h
        self.filter, self.standby_ms, self.mode = new_f, new_sb, new_mode
        self._write(REG_CTRL_MEAS, self._ctrl_meas(MODE_SLEEP))
        self._write(REG_CONFIG, (sb << 5) | (FILTER_CODES[new_f] << 2))
        self._write(REG_CTRL_HUM, OSRS_CODES[new_h])
        if new_mode == "normal":
            self._write(REG_CTRL_MEAS, self._ctrl_meas(MODE_NORMAL))
        else:  # sleep; forced mode is triggered by each read()
            self._write(REG_CTRL_MEAS, self._ctrl_meas(MODE_SLEEP))

    def _ctrl_meas(self, mode_bits):
        return (OSRS_CODES[self.osrs_t] << 5) | (OSRS_CODES[self.osrs_p] << 2) | mode_bits

    def settings(self):
        return {"osrs_t": self.osrs_t, "osrs_p": self.osrs_p, "osrs_h": self.osrs_h,
                "filter": self.filter, "standby_ms": self.standby_ms, "mode": self.mode}

    # -- measuring
    def trigger(self):
        """Start one forced-mode conversion (ctrl_hum is latched by this write)."""
        self._write(REG_CTRL_MEAS, self._ctrl_meas(MODE_FORCED))

    def wait_measured(self):
        """Sleep the typical conversion time, then poll `measuring` (bounded)."""
        sleep_us(measure_time_us(self.osrs_t, self.osrs_p, self.osrs_h))
        limit = measure_time_us(self.osrs_t, self.osrs_p, self.osrs_h, True) // 1000
        self._wait_clear(STATUS_MEASURING, limit + MEASURE_SLACK_MS, "conversion")

    def read_raw(self):
        """Burst-read 0xF7..0xFE: (adc_T, adc_P, adc_H) as the chip holds them now."""
        d = self._read(REG_DATA, DATA_LEN)
        adc_p = (d[0] << 12) | (d[1] << 4) | (d[2] >> 4)
        adc_t = (d[3] << 12) | (d[4] << 4) | (d[5] >> 4)
        adc_h = (d[6] << 8) | d[7]
        return adc_t, adc_p, adc_h

    def read(self):
        """One reading as (centi-degC, Pa * 256, %RH * 1024).

        Forced mode (and sleep) start a conversion and wait for it; normal mode
        returns the chip's latest result. A skipped quantity (oversampling 0)
        comes back as None.
        """
        if self.mode != "normal":
            self.trigger()
            self.wait_measured()
        adc_t, adc_p, adc_h = self.read_raw()
        return self.compensate(adc_t, adc_p, adc_h)

    def compensate(self, adc_t, adc_p, adc_h):
        cal = self.calibration
        if adc_t == RESET_ADC_TP:
            raise NoDataError("temperature register holds its reset value 0x80000")
        t, t_fine = compensate_t(cal, adc_t)
        p = None
        h = None
        if self.osrs_p:
            if adc_p == RESET_ADC_TP:
                raise NoDataError("pressure register holds its reset value 0x80000")
            p = compensate_p(cal, adc_p, t_fine)
        if self.osrs_h:
            if adc_h == RESET_ADC_H:
                raise NoDataError("humidity register holds its reset value 0x8000")
            h = compensate_h(cal, adc_h, t_fine)
        return t, p, h


# -- link methods ---------------------------------------------------------------


class _Link:
    """The BME280 as seen by the link server; re-probes after a failure."""

    def __init__(self, server, i2c, addr, settings):
        self.server = server
        self.i2c = i2c
        self.addr = addr
        self.settings = settings
        self.dev = None
        self.last_error = None

    def _fail(self, code, message):
        return self.server.FwError(code, message)

    def _device(self):
        if self.dev is not None:
            return self.dev
        err = None
        try:
            self.dev = BME280(self.i2c, self.addr, **self.settings)
        except OSError as e:
            err = self._fail("ABSENT", f"no BME280 answers at 0x{self.addr:02x} ({e!r})")
        except BME280Error as e:
            err = self._fail(e.code, str(e))
        if err is not None:
            raise err
        return self.dev

    def _call(self, fn):
        dev = self._device()
        err = None
        try:
            return fn(dev)
        except OSError as e:
            self.dev = None  # the chip may come back reset: probe and set it up again
            err = self._fail("I2C", f"I2C error talking to the BME280 at 0x{self.addr:02x} ({e!r})")
        except BME280Error as e:
            if not isinstance(e, (NoDataError, BadSetting)):
                self.dev = None
            err = self._fail(e.code, str(e))
        raise err

    def ident(self, args):
        """The chip id register (0xD0) as it reads now: 0x60 on a BME280 (`pi2mqtt doctor`)."""
        try:
            data = self.i2c.readfrom_mem(self.addr, REG_ID, 1)
        except OSError as e:
            raise self._fail("ABSENT", f"nothing answers at 0x{self.addr:02x} ({e!r})") from None
        return {"addr": self.addr, "id": data[0]}

    def read(self, args):
        t, p, h = self._call(lambda dev: dev.read())
        return {"t": t, "p": p, "h": h}

    def config(self, args):
        allowed = ("osrs_t", "osrs_p", "osrs_h", "filter", "standby_ms", "mode")
        args = args or {}
        for k in args:
            if k not in allowed:
                raise self._fail("BAD_ARG", f"unknown bme280.config key {k!r}")
        new = dict(self.settings)
        new.update(args)
        # Validate before touching the chip, so a bad request leaves it untouched.
        for name in ("osrs_t", "osrs_p", "osrs_h"):
            if new[name] not in OSRS_CODES or (name == "osrs_t" and new[name] == 0):
                extra = "" if name == "osrs_t" else " or 0"
                raise self._fail("BAD_ARG", f"{name} must be one of 1, 2, 4, 8, 16{extra}")
        if new["filter"] not in FILTER_CODES:
            raise self._fail("BAD_ARG", "filter must be one of 0, 2, 4, 8, 16")
        if new["mode"] not in MODES:
            raise self._fail("BAD_ARG", "mode must be 'sleep', 'forced' or 'normal'")
        try:
            standby_code(new["standby_ms"])
            bad = None
        except (BadSetting, TypeError) as e:
            bad = str(e)
        if bad is not None:
            raise self._fail("BAD_ARG", bad)
        self.settings = new
        self._call(lambda dev: dev.configure(**new))
        return dict(new)

    def tick(self):
        """Periodic reading as a `bme280.reading` event; errors once per change."""
        try:
            reply = self.read({})
        except Exception as e:  # best effort: the error code goes out
            code = getattr(e, "code", None) or (e.args[0] if e.args else "ERROR")
            if code != self.last_error:
                self.last_error = code
                msg = e.args[1] if len(e.args) > 1 else str(e)
                self.server.emit("bme280.error", {"code": code, "message": msg})
            return
        self.last_error = None
        self.server.emit("bme280.reading", reply)


def attach(server, i2c, addr=ADDR_PRIMARY, period_ms=0, **settings):
    """Register `bme280.read` and `bme280.config` on the firmware link server.

    A chip that does not answer now is probed again on each call (answer ABSENT
    meanwhile). With period_ms > 0 a `bme280.reading` event goes out that often.
    Returns the link object (for the board code and the tests).
    """
    cfg = {"osrs_t": 1, "osrs_p": 1, "osrs_h": 1, "filter": 0, "standby_ms": 1000,
           "mode": "forced"}
    cfg.update(settings)
    link = _Link(server, i2c, addr, cfg)
    try:
        link._device()
    except Exception:  # absent or wrong chip: the calls will say so
        link.dev = None
    server.register("bme280.id", link.ident)
    server.register("bme280.read", link.read)
    server.register("bme280.config", link.config)
    server.add_capability("bme280")
    if period_ms > 0:
        server.every(period_ms, link.tick)
    return link
