"""Register-level model of the RDA Microelectronics RDA5807M FM tuner (I2C 0x10 and 0x11).

Theory of operation
-------------------
Two I2C addresses reach the same register file (RDA5807M datasheet v1.1 §7 "I2C
interface"; the Arduino "Radio" library by mathertel and PU2CLR's RDA5807 library
use both): 0x10 is sequential access (writes fill 0x02…, reads return 0x0A…),
0x11 is random access with a register pointer (a write's first byte sets the
pointer, following byte pairs are written from there; a read returns registers
from the pointer on and advances it). The datasheet names no register after 0x0F
and says nothing of a wrap (the RDA5807FP datasheet v1.2 §3.6 has the read run on
to 0x3A before wrapping), so a transfer that runs past 0x0F on either address is a
counted violation and reads 0xFF from there on (see `fm_common`); a driver that
reads all sixteen registers must do it at 0x11 from 0x00.
Registers modelled (RDA5807M datasheet):

* 0x00 CHIPID = 0x5804.
* 0x02: DHIZ b15 (1 = audio out), DMUTE b14 (1 = audio on), MONO b13, BASS b12,
  SEEKUP b9, SEEK b8, SKMODE b7 (1 = stop at band edge), RDS_EN b3, NEW_METHOD b2,
  SOFT_RESET b1, ENABLE b0. SOFT_RESET puts the other registers back to their reset
  values and starts a 5 ms delay in which writes are recorded as violations.
* 0x03: CHAN[15:6], TUNE b4, BAND[3:2] (00 87-108, 01 76-91, 10 76-108,
  11 65-76, or 50-76 when 0x07 b9 = 0), SPACE[1:0] (00 100, 01 200, 10 50, 11 25 kHz).
* 0x04: DE b11 (1 = 50 µs), SOFTMUTE_EN b9. 0x05: INT_MODE b15, SEEKTH[11:8],
  VOLUME[3:0] (0 = mute). 0x07: 65M_50M_MODE b9.
* TUNE and SEEK start an operation when written as 1 while the chip's own bit is 0,
  and the chip clears them itself when the operation completes. So a host that
  keeps SEEK = 1 in a shadow register and writes 0x02 again *restarts the seek* —
  the stale-SEEK-bit bug; `seeks_started` makes it visible. Writing SEEK = 0 during
  a seek stops it.
* 0x0A: RDSR b15, STC b14, SF b13, RDSS b12, BLK_E b11 (0), ST b10, READCHAN[9:0].
  0x0B: RSSI[15:9] (dBµV here), FM_TRUE b8 (the channel passes the seek threshold),
  FM_READY b7, BLERA[3:2], BLERB[1:0] (no error fields for blocks C and D).
* Seek stops on a channel whose SNR is at least 2 dB per SEEKTH step (model
  approximation of the chip's SNR threshold).
"""

from hwsim.chips.fm_common import FmChipModel
from hwsim.chips.radio_world import Clock, RadioWorld
from hwsim.i2c import I2CTarget

CHIP_ID = 0x5804
RANDOM_ADDR = 0x11
RESET_MS = 5

BANDS = {0: (87000, 108000), 1: (76000, 91000), 2: (76000, 108000), 3: (65000, 76000)}
SPACINGS = {0: 100, 1: 200, 2: 50, 3: 25}


