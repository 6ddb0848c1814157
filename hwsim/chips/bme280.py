"""A register-level BME280 on the simulated I2C bus (runs under CPython and MicroPython).

Theory of operation
-------------------
The model keeps the chip's register file and a register pointer. A write
transaction is a register address followed by (address, data) *pairs* — the
BME280 does not auto-increment on writes (datasheet 6.2.1); a lone address byte
only sets the pointer. Reads return consecutive registers from the pointer and
advance it.

Time comes from `p2mfw.compat.ticks_us`, and the model is lazy: every bus access
first brings the chip up to "now" (`_advance`). A soft reset (0xB6 to 0xE0) or
power-on restores the defaults and keeps `im_update` set for 2 ms, during which
the calibration registers read as zero. Writing ctrl_meas latches ctrl_hum. In
forced mode one conversion runs for the datasheet's maximum time
1.25 + 2.3*osrs_t + (2.3*osrs_p + 0.575) + (2.3*osrs_h + 0.575) ms with the
`measuring` status bit set, then the result lands in the data registers and the
chip goes back to sleep. In normal mode conversions repeat every t_meas + t_standby.
Config writes are ignored in normal mode, as the datasheet allows. Until the first
conversion after a reset the data registers hold 0x80000 / 0x80000 / 0x8000, as do
skipped quantities (oversampling 0).

Each conversion asks `source()` for the physical values (degC, %RH, hPa), adds
white noise scaled by 1/sqrt(oversampling), and INVERTS the compensation by
bisection to find the raw codes; then the IIR filter (for T and P) and the output
resolution (16 + osrs - 1 bits without the filter, 20 bits with it) are applied.
The compensation is the datasheet's own, in this module (BST-BME280-DS002 §8.1,
"Compensation formulas in double precision floating point", with the trimming
parameters of table 16): nothing is borrowed from the firmware, whose driver uses
the integer formulas of §8.2, so a wrong formula or a misread trimming word on
either side shows up as a disagreement. Noise uses a small seeded xorshift
generator so runs repeat on both interpreters.

Datasheet violations (`violations`, see `hwsim.chips.datasheet`): a read of an
address outside the memory map (§5.3: 0x88-0xA1, 0xD0, 0xE0, 0xE1-0xF0, 0xF2-0xF5,
0xF7-0xFE); reading the trimming registers while the NVM copy runs (`im_update`,
§5.4.4); a write to a read-only register or with a reserved bit set (ctrl_hum
b7:3, config b1); any write but a reset during the NVM copy; a config write in
normal mode ("may be ignored", §5.4.6).

Faults: `stuck` freezes the data registers, `dropout` makes them read their reset
values, `inject_spike()` puts a large error into the next conversion; a bus-level
NACK is `SimI2C.set_nack`.
"""

from p2mfw.compat import ticks_add, ticks_diff, ticks_us

from hwsim.chips.datasheet import Recorder
from hwsim.chips.rng import XorShift32
from hwsim.i2c import I2CTarget

try:  # for the type checker only; MicroPython has no collections.abc
    from collections.abc import Callable
except ImportError:  # pragma: no cover - MicroPython
    pass

CHIP_ID = 0x60  # register 0xD0 (§5.4.1)
RESET_ADC_TP = 0x80000  # data registers after reset or with the quantity skipped (§5.4.7-9)
RESET_ADC_H = 0x8000

TRIMMING_NAMES = ("T1", "T2", "T3", "P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8", "P9",
                  "H1", "H2", "H3", "H4", "H5", "H6")


class Trimming:
    """The chip's trimming parameters dig_T1 .. dig_H6 (datasheet table 16), by name."""

    T1: int
    T2: int
    T3: int
    P1: int
    P2: int
    P3: int
    P4: int
    P5: int
    P6: int
    P7: int
    P8: int
    P9: int
    H1: int
    H2: int
    H3: int
    H4: int
    H5: int
    H6: int

    def __init__(self, *words: int) -> None:
        if len(words) != len(TRIMMING_NAMES):
            raise ValueError("a BME280 has 18 trimming parameters")
        for i in range(len(words)):  # (no zip(strict=) on MicroPython)
            setattr(self, TRIMMING_NAMES[i], words[i])

    def words(self) -> tuple:
        return tuple(getattr(self, n) for n in TRIMMING_NAMES)


