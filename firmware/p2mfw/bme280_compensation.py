"""BME280 maths: the calibration words and Bosch's integer compensation. Pure functions.

`parse_calibration(tp, h)` decodes the two NVM blocks (0x88..0xA1, 26 bytes, and
0xE1..0xE7, 7 bytes) into a `Calibration`; `compensate_t`, `compensate_p` and
`compensate_h` turn raw ADC codes into values, and `measure_time_us` gives a
conversion's duration for the oversampling counts. Apart from the bus driver
(`p2mfw.bme280`), as ESPHome keeps its chip logic apart from the bus.

The compensation is Bosch's integer code (the BME280 datasheet, section 4.2.3),
written as pure functions so the hwsim chip model inverts the very same formulas.
C division truncates toward zero, Python's `//` floors, so `_cdiv` does the C
thing; right shifts of negative numbers are arithmetic in both. Python ints do not
overflow, so the int64 pressure path needs no emulation.

Units (all integers): temperature in 0.01 degC, pressure in Pa * 256 (Bosch's
Q24.8 output; divide by 25600 for hPa), humidity in %RH * 1024 (Q22.10).

Runs under MicroPython and CPython: no `typing`, no imports.
"""

CALIB_TP_LEN = 26  # 0x88..0xA1: T1..T3, P1..P9, (0xA0 reserved), H1
CALIB_H_LEN = 7  # 0xE1..0xE7: H2..H6


# -- calibration -------------------------------------------------------------


def _u16(b, i):
    return b[i] | (b[i + 1] << 8)


def _s16(b, i):
    v = b[i] | (b[i + 1] << 8)
    return v - 0x10000 if v & 0x8000 else v


def _s8(v):
    return v - 0x100 if v & 0x80 else v


class Calibration:
    """The trimming words dig_T1..dig_H6, as read from the chip's NVM image."""

    def __init__(self, T1, T2, T3, P1, P2, P3, P4, P5, P6, P7, P8, P9, H1, H2, H3, H4, H5, H6):
        self.T1 = T1
        self.T2 = T2
        self.T3 = T3
        self.P1 = P1
        self.P2 = P2
        self.P3 = P3
        self.P4 = P4
        self.P5 = P5
        self.P6 = P6
        self.P7 = P7
        self.P8 = P8
        self.P9 = P9
        self.H1 = H1
        self.H2 = H2
        self.H3 = H3
        self.H4 = H4
        self.H5 = H5
        self.H6 = H6

    def as_tuple(self):
        return (self.T1, self.T2, self.T3, self.P1, self.P2, self.P3, self.P4, self.P5,
                self.P6, self.P7, self.P8, self.P9, self.H1, self.H2, self.H3, self.H4,
                self.H5, self.H6)

    def __eq__(self, other):
        return isinstance(other, Calibration) and self.as_tuple() == other.as_tuple()

    def __repr__(self):
        return f"Calibration{self.as_tuple()!r}"


def parse_calibration(tp, h):
    """Decode the 26 bytes at 0x88..0xA1 and the 7 bytes at 0xE1..0xE7."""
    if len(tp) != CALIB_TP_LEN or len(h) != CALIB_H_LEN:
        raise ValueError("calibration blocks must be 26 and 7 bytes")
    return Calibration(
        _u16(tp, 0), _s16(tp, 2), _s16(tp, 4),
        _u16(tp, 6), _s16(tp, 8), _s16(tp, 10), _s16(tp, 12), _s16(tp, 14),
        _s16(tp, 16), _s16(tp, 18), _s16(tp, 20), _s16(tp, 22),
        tp[25],  # H1 at 0xA1 (0xA0 is reserved)
        _s16(h, 0),  # H2 at 0xE1/0xE2
        h[2],  # H3 at 0xE3
        (_s8(h[3]) * 16) | (h[4] & 0x0F),  # H4: 0xE4[7:0] . 0xE5[3:0]
        (_s8(h[5]) * 16) | (h[4] >> 4),  # H5: 0xE6[7:0] . 0xE5[7:4]
        _s8(h[6]),  # H6 at 0xE7
    )


# -- compensation (Bosch integer formulas) ------------------------------------


def _cdiv(a, b):
    """Integer division truncating toward zero, as C does."""
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def compensate_t(cal, adc_t):
    """Return (temperature in 0.01 degC, t_fine) for a 20-bit temperature code."""
    var1 = (((adc_t >> 3) - (cal.T1 << 1)) * cal.T2) >> 11
    d = (adc_t >> 4) - cal.T1
    var2 = (((d * d) >> 12) * cal.T3) >> 14
    t_fine = var1 + var2
    return (t_fine * 5 + 128) >> 8, t_fine


def compensate_p(cal, adc_p, t_fine):
    """Return pressure in Pa * 256 (Q24.8) for a 20-bit pressure code; 0 if undefined."""
    var1 = t_fine - 128000
    var2 = var1 * var1 * cal.P6
    var2 = var2 + ((var1 * cal.P5) << 17)
    var2 = var2 + (cal.P4 << 35)
    var1 = ((var1 * var1 * cal.P3) >> 8) + ((var1 * cal.P2) << 12)
    var1 = (((1 << 47) + var1) * cal.P1) >> 33
    if var1 == 0:
        return 0  # avoid a division by zero, as Bosch does
    p = 1048576 - adc_p
    p = _cdiv(((p << 31) - var2) * 3125, var1)
    var1 = (cal.P9 * (p >> 13) * (p >> 13)) >> 25
    var2 = (cal.P8 * p) >> 19
    p = ((p + var1 + var2) >> 8) + (cal.P7 << 4)
    return p & 0xFFFFFFFF  # the C code returns it as uint32


def compensate_h(cal, adc_h, t_fine):
    """Return relative humidity in %RH * 1024 (Q22.10) for a 16-bit humidity code."""
    v = t_fine - 76800
    a = ((adc_h << 14) - (cal.H4 << 20) - (cal.H5 * v) + 16384) >> 15
    b = ((((((v * cal.H6) >> 10) * (((v * cal.H3) >> 11) + 32768)) >> 10) + 2097152)
         * cal.H2 + 8192) >> 14
    v = a * b
    v = v - (((((v >> 15) * (v >> 15)) >> 7) * cal.H1) >> 4)
    if v < 0:
        v = 0
    if v > 419430400:
        v = 419430400
    return v >> 12


def measure_time_us(osrs_t, osrs_p, osrs_h, maximum=False):
    """Conversion time for the oversampling counts (datasheet appendix B), in us."""
    if maximum:
        t = 1250 + 2300 * osrs_t
        if osrs_p:
            t += 2300 * osrs_p + 575
        if osrs_h:
            t += 2300 * osrs_h + 575
        return t
    t = 1000 + 2000 * osrs_t
    if osrs_p:
        t += 2000 * osrs_p + 500
    if osrs_h:
        t += 2000 * osrs_h + 500
    return t
