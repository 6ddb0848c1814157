"""Si4703 driver: the `p2mfw.tuner.Tuner` interface on the Si4702/03 register layout.

The chip has no register pointer: every write starts at 0x02 and runs up to the
last register needed (so a volume change rewrites 0x02-0x05 from the shadow, which
is why the shadow's SEEK/TUNE bits must be clean), every read starts at 0x0A.
Unlike the RDA5807M it never clears TUNE/SEEK itself: after STC the driver clears
the bit (in the same write that restores the mute state) and reads once more to
see STC drop.

Bus mode: the chip answers I2C only after RST rose while SDIO was low
(`p2mfw.tuner.bus_mode_reset`). With the board's `pins` the driver runs that
sequence before its first access (unless `tuner_link.attach` already did:
`bus_ready`); without pins it assumes the board did it.
Power-up (AN230): read all registers (one 32-byte read from 0x0A; the read
counter wraps from 0x0F to 0x00, datasheet §4.8.2),
0x07 = 0x8100 (crystal on), wait `xtal_ms` (500 ms), 0x02 = ENABLE (audio muted),
wait `powerup_ms` (110 ms), then 0x02-0x06 with the settings and the first tune.
Power-down: RDS off and ENABLE | DISABLE in one write.
Band codes (0x05[7:6]): 0 = 87.5-108, 1 = 76-108, 2 = 76-90 MHz;
spacing codes (0x05[5:4]): 0 = 200, 1 = 100, 2 = 50 kHz.
Seek: SEEKTH (0x05[15:8]) = threshold in dBµV; SKSNR 4, SKCNT 8 (0x06 = 0x0048).
"Station" in the status = RSSI ≥ seek threshold with AFC not railed.
RDS runs in verbose mode (RDSM) so every group arrives with BLERA-D.
"""

from p2mfw.tuner import ADDR, SI470X_DEVICE_ID, Tuner
from p2mfw.tuner_bus import bus_mode_reset

DSMUTE = 0x8000
DMUTE = 0x4000
MONO = 0x2000
RDSM = 0x0800
SKMODE = 0x0400
SEEKUP = 0x0200
SEEK = 0x0100
DISABLE = 0x0040
ENABLE = 0x0001
TUNE = 0x8000
RDS = 0x1000
DE = 0x0800
XOSCEN = 0x8000
SKSNR_SKCNT = 0x0048


class Si4703(Tuner):
    """Si4703 on I2C 0x10 (2-wire mode)."""

    CHIP = "si4703"
    SKMODE_BIT = SKMODE
    CHIP_ID = SI470X_DEVICE_ID
    BANDS = {0: (87500, 108000), 1: (76000, 108000), 2: (76000, 90000)}
    SPACINGS = {0: 200, 1: 100, 2: 50}
    DEFAULT_BAND = 0
    DEFAULT_SPACING = 1
    SOFTMUTE_REG = 0x02
    THRESHOLD_REG = 0x06
    RDS_REG = 0x04

    def __init__(self, i2c, clock=None, pins=None):
        Tuner.__init__(self, i2c, clock)
        self.pins = pins
        self.bus_ready = not pins
        self.xtal_ms = 500
        self.powerup_ms = 110
        self.stc_clear_ms = 5

    def _write(self, first, last):
        if last < 0x02:
            return
        n = last - 0x02 + 1
        buf = bytearray(2 * n)
        for i in range(n):
            v = self.regs[0x02 + i]
            buf[2 * i] = (v >> 8) & 0xFF
            buf[2 * i + 1] = v & 0xFF
        self.i2c.writeto(0x10, buf)

    def _read_all(self):
        data = self.i2c.readfrom(ADDR, 32)
        for i in range(16):
            self.regs[(0x0A + i) & 0x0F] = (data[2 * i] << 8) | data[2 * i + 1]

    def identify(self):
        if not self.bus_ready:
            self.bus_ready = bus_mode_reset(self.pins, self.clock)
        return Tuner.identify(self)

    def _power_up_sequence(self):
        self.identify()
        self.regs[0x07] = XOSCEN | 0x0100
        self._write(0x02, 0x07)
        self._sleep(self.xtal_ms)
        self.regs[0x02] = ENABLE
        self._write(0x02, 0x02)
        self._sleep(self.powerup_ms)
        self._read_all()
        self._op = "power"
        try:
            self._apply_config()
        finally:
            self._op = None
        self._write(0x02, 0x06)

    def _power_down_sequence(self):
        self.regs[0x04] &= ~RDS & 0xFFFF
        self.regs[0x02] = (self.regs[0x02] & ~(SEEK | DMUTE) & 0xFFFF) | ENABLE | DISABLE
        self.regs[0x03] &= ~TUNE & 0xFFFF
        self._write(0x02, 0x04)
        self.regs[0x02] &= ~(ENABLE | DISABLE) & 0xFFFF

    def _apply_config(self):
        r2 = (self.regs[0x02] & (SEEK | SEEKUP | SKMODE)) | ENABLE | RDSM
        if not self._chip_muted():
            r2 |= DMUTE
        if not self.softmute:
            r2 |= DSMUTE
        if self.mono:
            r2 |= MONO
        self.regs[0x02] = r2
        self._bits(0x04, RDS, self.rds)
        self._bits(0x04, DE, self.deemph == 50)
        self.regs[0x05] = (((self.seek_threshold & 0xFF) << 8) | (self.band << 6)
                           | (self.spacing << 4) | self.volume)
        self.regs[0x06] = (self.regs[0x06] & 0xFF00) | SKSNR_SKCNT

    def _set_tune(self, ch, on):
        self.regs[0x03] = (self.regs[0x03] & 0x7C00) | (ch & 0x3FF) | (TUNE if on else 0)

    def _write_band(self):
        self._write(0x02, 0x05)

    def _write_start_tune(self):
        self._write(0x02, 0x03)

    def _write_end_op(self, dirty):
        self._write(0x02, dirty if dirty > 0x03 else 0x03)
        for _ in range(10):
            if not self._read_status()["stc"]:
                return
            self._sleep(self.stc_clear_ms)

    def _parse_status(self, r0a, r0b):
        rssi = r0a & 0xFF
        afcrl = bool(r0a & 0x1000)
        return {"stc": bool(r0a & 0x4000), "sf": bool(r0a & 0x2000), "rdsr": bool(r0a & 0x8000),
                "rds_sync": bool(r0a & 0x0800), "stereo": bool(r0a & 0x0100),
                "channel": r0b & 0x03FF, "rssi": rssi,
                "station": rssi >= self.seek_threshold and not afcrl}

    def _parse_rds(self, w):
        if not w[0] & 0x8000:
            return None
        return (w[2], w[3], w[4], w[5],
                ((w[0] >> 9) & 3, (w[1] >> 14) & 3, (w[1] >> 12) & 3, (w[1] >> 10) & 3))
