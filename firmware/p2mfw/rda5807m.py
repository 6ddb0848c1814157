"""RDA5807M driver: the `p2mfw.tuner.Tuner` interface on the RDA register layout.

Writes use the random-access address 0x11 (register pointer first), so a setting
touches only its own register: a volume change writes 0x05 alone and can never
carry a SEEK bit. Status and RDS reads use sequential access at 0x10 (one
transaction of 0x0A-0x0F at most). The whole register file (power-up) is read by
random access at 0x11, one register per transaction: the datasheet says a
sequential read starts at 0x0A and never says it wraps past 0x0F. The chip clears
TUNE/SEEK itself when it is done; the driver clears them in its shadow at the
same moment (see `p2mfw.tuner`).

Power-up: 0x02 = DHIZ | SOFT_RESET | ENABLE (audio muted), wait `reset_ms` (5 ms),
re-read the registers, then 0x02-0x05 with the settings, then the first tune.
Band codes (0x03[3:2]): 0 = 87.0-108, 1 = 76-91, 2 = 76-108, 3 = 65-76 MHz;
spacing codes (0x03[1:0]): 0 = 100, 1 = 200, 2 = 50, 3 = 25 kHz.
Seek threshold: SEEKTH (0x05[11:8]) is an SNR threshold; the driver maps the
chip-neutral dBµV figure as (dBµV - 8) / 2, clamped to 0-15 (8 dBµV ≈ noise floor).
"""

from p2mfw.tuner import RDA_CHIP_ID, RDA_RANDOM_ADDR, Tuner

DHIZ = 0x8000
DMUTE = 0x4000
MONO = 0x2000
SEEKUP = 0x0200
SEEK = 0x0100
SKMODE = 0x0080
RDS_EN = 0x0008
NEW_METHOD = 0x0004
SOFT_RESET = 0x0002
ENABLE = 0x0001
TUNE = 0x0010
DE = 0x0800
SOFTMUTE_EN = 0x0200


class Rda5807m(Tuner):
    """RDA5807M on I2C 0x10/0x11."""

    CHIP = "rda5807m"
    SKMODE_BIT = SKMODE
    CHIP_ID = RDA_CHIP_ID
    BANDS = {0: (87000, 108000), 1: (76000, 91000), 2: (76000, 108000), 3: (65000, 76000)}
    SPACINGS = {0: 100, 1: 200, 2: 50, 3: 25}
    DEFAULT_BAND = 0
    DEFAULT_SPACING = 0
    SOFTMUTE_REG = 0x04
    THRESHOLD_REG = 0x05
    RDS_REG = 0x02

    def __init__(self, i2c, clock=None):
        Tuner.__init__(self, i2c, clock)
        self.reset_ms = 5

    def _write(self, first, last):
        buf = bytearray(1 + 2 * (last - first + 1))
        buf[0] = first
        for i in range(last - first + 1):
            v = self.regs[first + i]
            buf[1 + 2 * i] = (v >> 8) & 0xFF
            buf[2 + 2 * i] = v & 0xFF
        self.i2c.writeto(RDA_RANDOM_ADDR, buf)

    def _read_all(self):
        for reg in range(16):
            d = self.i2c.readfrom_mem(RDA_RANDOM_ADDR, reg, 2)
            self.regs[reg] = (d[0] << 8) | d[1]

    def _power_up_sequence(self):
        self.identify()
        self.regs[0x02] = DHIZ | SOFT_RESET | ENABLE
        self._write(0x02, 0x02)
        self._sleep(self.reset_ms)
        self._read_all()
        self.regs[0x02] = DHIZ | NEW_METHOD | ENABLE
        self.regs[0x03] = 0
        self._op = "power"
        try:
            self._apply_config()
        finally:
            self._op = None
        self._write(0x02, 0x05)

    def _power_down_sequence(self):
        self.regs[0x02] &= ~(ENABLE | RDS_EN | SEEK) & 0xFFFF
        self._write(0x02, 0x02)

    def _apply_config(self):
        r2 = self.regs[0x02] | DHIZ | NEW_METHOD | ENABLE
        r2 &= ~(SOFT_RESET | DMUTE | MONO | RDS_EN) & 0xFFFF
        if not self._chip_muted():
            r2 |= DMUTE
        if self.mono:
            r2 |= MONO
        if self.rds:
            r2 |= RDS_EN
        self.regs[0x02] = r2
        self.regs[0x03] = (self.regs[0x03] & 0xFFF0) | (self.band << 2) | self.spacing
        self._bits(0x04, DE, self.deemph == 50)
        self._bits(0x04, SOFTMUTE_EN, self.softmute)
        th = (self.seek_threshold - 8) // 2
        th = 0 if th < 0 else (15 if th > 15 else th)
        self.regs[0x05] = (self.regs[0x05] & 0xF0F0) | (th << 8) | self.volume

    def _set_tune(self, ch, on):
        self.regs[0x03] = ((ch & 0x3FF) << 6) | (TUNE if on else 0) | (self.regs[0x03] & 0x000F)

    def _write_band(self):
        pass  # band and spacing live in 0x03 and go out with the tune

    def _write_start_tune(self):
        self._write(0x02, 0x03)

    def _write_end_op(self, dirty):
        self._write(0x02, 0x02)
        if dirty >= 0x04:
            self._write(0x04, 0x05)

    def _parse_status(self, r0a, r0b):
        return {"stc": bool(r0a & 0x4000), "sf": bool(r0a & 0x2000), "rdsr": bool(r0a & 0x8000),
                "rds_sync": bool(r0a & 0x1000), "stereo": bool(r0a & 0x0400),
                "channel": r0a & 0x03FF, "rssi": r0b >> 9, "station": bool(r0b & 0x0100)}

    def _parse_rds(self, w):
        if not w[0] & 0x8000:
            return None
        return (w[2], w[3], w[4], w[5], ((w[1] >> 2) & 3, w[1] & 3, None, None))
