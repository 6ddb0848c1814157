"""Mechanics shared by the register-level FM tuner models (RDA5807M, Si4703).

Theory of operation
-------------------
Both chips expose sixteen 16-bit registers over I2C address 0x10 with
*sequential* access: a write transaction fills registers 0x02, 0x03, … (high byte
first); a read transaction returns registers 0x0A, 0x0B, … 0x0F. What comes after
0x0F differs: the Si4702/03 datasheet (§4.8.2, "2-wire Control Interface") says the
address counter wraps to 0x00, so `SEQ_WRAPS` is true there; the RDA5807M
datasheet (and RDA's programming guide) only say a read starts at 0x0A and runs
on until the host's NACK, and never name a register past 0x0F, so on that chip
such a read or write is a datasheet violation: it is counted, and the bytes past
0x0F read 0xFF (nobody drives the bus). `FmChipModel` implements that, plus the
parts that are the same on both chips:

* **No threads.** Tune, seek and RDS advance when a transaction arrives, computed
  from the ticks elapsed since the operation started (`_advance`). A tune
  completes `TUNE_MS` after it started; a seek moves one channel every
  `SEEK_STEP_MS`, testing each new channel against the chip's threshold, stopping
  with SF/BL at the band edge (stop mode) or after a full wrap with nothing found.
  `time_scale` multiplies these and the power-up delays (1.0 = datasheet timing).
  Times are milliseconds since the model was made (`ticks_diff`), good for days
  on MicroPython's wrapping ticks and for ever on CPython.
* **Band and spacing are latched** when a tune or seek starts, as on the chips.
* **RDS**: while powered, idle, RDS-enabled and tuned to a station with RDS above
  the sync level, a new group from the `RadioWorld` lands in the block registers
  every `rds_period_ms` (87.6 ms, 11.4 groups/s) with a random phase after each
  tune. The group stays in the block registers until the next one replaces it.
  How RDSR clears is the chip's (`_rdsr_now`): by default a read that covers
  block D (0x0F) clears it; the Si4703 holds it for 40 ms whatever the host
  reads. A group replaced before it was read counts in `rds_overwritten`.
* **Evidence for tests**: `transactions`; `bus_noise` (transactions made while a
  tune or seek was in progress — the errata says they disturb the oscillator);
  `tunes_started` / `seeks_started` (a stale SEEK bit shows up as an extra seek);
  `pops` (a tune or seek started while the audio was audible); `violations`
  (see `hwsim.chips.datasheet`: writes during the power-up delay, ENABLE before
  the crystal settled, a channel beyond the band, a transfer past register 0x0F
  on a chip that does not document one, a write during a tune or seek other than
  the one that clears TUNE/SEEK — reading STC meanwhile is how the datasheets
  say to wait, so reads only count in `bus_noise`).

Subclasses give the register layout: reset values, what a write means
(`_on_write`), how the status registers read (`_compose_status`), the band and
spacing tables and the seek threshold test.

A model keeps time with its world's clock (`radio_world.Clock` or `SimClock`); the
firmware drivers accept any object with `ticks_ms`, `ticks_diff` and `sleep_ms`, so
a driver and a model under test share one `SimClock`.

Runs under MicroPython too: no typing, no dataclasses.
"""

from hwsim.chips.datasheet import Recorder
from hwsim.chips.radio_world import RDS_SYNC_MIN_DBUV, Clock, RadioWorld, Rng
from hwsim.i2c import I2CTarget

TUNE_MS = 60
SEEK_STEP_MS = 60
RDS_PERIOD_MS = 87.6
RDS_CATCH_UP = 8


