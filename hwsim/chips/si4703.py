"""Register-level model of the Silicon Labs Si4703 FM tuner with RDS (I2C 0x10).

Theory of operation
-------------------
Sequential access only (see `fm_common`): writes fill 0x02…, reads return
0x0A…0x0F, 0x00… (the address counter wraps: Si4702/03-C19 datasheet §4.8.2).
Registers modelled (Si4702/03 datasheet, AN230):

* **Bus mode.** The chip picks its control interface at the rising edge of RST:
  SDIO low selects the 2-wire (I2C) mode, SDIO high the 3-wire mode (datasheet
  §4.9 "Reset, Powerup, and Powerdown", table "Bus Mode Select"). `attach(bus,
  rst)` wires RST to a `hwsim.i2c.McuPin` and SDIO to the bus's `sda`. Until the
  chip has seen RST rise with SDIO low — and while RST is low — it does not answer
  at 0x10: every transaction is NACKed (OSError EIO) and counted as a violation.
  RST low also resets every register.
* 0x00 DEVICEID = 0x1242; 0x01 CHIPID = 0x1200 before power-up, 0x1253 after
  (DEV = 1001: Si4703 powered up, firmware 19).
* Reserved bits (POWERCFG b12, b7, b5:1; CHANNEL b14:10; SYSCONFIG1 b13, b9:8;
  SYSCONFIG3 b11:9) must be written as 0, TEST1's b13:0 with the value read, and
  BAND/SPACE code 11 is reserved: anything else is a counted violation.
* 0x07 TEST1: XOSCEN (b15) starts the crystal. POWERCFG (0x02) ENABLE (b0) powers
  up; doing it less than 500 ms after XOSCEN is a recorded violation, and writes
  in the 110 ms after ENABLE are too. ENABLE+DISABLE (b6) powers down.
* 0x02: DSMUTE b15 (1 = soft mute off), DMUTE b14 (1 = audio on), MONO b13,
  RDSM b11 (1 = verbose), SKMODE b10 (1 = stop at band edge), SEEKUP b9, SEEK b8.
  A seek starts on a 0→1 edge of SEEK; the chip never clears SEEK itself: STC stays
  set until the host clears SEEK (clearing it during a seek aborts the seek).
* 0x03: TUNE b15, CHAN[9:0]; same edge rules as SEEK.
* 0x04: RDS b12, DE b11 (1 = 50 µs). 0x05: SEEKTH[15:8] (dBµV), BAND[7:6]
  (00 87.5-108, 01 76-108, 10 76-90), SPACE[5:4] (00 200, 01 100, 10 50 kHz),
  VOLUME[3:0] (0 = mute). 0x06: SKSNR[7:4], SKCNT[3:0].
* 0x0A: RDSR b15, STC b14, SF/BL b13, AFCRL b12 (always 0 here), RDSS b11,
  BLERA[10:9], ST b8, RSSI[7:0] (dBµV, capped at 75).
* RDSR: "RDS ready (RDSR) will be set for a minimum of 40 ms" when a group is
  received (datasheet §4.4, RDS verbose mode; AN230). Reading the registers does
  not clear it: it drops `RDSR_MS` (40 ms) after the group landed, and the group
  stays in 0x0C-0x0F (with its BLER fields) until the next group replaces it
  87.6 ms after the last one. A host that polls every 40 ms and trusts RDSR alone
  can therefore read the same group twice.
  0x0B: BLERB[15:14], BLERC[13:12], BLERD[11:10], READCHAN[9:0]. 0x0C-0x0F: RDS A-D.
* Seek stops on a channel with RSSI ≥ SEEKTH and, when SKSNR ≠ 0, an SNR of at least
  3 dB per SKSNR step (a model approximation; SKCNT is ignored).
* RDS standard mode (RDSM = 0) drops groups with an uncorrectable block and reads
  BLER as 0; verbose mode delivers every group with its BLER fields.
"""