def t_fine_of(tr: Trimming, adc_t: float) -> float:
    """§8.1: t_fine (degC = t_fine / 5120) from the 20-bit temperature code."""
    a = (adc_t / 16384.0 - tr.T1 / 1024.0) * tr.T2
    b = adc_t / 131072.0 - tr.T1 / 8192.0
    return a + b * b * tr.T3


def pascal_of(tr: Trimming, adc_p: float, t_fine: float) -> float:
    """§8.1: pressure in Pa from the 20-bit pressure code (0 where the formula divides by 0)."""
    x = t_fine / 2.0 - 64000.0
    offset = (x * x * tr.P6 / 32768.0 + x * tr.P5 * 2.0) / 4.0 + tr.P4 * 65536.0
    scale = (1.0 + (tr.P3 * x * x / 524288.0 + tr.P2 * x) / 524288.0 / 32768.0) * tr.P1
    if scale == 0:
        return 0.0
    pa = (1048576.0 - adc_p - offset / 4096.0) * 6250.0 / scale
    return pa + (tr.P9 * pa * pa / 2147483648.0 + pa * tr.P8 / 32768.0 + tr.P7) / 16.0


def humidity_of(tr: Trimming, adc_h: float, t_fine: float) -> float:
    """§8.1: relative humidity in % from the 16-bit humidity code, clamped to 0-100."""
    x = t_fine - 76800.0
    h = (adc_h - (tr.H4 * 64.0 + tr.H5 / 16384.0 * x)) * (
        tr.H2 / 65536.0 * (1.0 + tr.H6 / 67108864.0 * x * (1.0 + tr.H3 / 67108864.0 * x)))
    h = h * (1.0 - tr.H1 * h / 524288.0)
    return 0.0 if h < 0.0 else 100.0 if h > 100.0 else h


# T/P words: the BMP280 datasheet's example part; H words: a real BME280's.
DEFAULT_CALIBRATION = Trimming(
    27504, 26435, -1000,
    36477, -10685, 3024, 2855, 140, -7, 15500, -14600, 6000,
    75, 362, 0, 313, 50, 30,
)

# White noise (RMS) at oversampling x1, filter off; divided by sqrt(oversampling).
NOISE_T_C = 0.005
NOISE_P_PA = 3.3
NOISE_H_RH = 0.02

RESET_US = 2000  # NVM copy after reset / power-on (datasheet start-up time)
STANDBY_US = (500, 62500, 125000, 250000, 500000, 1000000, 10000, 20000)
OSRS_COUNTS = (0, 1, 2, 4, 8, 16, 16, 16)
FILTER_COEFFS = (1, 2, 4, 8, 16, 16, 16, 16)  # 1 = filter off

REG_ID = 0xD0
REG_RESET = 0xE0
REG_CTRL_HUM = 0xF2
REG_STATUS = 0xF3
REG_CTRL_MEAS = 0xF4
REG_CONFIG = 0xF5


def calibration_registers(cal: Trimming) -> tuple[bytes, bytes]:
    """Encode a calibration as the chip stores it: (0x88..0xA1, 0xE1..0xE7)."""
    tp = bytearray(26)
    words = (cal.T1, cal.T2, cal.T3, cal.P1, cal.P2, cal.P3, cal.P4, cal.P5, cal.P6,
             cal.P7, cal.P8, cal.P9)
    for i, w in enumerate(words):
        tp[2 * i] = w & 0xFF
        tp[2 * i + 1] = (w >> 8) & 0xFF
    tp[25] = cal.H1 & 0xFF
    h = bytearray(7)
    h[0] = cal.H2 & 0xFF
    h[1] = (cal.H2 >> 8) & 0xFF
    h[2] = cal.H3 & 0xFF
    h[3] = (cal.H4 >> 4) & 0xFF
    h[4] = (cal.H4 & 0x0F) | ((cal.H5 & 0x0F) << 4)
    h[5] = (cal.H5 >> 4) & 0xFF
    h[6] = cal.H6 & 0xFF
    return bytes(tp), bytes(h)