class _RandomAccess(I2CTarget):
    """The 0x11 face of the chip: a register pointer in front of the same registers."""

    def __init__(self, chip: "Rda5807m") -> None:
        self.chip = chip
        self.ptr = 0

    def i2c_write(self, data: bytes) -> None:
        t = self.chip._begin()
        if not data:
            return
        if data[0] > 0x0F:
            self.chip.violation(f"register pointer 0x{data[0]:02X} beyond the register map (0x00-0x0F)")
        self.ptr = data[0] & 0x0F
        if len(data) > 1:
            self.chip.write_regs(self.ptr, data[1:], t, False)

    def i2c_read(self, n: int) -> bytes:
        t = self.chip._begin()
        out = self.chip.read_regs(self.ptr, n, t, False)
        self.ptr = min(0x0F, self.ptr + n // 2)
        return out


class Rda5807m(FmChipModel):
    """The RDA5807M at 0x10 (sequential) and 0x11 (random access)."""

    NAME = "rda5807m"
    SEQ_WRAPS = False
    READ_ONLY = (0x00, 0x01, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F)
    RESET = {0x00: CHIP_ID, 0x04: 0x0400, 0x05: 0x8888, 0x07: 0x4202}
    RSSI_MAX = 127

    def __init__(self, world: RadioWorld, clock: Clock | None = None, time_scale: float = 1.0,
                 seed: int = 7) -> None:
        super().__init__(world, clock, time_scale, seed)
        self.random_port = _RandomAccess(self)

    def attach(self, i2c: object) -> None:
        i2c.attach(self.ADDR, self)  # type: ignore[attr-defined]
        i2c.attach(RANDOM_ADDR, self.random_port)  # type: ignore[attr-defined]

    def _on_write(self, reg: int, old: int, new: int, t: float) -> None:
        if reg == 0x02:
            self._powercfg(old, new, t)
        elif reg == 0x03:
            if new & 0x0010 and not old & 0x0010:
                self.start_tune(new >> 6, t)

    def _powercfg(self, old: int, new: int, t: float) -> None:
        if new & 0x0002:
            for i in range(16):
                if i != 0x02:
                    self.regs[i] = self.RESET.get(i, 0)
            self.op = None
            self.stc = False
            self.sf = False
            self.ready_at = t + self.scaled(RESET_MS)
        if new & 0x0001 and not self.powered:
            self.powered = True
            self.ready_at = max(self.ready_at, t + self.scaled(RESET_MS))
            self.channel = self.regs[0x03] >> 6
            self._latch_band()
        elif not new & 0x0001 and self.powered:
            self.powered = False
            self.op = None
            self.stc = False
        if new & 0x0100 and not old & 0x0100:
            self.start_seek(bool(new & 0x0200), not new & 0x0080, t)
        elif old & 0x0100 and not new & 0x0100 and self.op == "seek":
            self.abort()

    def _op_done(self) -> None:
        self.regs[0x02] &= ~0x0100
        self.regs[0x03] &= ~0x0010

    def abort(self) -> None:
        super().abort()
        self._op_done()

    def _compose_status(self) -> None:
        rssi, _snr, stereo, present = self.signal_now()
        if self.regs[0x02] & 0x2000:
            stereo = False
        ea, eb = (self.rds_errors[0], self.rds_errors[1]) if self.rds_ready else (0, 0)
        self.regs[0x0A] = ((int(self.rds_ready) << 15) | (int(self.stc) << 14) | (int(self.sf) << 13)
                           | (int(self.rds_sync) << 12) | (int(stereo) << 10) | (self.channel & 0x03FF))
        ready = self.powered and self.op is None
        self.regs[0x0B] = ((rssi & 0x7F) << 9) | (int(present) << 8) | (int(ready) << 7) | (ea << 2) | eb

    def band_limits(self) -> tuple[int, int]:
        code = (self.regs[0x03] >> 2) & 3
        if code == 3 and not self.regs[0x07] & 0x0200:
            return (50000, 76000)
        return BANDS[code]

    def spacing_khz(self) -> int:
        return SPACINGS[self.regs[0x03] & 3]

    def passes(self, rssi: float, snr: float) -> bool:
        return snr >= 2 * ((self.regs[0x05] >> 8) & 0xF)

    def audible(self) -> bool:
        r2 = self.regs[0x02]
        return self.powered and bool(r2 & 0x8000) and bool(r2 & 0x4000) and (self.regs[0x05] & 0xF) > 0

    def rds_enabled(self) -> bool:
        return bool(self.regs[0x02] & 0x0008)