class FmChipModel(I2CTarget, Recorder):
    """Register file, sequential I2C access, tune/seek/RDS timing; see the module docstring."""

    ADDR = 0x10
    NAME = "fm"
    SEQ_WRAPS = True
    READ_ONLY = (0x00, 0x01, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F)
    RESET: dict[int, int] = {}
    RSSI_MAX = 127
    CHAN_MAX = 1023

    def __init__(self, world: RadioWorld, clock: Clock | None = None, time_scale: float = 1.0,
                 seed: int = 7) -> None:
        self.world = world
        self.clock = clock or world.clock
        self.time_scale = time_scale
        self.rds_period_ms = RDS_PERIOD_MS
        self.rds_sync_min = RDS_SYNC_MIN_DBUV
        self.rng = Rng(seed)
        self._origin = self.clock.ticks_ms()
        self.regs = [0] * 16
        # chip state
        self.powered = False
        self.ready_at = 0.0
        self.op: str | None = None
        self.op_at = 0.0
        self.seek_up = True
        self.seek_wrap = True
        self.seek_from = 0
        self.channel = 0
        self.band = (87500, 108000)
        self.spacing = 100
        self.stc = False
        self.sf = False
        self.rds_next_at: float | None = None
        self.rds_ready = False
        self.rds_sync = False
        self.rds_blocks = (0, 0, 0, 0)
        self.rds_errors = (0, 0, 0, 0)
        self.rds_at = 0.0
        self.rds_unread = False
        self._t = 0.0
        # evidence
        self.transactions = 0
        self.bus_noise = 0
        self.tunes_started = 0
        self.seeks_started = 0
        self.pops = 0
        self.rds_groups = 0
        self.rds_overwritten = 0
        self._init_violations()
        self.reset_registers()

    # -- wiring and time -------------------------------------------------------
    def attach(self, i2c: object) -> None:
        """Put the chip on a `SimI2C` bus."""
        i2c.attach(self.ADDR, self)  # type: ignore[attr-defined]

    def now(self) -> int:
        return self.clock.ticks_diff(self.clock.ticks_ms(), self._origin)

    def scaled(self, ms: float) -> float:
        return round(ms * self.time_scale, 6)

    def reset_registers(self) -> None:
        for i in range(16):
            self.regs[i] = self.RESET.get(i, 0)

    def freq_khz(self) -> int:
        return self.band[0] + self.channel * self.spacing

    def busy(self) -> bool:
        return self.op is not None

    # -- transactions ---------------------------------------------------------------
    def _begin(self) -> float:
        t = float(self.now())
        self._t = t
        self._advance(t)
        self.transactions += 1
        if self.op is not None:
            self.bus_noise += 1
        return t

    def i2c_write(self, data: bytes) -> None:
        t = self._begin()
        self.write_regs(0x02, data, t, self.SEQ_WRAPS)

    def i2c_read(self, n: int) -> bytes:
        t = self._begin()
        return self.read_regs(0x0A, n, t, self.SEQ_WRAPS)

    def write_regs(self, first: int, data: bytes, t: float, wraps: bool = True) -> None:
        """Registers from `first` on, two bytes each, high byte first.

        The whole transaction lands first, then each register's meaning is acted on
        in register order: a write of 0x02..0x05 that sets TUNE in 0x03 tunes with
        the band and spacing written to 0x05 in the same transaction.
        """
        busy = self.op
        changed = []
        for i in range(len(data) // 2):
            if first + i > 0x0F and not wraps:
                self.violation(f"write past register 0x0F (from 0x{first:02X}, {len(data)} bytes)")
                break
            reg = (first + i) & 0x0F
            if reg in self.READ_ONLY:
                continue
            if self.powered and t < self.ready_at:
                self.violation(f"write to 0x{reg:02X} during the power-up delay")
            changed.append((reg, self.regs[reg]))
            self.regs[reg] = (data[2 * i] << 8) | data[2 * i + 1]
        for reg, old in changed:
            self._on_write(reg, old, self.regs[reg], t)
        if busy is not None and self.op is not None and changed:
            self.violation(f"write to 0x{changed[0][0]:02X} during a {busy} (only clearing TUNE/SEEK is defined)")

    def read_regs(self, first: int, n: int, t: float, wraps: bool = True) -> bytes:
        """`n` bytes of registers from `first` on; past 0x0F: wrap to 0x00, or a violation."""
        self._compose_status()
        out = bytearray(n)
        covered_d = False
        for i in range(n):
            if first + i // 2 > 0x0F and not wraps:
                self.violation(f"read past register 0x0F (from 0x{first:02X}, {n} bytes)")
                for j in range(i, n):
                    out[j] = 0xFF
                break
            reg = (first + i // 2) & 0x0F
            if reg == 0x0F and i % 2 == 1:
                covered_d = True
            v = self.regs[reg]
            out[i] = (v >> 8) & 0xFF if i % 2 == 0 else v & 0xFF
        if covered_d:
            self.rds_unread = False
            self._rds_block_d_read(t)
        return bytes(out)

    def _rds_block_d_read(self, t: float) -> None:
        """A read covered block D: by default that clears RDSR (the Si4703 overrides)."""
        self.rds_ready = False

    # -- tune and seek --------------------------------------------------------------
    def _latch_band(self) -> None:
        self.band = self.band_limits()
        self.spacing = self.spacing_khz()

    def _last_channel(self) -> int:
        return (self.band[1] - self.band[0]) // self.spacing

    def _can_operate(self, what: str, t: float) -> bool:
        if not self.powered:
            return False
        if t < self.ready_at:
            self.violation(f"{what} started during the power-up delay")
        return True

    def start_tune(self, channel: int, t: float) -> None:
        if not self._can_operate("tune", t):
            return
        self._latch_band()
        if channel > self._last_channel():
            self.violation(f"tune to channel {channel} beyond the band")
        if self.audible():
            self.pops += 1
        self.channel = channel
        self.op = "tune"
        self.op_at = t + self.scaled(TUNE_MS)
        self.tunes_started += 1
        self._op_begun()

    def start_seek(self, up: bool, wrap: bool, t: float) -> None:
        if not self._can_operate("seek", t):
            return
        self._latch_band()
        if self.audible():
            self.pops += 1
        self.seek_up = up
        self.seek_wrap = wrap
        self.seek_from = self.channel
        self.op = "seek"
        self.op_at = t + self.scaled(SEEK_STEP_MS)
        self.seeks_started += 1
        self._op_begun()

    def _op_begun(self) -> None:
        self.stc = False
        self.sf = False
        self.rds_next_at = None
        self.rds_ready = False
        self.rds_sync = False

    def abort(self) -> None:
        """The host cleared TUNE/SEEK while the operation ran: stop where we are."""
        self.op = None

    def _finish(self, sf: bool, t: float) -> None:
        self.op = None
        self.stc = True
        self.sf = sf
        self._op_done()
        self.rds_next_at = t + self.rng.random() * self.rds_period_ms

    def _seek_step(self, t: float) -> None:
        last = self._last_channel()
        ch = self.channel + (1 if self.seek_up else -1)
        if ch < 0 or ch > last:
            if not self.seek_wrap:
                self._finish(True, t)
                return
            ch = 0 if self.seek_up else last
        self.channel = ch
        rssi, snr, _st, station = self.world.signal(self.freq_khz())
        if station is not None and self.passes(rssi, snr):
            self._finish(False, t)
        elif ch == self.seek_from:
            self._finish(True, t)

    def _advance(self, t: float) -> None:
        if self.op == "tune" and t >= self.op_at:
            self._finish(False, self.op_at)
        step = max(0.001, self.scaled(SEEK_STEP_MS))
        while self.op == "seek" and t >= self.op_at:
            at = self.op_at
            self.op_at += step
            self._seek_step(at)
        self._rds_advance(t)

    # -- RDS ------------------------------------------------------------------------
    def _rds_advance(self, t: float) -> None:
        if not (self.powered and self.op is None and self.rds_enabled()):
            self.rds_next_at = None
            self.rds_sync = False
            self.rds_ready = False
            return
        period = self.rds_period_ms
        if self.rds_next_at is None:
            self.rds_next_at = t + self.rng.random() * period
            return
        behind = int((t - self.rds_next_at) / period)
        if behind > RDS_CATCH_UP:
            self.rds_next_at += (behind - RDS_CATCH_UP) * period
            if self.rds_sync:
                self.rds_overwritten += behind - RDS_CATCH_UP
        while t >= self.rds_next_at:
            at = self.rds_next_at
            self.rds_next_at += period
            self._rds_deliver(at)

    def _rds_deliver(self, at: float = 0.0) -> None:
        rssi, _snr, _st, station = self.world.signal(self.freq_khz())
        if station is None or not station.rds or rssi < self.rds_sync_min:
            self.rds_sync = False
            return
        self.rds_sync = True
        blocks, errors = self.world.next_group(station, rssi)
        if not self.accept_group(errors):
            return
        if self.rds_unread:
            self.rds_overwritten += 1
        self.rds_unread = True
        self.rds_ready = True
        self.rds_at = at
        self.rds_blocks = blocks
        self.rds_errors = errors
        self.rds_groups += 1
        for i in range(4):
            self.regs[0x0C + i] = blocks[i]

    # -- helpers for subclasses ---------------------------------------------------
    def signal_now(self) -> tuple[int, float, bool, bool]:
        """(RSSI register value, snr, stereo pilot, station passes threshold) at the channel."""
        if not self.powered:
            return 0, 0.0, False, False
        rssi, snr, stereo, station = self.world.signal(self.freq_khz())
        present = station is not None and self.op is None and self.passes(rssi, snr)
        r = int(rssi + 0.5)
        return max(0, min(self.RSSI_MAX, r)), snr, stereo and self.op is None, present

    # -- chip-specific hooks ---------------------------------------------------------
    def _on_write(self, reg: int, old: int, new: int, t: float) -> None:
        raise NotImplementedError

    def _compose_status(self) -> None:
        raise NotImplementedError

    def _op_done(self) -> None:
        """Chip-side bookkeeping when a tune or seek completes (RDA clears TUNE/SEEK)."""

    def band_limits(self) -> tuple[int, int]:
        raise NotImplementedError

    def spacing_khz(self) -> int:
        raise NotImplementedError

    def passes(self, rssi: float, snr: float) -> bool:
        raise NotImplementedError

    def audible(self) -> bool:
        raise NotImplementedError

    def rds_enabled(self) -> bool:
        raise NotImplementedError

    def accept_group(self, errors: tuple[int, int, int, int]) -> bool:
        return True