def measure_time_us(osrs_t: int, osrs_p: int, osrs_h: int) -> int:
    """Maximum conversion time for the oversampling counts (datasheet appendix B)."""
    t = 1250 + 2300 * osrs_t
    if osrs_p:
        t += 2300 * osrs_p + 575
    if osrs_h:
        t += 2300 * osrs_h + 575
    return t


def _bisect(f: "Callable[[int], float]", target: float, lo: int, hi: int,
            increasing: bool) -> int:
    """The code in [lo, hi] whose f(code) is nearest target, f monotonic."""
    a, b = lo, hi
    while a < b:
        mid = (a + b) // 2
        v = f(mid)
        if (v < target) if increasing else (v > target):
            a = mid + 1
        else:
            b = mid
    if a > lo and abs(f(a - 1) - target) <= abs(f(a) - target):
        return a - 1
    return a


def _clamp(v: float, lo: float, hi: float) -> float:
    return lo if v < lo else hi if v > hi else v


def _constant_source() -> tuple[float, float, float]:
    return 21.0, 45.0, 1013.25


MAP = ((0x88, 0xA1), (0xD0, 0xD0), (0xE0, 0xE0), (0xE1, 0xF0), (0xF2, 0xF5), (0xF7, 0xFE))
WRITABLE = (REG_RESET, REG_CTRL_HUM, REG_CTRL_MEAS, REG_CONFIG)


def _documented(r: int) -> bool:
    for lo, hi in MAP:
        if lo <= r <= hi:
            return True
    return False