from hwsim.chips.fm_common import FmChipModel
from hwsim.chips.radio_world import Clock, RadioWorld
from hwsim.i2c import EIO, McuPin

DEVICE_ID = 0x1242
CHIP_ID_OFF = 0x1200
CHIP_ID_ON = 0x1253
XTAL_SETTLE_MS = 500
POWERUP_MS = 110
RDSR_MS = 40

# Reserved bits that must be written as 0 (datasheet §6 register descriptions):
# POWERCFG b12, b7, b5:1; CHANNEL b14:10; SYSCONFIG1 b13, b9:8; SYSCONFIG3 b11:9.
RESERVED = {0x02: 0x10BE, 0x03: 0x7C00, 0x04: 0x2300, 0x06: 0x0E00}

BANDS = {0: (87500, 108000), 1: (76000, 108000), 2: (76000, 90000)}
SPACINGS = {0: 200, 1: 100, 2: 50}


class Si4703(FmChipModel):
    """The Si4703 at 0x10; see the module docstring for the register semantics."""

    NAME = "si4703"
    RESET = {0x00: DEVICE_ID, 0x01: CHIP_ID_OFF, 0x07: 0x0100}
    RSSI_MAX = 75

    def __init__(self, world: RadioWorld, clock: Clock | None = None, time_scale: float = 1.0,
                 seed: int = 7) -> None:
        super().__init__(world, clock, time_scale, seed)
        self.xosc_at: float | None = None
        self.bus_mode: str | None = None  # "2-wire" / "3-wire" once RST has risen
        self.in_reset = False
        self.resets = 0
        self._sdio: McuPin | None = None

    # -- RST and bus mode -----------------------------------------------------------
    def attach(self, i2c: object, rst: McuPin | None = None) -> None:
        """Put the chip on a `SimI2C` bus (SDIO = the bus's `sda`) with RST wired to `rst`."""
        i2c.attach(self.ADDR, self)  # type: ignore[attr-defined]
        self._sdio = i2c.sda  # type: ignore[attr-defined]
        if rst is not None:
            rst.listeners.append(self._rst_changed)
            if rst.level == 0:
                self.in_reset = True

    def _rst_changed(self, pin: McuPin, old: int, new: int) -> None:
        if new == 0:
            self.in_reset = True
            self.bus_mode = None
            return
        self.in_reset = False
        sdio = self._sdio
        sdio_low = sdio is not None and sdio.mode == McuPin.OUT and sdio.level == 0
        self.bus_mode = "2-wire" if sdio_low else "3-wire"
        self.resets += 1
        self.powered = False
        self.op = None
        self.stc = False
        self.sf = False
        self.xosc_at = None
        self.reset_registers()

    def _check_bus(self) -> None:
        if self.in_reset or self.bus_mode != "2-wire":
            why = "RST is low" if self.in_reset else (
                "RST rose with SDIO high: 3-wire mode" if self.bus_mode else "no RST rising edge with SDIO low yet")
            self.violation(f"I2C access before the 2-wire bus mode was selected ({why}); not acknowledged")
            raise OSError(EIO)

    def i2c_write(self, data: bytes) -> None:
        self._check_bus()
        super().i2c_write(data)

    def i2c_read(self, n: int) -> bytes:
        self._check_bus()
        return super().i2c_read(n)

    # -- RDS ready ------------------------------------------------------------------------
    def _rds_block_d_read(self, t: float) -> None:
        """Reading does not clear RDSR on this chip (see the module docstring)."""

    def rdsr(self) -> bool:
        return self.rds_ready and self._t < self.rds_at + RDSR_MS

    def _check_reserved(self, reg: int, old: int, new: int) -> None:
        """Reserved bits "always write to 0"; TEST1's 13:0 keep the value read (datasheet §6)."""
        if reg == 0x07:
            if (old ^ new) & 0x3FFF:
                self.violation(f"TEST1 reserved bits 13:0 changed (0x{old:04X} -> 0x{new:04X})")
            return
        mask = RESERVED.get(reg, 0)
        if new & mask:
            self.violation(f"reserved bits 0x{new & mask:04X} set in register 0x{reg:02X}")
        if reg == 0x05 and ((new >> 6) & 3 == 3 or (new >> 4) & 3 == 3):
            self.violation(f"reserved BAND or SPACE code 11 in SYSCONFIG2 (0x{new:04X})")

    def _on_write(self, reg: int, old: int, new: int, t: float) -> None:
        self._check_reserved(reg, old, new)
        if reg == 0x07:
            if new & 0x8000 and not old & 0x8000:
                self.xosc_at = t
            elif not new & 0x8000:
                self.xosc_at = None
        elif reg == 0x02:
            self._powercfg(old, new, t)
        elif reg == 0x03:
            if new & 0x8000 and not old & 0x8000:
                self.start_tune(new & 0x03FF, t)
            elif old & 0x8000 and not new & 0x8000:
                if self.op == "tune":
                    self.abort()
                self.stc = False

    def _powercfg(self, old: int, new: int, t: float) -> None:
        if new & 0x0001 and new & 0x0040:
            self.powered = False
            self.op = None
            self.stc = False
            self.regs[0x02] = new & ~0x0041
            self.regs[0x01] = CHIP_ID_OFF
            return
        if new & 0x0001 and not self.powered:
            settled = self.xosc_at is not None and t - self.xosc_at >= self.scaled(XTAL_SETTLE_MS)
            if not settled:
                self.violation("ENABLE before the crystal settled (500 ms after XOSCEN)")
            self.powered = True
            self.ready_at = t + self.scaled(POWERUP_MS)
            self.regs[0x01] = CHIP_ID_ON
            self.channel = self.regs[0x03] & 0x03FF
            self._latch_band()
        if new & 0x0100 and not old & 0x0100:
            self.start_seek(bool(new & 0x0200), not new & 0x0400, t)
        elif old & 0x0100 and not new & 0x0100:
            if self.op == "seek":
                self.abort()
            self.stc = False
            self.sf = False

    def _compose_status(self) -> None:
        rssi, _snr, stereo, _present = self.signal_now()
        if self.regs[0x02] & 0x2000:
            stereo = False
        verbose = bool(self.regs[0x02] & 0x0800)
        ea, eb, ec, ed = self.rds_errors if (verbose and self.rds_ready) else (0, 0, 0, 0)
        self.regs[0x0A] = ((int(self.rdsr()) << 15) | (int(self.stc) << 14) | (int(self.sf) << 13)
                           | (int(self.rds_sync) << 11) | (ea << 9) | (int(stereo) << 8) | rssi)
        self.regs[0x0B] = (eb << 14) | (ec << 12) | (ed << 10) | (self.channel & 0x03FF)

    def band_limits(self) -> tuple[int, int]:
        return BANDS.get((self.regs[0x05] >> 6) & 3, BANDS[0])

    def spacing_khz(self) -> int:
        return SPACINGS.get((self.regs[0x05] >> 4) & 3, 200)

    def passes(self, rssi: float, snr: float) -> bool:
        seekth = (self.regs[0x05] >> 8) & 0xFF
        sksnr = (self.regs[0x06] >> 4) & 0xF
        return rssi >= seekth and (sksnr == 0 or snr >= 3 * sksnr)

    def audible(self) -> bool:
        return self.powered and bool(self.regs[0x02] & 0x4000) and (self.regs[0x05] & 0xF) > 0

    def rds_enabled(self) -> bool:
        return bool(self.regs[0x04] & 0x1000)

    def accept_group(self, errors: tuple[int, int, int, int]) -> bool:
        return bool(self.regs[0x02] & 0x0800) or max(errors) < 3