class BME280Model(I2CTarget, Recorder):
    """The chip. `source()` returns (degC, %RH, hPa) at each conversion."""

    NAME = "bme280"

    def __init__(self, source: "Callable[[], tuple[float, float, float]] | None" = None,
                 calibration: Trimming | None = None, seed: int = 1,
                 noise: bool = True) -> None:
        self.source = source or _constant_source
        self.calibration = calibration or DEFAULT_CALIBRATION
        self._calib_tp, self._calib_h = calibration_registers(self.calibration)
        self.noise = noise
        self.rng = XorShift32(seed)
        self.stuck = False
        self.dropout = False
        self._spike: tuple[float, float, float] | None = None
        self.conversions = 0
        self.chip_id = CHIP_ID
        self._init_violations()
        self.power_on()

    # -- test verbs / faults ---------------------------------------------------
    def power_on(self) -> None:
        """Power-on reset: defaults, NVM copy running, no data yet."""
        self.ptr = 0
        self.ctrl_hum = 0
        self.osrs_h_latched = 0
        self.ctrl_meas = 0
        self.config = 0
        self.adc_t = RESET_ADC_TP
        self.adc_p = RESET_ADC_TP
        self.adc_h = RESET_ADC_H
        self._iir_t: float | None = None
        self._iir_p: float | None = None
        self._busy_until = ticks_us()  # a conversion's end (forced) or cycle anchor (normal)
        self._meas_us = 0
        self._forced_pending = False
        self._cycles_done = 0
        self._im_update_until = ticks_us()
        self._im_update = True

    def inject_spike(self, celsius: float = 15.0, rh: float = 30.0, hpa: float = -40.0) -> None:
        """Add these offsets to the next conversion only."""
        self._spike = (celsius, rh, hpa)

    def set_stuck(self, on: bool = True) -> None:
        self.stuck = on

    def set_dropout(self, on: bool = True) -> None:
        self.dropout = on

    # -- bus -------------------------------------------------------------------
    def i2c_write(self, data: bytes) -> None:
        self._advance()
        i = 0
        while i + 1 < len(data):
            self.ptr = data[i]
            self._check_write(data[i], data[i + 1])
            self._write_reg(data[i], data[i + 1])
            i += 2
        if i < len(data):
            self.ptr = data[i]

    def i2c_read(self, n: int) -> bytes:
        self._advance()
        out = bytearray(n)
        for i in range(n):
            r = (self.ptr + i) & 0xFF
            if not _documented(r):
                self.violation(f"read of 0x{r:02X}, outside the memory map")
            elif self._im_update and (0x88 <= r <= 0xA1 or 0xE1 <= r <= 0xF0):
                self.violation(f"trimming register 0x{r:02X} read during the NVM copy (im_update)")
            out[i] = self._read_reg(r)
        self.ptr = (self.ptr + n) & 0xFF
        return bytes(out)

    def _check_write(self, r: int, v: int) -> None:
        if r not in WRITABLE:
            self.violation(f"write to 0x{r:02X}, which is not a writable register")
        elif r != REG_RESET and self._im_update:
            self.violation(f"write to 0x{r:02X} during the NVM copy after reset (im_update)")
        elif r == REG_CTRL_HUM and v & 0xF8:
            self.violation(f"ctrl_hum 0x{v:02X} sets reserved bits 7:3")
        elif r == REG_CONFIG and v & 0x02:
            self.violation(f"config 0x{v:02X} sets reserved bit 1")
        elif r == REG_CONFIG and self._mode() == 3:
            self.violation("config written in normal mode (the datasheet says it may be ignored)")

    # -- registers ---------------------------------------------------------------
    def _mode(self) -> int:
        m = self.ctrl_meas & 0x03
        return 1 if m == 2 else m

    def _read_reg(self, r: int) -> int:
        if 0x88 <= r <= 0xA1:
            return 0 if self._im_update else self._calib_tp[r - 0x88]
        if 0xE1 <= r <= 0xE7:
            return 0 if self._im_update else self._calib_h[r - 0xE1]
        if r == REG_ID:
            return self.chip_id
        if r == REG_CTRL_HUM:
            return self.ctrl_hum
        if r == REG_STATUS:
            return (0x08 if self._measuring() else 0) | (0x01 if self._im_update else 0)
        if r == REG_CTRL_MEAS:
            return self.ctrl_meas
        if r == REG_CONFIG:
            return self.config
        if 0xF7 <= r <= 0xFE:
            t, p, h = self.adc_t, self.adc_p, self.adc_h
            if self.dropout:
                t, p, h = RESET_ADC_TP, RESET_ADC_TP, RESET_ADC_H
            if r == 0xF7:
                return (p >> 12) & 0xFF
            if r == 0xF8:
                return (p >> 4) & 0xFF
            if r == 0xF9:
                return (p << 4) & 0xF0
            if r == 0xFA:
                return (t >> 12) & 0xFF
            if r == 0xFB:
                return (t >> 4) & 0xFF
            if r == 0xFC:
                return (t << 4) & 0xF0
            if r == 0xFD:
                return (h >> 8) & 0xFF
            return h & 0xFF
        return 0

    def _write_reg(self, r: int, v: int) -> None:
        if r == REG_RESET:
            if v == 0xB6:
                self.power_on()
        elif r == REG_CTRL_HUM:
            self.ctrl_hum = v & 0x07
        elif r == REG_CTRL_MEAS:
            self.ctrl_meas = v
            self.osrs_h_latched = OSRS_COUNTS[self.ctrl_hum & 0x07]
            mode = self._mode()
            now = ticks_us()
            self._meas_us = measure_time_us(*self._osrs())
            self._busy_until = now
            self._forced_pending = mode == 1
            self._cycles_done = 0
        elif r == REG_CONFIG:
            if self._mode() != 3:  # "writes to config in normal mode may be ignored"
                self.config = v & 0xFD

    def _osrs(self) -> tuple[int, int, int]:
        return (OSRS_COUNTS[(self.ctrl_meas >> 5) & 0x07],
                OSRS_COUNTS[(self.ctrl_meas >> 2) & 0x07], self.osrs_h_latched)

    # -- time ------------------------------------------------------------------
    def _measuring(self) -> bool:
        elapsed = ticks_diff(ticks_us(), self._busy_until)
        mode = self._mode()
        if mode == 1:
            return self._forced_pending and elapsed < self._meas_us
        if mode == 3:
            cycle = self._meas_us + STANDBY_US[(self.config >> 5) & 0x07]
            return elapsed % cycle < self._meas_us
        return False

    def _advance(self) -> None:
        now = ticks_us()
        if self._im_update and ticks_diff(now, self._im_update_until) >= RESET_US:
            self._im_update = False
        mode = self._mode()
        elapsed = ticks_diff(now, self._busy_until)
        if mode == 1 and self._forced_pending and elapsed >= self._meas_us:
            self._forced_pending = False
            self._convert(1)
            self.ctrl_meas &= 0xFC  # back to sleep
        elif mode == 3 and elapsed >= self._meas_us:
            cycle = self._meas_us + STANDBY_US[(self.config >> 5) & 0x07]
            done = (elapsed - self._meas_us) // cycle + 1
            if done > self._cycles_done:
                self._convert(done - self._cycles_done)
                # Re-anchor on the last finished cycle so ticks never grow far apart.
                self._busy_until = ticks_add(self._busy_until, (done - 1) * cycle)
                self._cycles_done = 1

    # -- one conversion ----------------------------------------------------------
    def _convert(self, repeats: int) -> None:
        """Run a conversion (repeats > 1: several finished since the last access)."""
        self.conversions += repeats
        if self.stuck:
            return
        osrs_t, osrs_p, osrs_h = self._osrs()
        celsius, rh, hpa = self.source()
        if self._spike is not None:
            celsius += self._spike[0]
            rh += self._spike[1]
            hpa += self._spike[2]
            self._spike = None
        coeff = FILTER_COEFFS[(self.config >> 2) & 0x07]
        cal = self.calibration
        for _ in range(min(repeats, 32)):
            if not osrs_t:
                self.adc_t = RESET_ADC_TP
                return
            c = celsius + (self._noise(NOISE_T_C, osrs_t))
            raw_t = self.invert_t(_clamp(c, -40.0, 85.0))
            self._iir_t = self._filter(self._iir_t, raw_t, coeff)
            self.adc_t = self._quantise(self._iir_t, osrs_t, coeff, 20)
            t_fine = t_fine_of(cal, self.adc_t)
            if osrs_p:
                pa = hpa * 100.0 + self._noise(NOISE_P_PA, osrs_p)
                raw_p = self.invert_p(_clamp(pa, 30000.0, 110000.0), t_fine)
                self._iir_p = self._filter(self._iir_p, raw_p, coeff)
                self.adc_p = self._quantise(self._iir_p, osrs_p, coeff, 20)
            else:
                self.adc_p = RESET_ADC_TP
            if osrs_h:
                r = rh + self._noise(NOISE_H_RH, osrs_h)
                self.adc_h = self.invert_h(_clamp(r, 0.0, 100.0), t_fine)
            else:
                self.adc_h = RESET_ADC_H

    def _noise(self, rms: float, osrs: int) -> float:
        if not self.noise:
            return 0.0
        return self.rng.gauss() * rms / (osrs ** 0.5)

    @staticmethod
    def _filter(prev: float | None, new: int, coeff: int) -> float:
        if prev is None or coeff <= 1:
            return float(new)
        return prev + (new - prev) / coeff

    @staticmethod
    def _quantise(value: float, osrs: int, coeff: int, bits: int) -> int:
        """Round to the output resolution: 16 + (osrs-1 steps) bits, 20 with the filter."""
        if coeff > 1:
            res = bits
        else:
            res = 16 + {1: 0, 2: 1, 4: 2, 8: 3, 16: 4}[osrs]
        step = 1 << (bits - res)
        code = round(value / step) * step
        return max(0, min(code, (1 << bits) - 1))

    # -- inverse compensation ----------------------------------------------------
    def invert_t(self, celsius: float) -> int:
        """The 20-bit temperature code whose t_fine is nearest celsius * 5120."""
        cal = self.calibration
        return _bisect(lambda a: t_fine_of(cal, a), celsius * 5120.0, 0, 0xFFFFF, True)

    def invert_p(self, pa: float, t_fine: float) -> int:
        """The 20-bit pressure code whose pressure is nearest pa (decreasing in the code)."""
        cal = self.calibration
        return _bisect(lambda a: pascal_of(cal, a, t_fine), pa, 0, 0xFFFFF, False)

    def invert_h(self, rh: float, t_fine: float) -> int:
        """The 16-bit humidity code whose humidity is nearest rh."""
        cal = self.calibration
        return _bisect(lambda a: humidity_of(cal, a, t_fine), rh, 0, 0xFFFF, True)
