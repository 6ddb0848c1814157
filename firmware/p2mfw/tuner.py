"""FM tuner drivers: the interface both chips share, and chip detection.

Theory of operation
-------------------
`Tuner` holds everything the RDA5807M and Si4703 drivers have in common; the chip
modules (`p2mfw.rda5807m`, `p2mfw.si4703`) fill in the register layout through a
few hooks (`_apply_config`, `_set_tune`, `_set_seek`, `_write`, `_parse_status`,
`_parse_rds`, the power sequences); band arithmetic on their `BANDS` / `SPACINGS`
tables is `p2mfw.tuner_band`. The public interface, identical on both:

    power_up() -> status            power_down()
    set_band(band_code, spacing_code) -> status|None   (each chip's OWN codes: BANDS, SPACINGS)
    tune(khz) -> status             tune_channel(ch) -> status
    seek(up, wrap) -> status        (blocking)
    seek_start(up, wrap); seek_poll() -> None|status; seek_cancel() -> status; seeking()
    status() -> dict                set_volume(0..15), set_mute(bool), set_softmute(bool),
    set_mono(bool), set_deemphasis(50|75), set_seek_threshold(dBµV), set_rds(bool)
    read_rds() -> (a, b, c, d, (ea, eb, ec, ed)) | None   (None error = not reported;
                                                           each group once, see below)

A status dict: khz, channel, rssi (dBµV), snr (None: neither chip reports one),
stereo, station (RDA: FM_TRUE; Si4703: RSSI ≥ seek threshold), rds_sync, volume,
mute (the user's setting), powered, band, spacing, busy (None, "tune", "seek").

Rules the drivers keep (from the datasheets and users' complaints):

* **Quiet bus during tune and seek.** A tune sleeps the nominal 60 ms before its
  first STC read, then polls every `poll_ms` (20 ms) up to `tune_timeout_ms`. A seek
  reads status first after `seek_step_ms` (60 ms: the next channel may be a
  station), then every `seek_poll_ms` (200 ms) — the Si4703 errata figure, used on
  both chips. While an operation runs nothing else touches the bus: setting
  changes (volume, mute, mono, …) go to the shadow registers and are written in
  the transaction that ends the operation; `status()` answers from memory; RDS
  reads pause.
* **Shadow registers in sync.** TUNE and SEEK are cleared in the shadow as soon as
  the operation ends (the RDA5807M clears them itself in the chip), so no later
  write — a volume change, say — can restart a seek.
* **No pops.** Audio is hard-muted in the same transaction that starts a tune or
  seek (`mute_during_ops`), and the user's mute state — including one changed
  during the operation — is restored in the transaction that ends it.
* **Registers as documented**: status and RDS are one read of 0x0A-0x0F at 0x10;
  the whole file is chip-specific (`_read_all`). **Each RDS group once**: a group
  counts on a new RDSR edge or when its blocks differ from the last one reported
  (the Si4703 holds RDSR >= 40 ms). **Si4703 bus mode**: `tuner_bus.bus_mode_reset`.
  All three: docs/tuner-firmware.md.
* Errors are `TunerError(code, message)` with the daemon's codes: POWERED_OFF,
  BUSY, OUT_OF_BAND, MISALIGNED, UNSUPPORTED, RANGE, TIMEOUT, NO_DEVICE, BAD_ARG.
  Validation happens before any register changes.

`p2mfw.tuners.attach(server, i2c, chip="auto", pins=None)` runs the bus-mode reset
when the board gave pins, detects the chip (RDA5807M: chip id 0x5804 at register 0x00, read
through its random-access address 0x11; Si4702/03: DEVICEID 0x1242 at register
0x00 in a 32-byte sequential read at 0x10, which wraps on that chip) and registers
the link methods, events and the RDS/seek task (see docs/tuner-firmware.md).
The clock is injectable: any object with ticks_ms, ticks_diff and sleep_ms.
"""

from p2mfw import compat, tuner_band
from p2mfw.tuner_bus import (  # noqa: F401  (re-exported: the drivers' and tests' names)
    ADDR,
    RDA_CHIP_ID,
    RDA_RANDOM_ADDR,
    SI470X_DEVICE_ID,
    TunerError,
    bus_mode_reset,
    detect,
)

RDS_POLL_MS = 20
USES_PINS = True  # main.attach_drivers passes the board's pins to attach()


class Tuner:
    """Common driver logic; subclasses supply the register layout (see module docstring)."""

    CHIP = "?"
    CHIP_ID = 0
    BANDS = {}
    SPACINGS = {}
    DEFAULT_BAND = 0
    DEFAULT_SPACING = 0
    SOFTMUTE_REG = 0x02
    THRESHOLD_REG = 0x05
    RDS_REG = 0x04

    def __init__(self, i2c, clock=None):
        self.i2c = i2c
        self.clock = clock if clock is not None else compat
        self.regs = [0] * 16
        self.chip_id = 0
        self.powered = False
        self.band = self.DEFAULT_BAND
        self.spacing = self.DEFAULT_SPACING
        self.volume = 8
        self.muted = False
        self.softmute = True
        self.mono = False
        self.deemph = 50
        self.rds = True
        self.seek_threshold = 25
        self.khz = None
        self.mute_during_ops = True
        self.tune_wait_ms = 60
        self.poll_ms = 20
        self.tune_timeout_ms = 500
        self.seek_step_ms = 60
        self.seek_poll_ms = 200
        self._op = None
        self._seek = None
        self._dirty = 0
        self._last = None
        self._rds_armed = True
        self._rds_last = None

    # -- time ------------------------------------------------------------------------
    def _now(self):
        return self.clock.ticks_ms()

    def _since(self, t0):
        return self.clock.ticks_diff(self.clock.ticks_ms(), t0)

    def _sleep(self, ms):
        if ms > 0:
            self.clock.sleep_ms(int(ms))

    # -- registers -------------------------------------------------------------------
    def _read_words(self, n):
        """n (at most 6) registers from 0x0A on, one sequential read; refreshes the shadow."""
        data = self.i2c.readfrom(ADDR, 2 * n)
        words = []
        for i in range(n):
            w = (data[2 * i] << 8) | data[2 * i + 1]
            words.append(w)
            self.regs[0x0A + i] = w
        return words

    def _read_all(self):
        """All sixteen registers into the shadow (chip-specific: see the module docstring)."""
        raise NotImplementedError

    def _read_status(self):
        w = self._read_words(2)
        return self._parse_status(w[0], w[1])

    def _bits(self, reg, mask, on):
        if on:
            self.regs[reg] |= mask
        else:
            self.regs[reg] &= ~mask & 0xFFFF

    def _chip_muted(self):
        return self.muted or (self._op is not None and self.mute_during_ops)

    def _commit(self, reg):
        """Write a changed setting now, or after the running tune/seek ends."""
        self._apply_config()
        if not self.powered:
            return
        if self._op is not None:
            if reg > self._dirty:
                self._dirty = reg
            return
        self._write(reg, reg)

    # -- band arithmetic --------------------------------------------------------------
    def band_limits(self):
        return self.BANDS[self.band]

    def spacing_khz(self):
        return self.SPACINGS[self.spacing]

    def last_channel(self):
        lo, hi = self.band_limits()
        return (hi - lo) // self.spacing_khz()

    def channel_to_khz(self, ch):
        return self.band_limits()[0] + ch * self.spacing_khz()

    def khz_to_channel(self, khz):
        lo, hi = self.band_limits()
        return tuner_band.khz_to_channel(lo, hi, self.spacing_khz(), khz)

    def _require_ready(self):
        if not self.powered:
            raise TunerError("POWERED_OFF", "the tuner is powered off")
        if self._op is not None:
            raise TunerError("BUSY", f"a {self._op} is in progress")

    # -- power -------------------------------------------------------------------------
    def identify(self):
        """Read the chip id (no power needed); NO_DEVICE if it is not this chip."""
        self._read_all()
        self.chip_id = self.regs[0x00]
        if self.chip_id != self.CHIP_ID:
            raise TunerError("NO_DEVICE", f"register 0x00 reads 0x{self.chip_id:04X}, not the {self.CHIP} id 0x{self.CHIP_ID:04X}")
        return self.chip_id

    def power_up(self):
        """Datasheet power-up sequence, settings applied, then tune the last (or lowest) frequency."""
        if self.powered:
            return self.status()
        self._power_up_sequence()
        self.powered = True
        lo, hi = self.band_limits()
        return self.tune(tuner_band.landing_khz(self.khz, lo, hi, self.spacing_khz()))

    def power_down(self):
        if not self.powered:
            return
        if self._seek is not None:
            self.seek_cancel()
        self._power_down_sequence()
        self.powered = False
        self._op = None

    # -- settings ---------------------------------------------------------------------
    def set_band(self, band, spacing):
        """Band and spacing in this chip's own codes; retunes (same kHz if still valid)."""
        tuner_band.check_codes(self.CHIP, self.BANDS, self.SPACINGS, band, spacing)
        if self._op is not None:
            raise TunerError("BUSY", f"a {self._op} is in progress")
        tuner_band.check_fits(self.BANDS, self.SPACINGS, band, spacing)
        self.band = band
        self.spacing = spacing
        self._apply_config()
        if not self.powered:
            return None
        self._write_band()
        lo, hi = self.BANDS[band]
        return self.tune(tuner_band.landing_khz(self.khz, lo, hi, self.SPACINGS[spacing]))

    def set_volume(self, volume):
        if not isinstance(volume, int) or volume < 0 or volume > 15:
            raise TunerError("RANGE", f"volume must be 0-15, not {volume!r}")
        self.volume = volume
        self._commit(0x05)

    def set_mute(self, muted):
        self.muted = bool(muted)
        self._commit(0x02)

    def set_softmute(self, on):
        self.softmute = bool(on)
        self._commit(self.SOFTMUTE_REG)

    def set_mono(self, on):
        self.mono = bool(on)
        self._commit(0x02)

    def set_deemphasis(self, us):
        if us not in (50, 75):
            raise TunerError("RANGE", f"de-emphasis must be 50 or 75 us, not {us!r}")
        self.deemph = us
        self._commit(0x04)

    def set_seek_threshold(self, dbuv):
        if not isinstance(dbuv, int) or dbuv < 0 or dbuv > 127:
            raise TunerError("RANGE", f"seek threshold must be 0-127 dBuV, not {dbuv!r}")
        self.seek_threshold = dbuv
        self._commit(self.THRESHOLD_REG)

    def set_rds(self, on):
        self.rds = bool(on)
        self._commit(self.RDS_REG)

    def config(self):
        lo, hi = self.band_limits()
        return {"band": self.band, "spacing": self.spacing, "band_khz": [lo, hi],
                "spacing_khz": self.spacing_khz(), "deemph": self.deemph, "mono": self.mono,
                "softmute": self.softmute, "rds": self.rds, "seek_threshold": self.seek_threshold,
                "volume": self.volume, "mute": self.muted}

    # -- tune --------------------------------------------------------------------------
    def tune(self, khz):
        """Tune to khz (validated against the band and raster first); returns the status."""
        if not isinstance(khz, int):
            raise TunerError("BAD_ARG", f"khz must be an integer, not {khz!r}")
        ch = self.khz_to_channel(khz)
        return self.tune_channel(ch)

    def tune_channel(self, ch):
        self._require_ready()
        if ch < 0 or ch > self.last_channel():
            raise TunerError("RANGE", f"channel {ch} is outside 0-{self.last_channel()}")
        self._op = "tune"
        self._apply_config()
        self._set_tune(ch, True)
        ok = False
        try:
            self._write_start_tune()
            st = self._wait_stc(self.tune_wait_ms, self.poll_ms, self.tune_timeout_ms)
            ok = True
        finally:
            self._set_tune(ch, False)
            self._end_op(ok)
        self.khz = self.channel_to_khz(st["channel"])
        return self._status_from(st)

    def _wait_stc(self, first_ms, every_ms, timeout_ms):
        t0 = self._now()
        self._sleep(first_ms)
        while True:
            st = self._read_status()
            if st["stc"]:
                return st
            if self._since(t0) >= timeout_ms:
                raise TunerError("TIMEOUT", f"no STC from the {self.CHIP} after {timeout_ms} ms")
            self._sleep(every_ms)

    def _end_op(self, ok):
        """Operation over: shadow clean, user's mute back, deferred settings written."""
        self._op = None
        self._rds_forget()
        self._apply_config()
        dirty = self._dirty
        self._dirty = 0
        self._write_end_op(dirty)

    # -- seek ------------------------------------------------------------------------------
    def seeking(self):
        return self._seek is not None

    def seek_khz(self):
        """The channel last seen while seeking (progress), or the tuned one."""
        return self._seek["khz"] if self._seek is not None else self.khz

    def seek_start(self, up=True, wrap=True):
        """Start a seek and return at once; drive it with seek_poll()."""
        self._require_ready()
        self._op = "seek"
        self._apply_config()
        self._set_seek(True, bool(up), bool(wrap))
        channels = self.last_channel() + 1
        self._seek = {"t0": self._now(), "next": self.seek_step_ms, "khz": self.khz,
                      "timeout": channels * self.seek_step_ms * 2 + 1000}
        try:
            self._write(0x02, 0x02)
        except OSError:
            self._set_seek(False, True, True)
            self._seek = None
            self._op = None
            raise

    def seek_wait_ms(self):
        """Milliseconds until seek_poll() will next touch the bus."""
        if self._seek is None:
            return 0
        return max(0, self._seek["next"] - self._since(self._seek["t0"]))

    def seek_poll(self):
        """None while the seek runs (reads STC only when a poll is due); the status when done."""
        s = self._seek
        if s is None:
            return None
        elapsed = self._since(s["t0"])
        if elapsed < s["next"]:
            return None
        st = self._read_status()
        s["khz"] = self.channel_to_khz(st["channel"])
        if not st["stc"]:
            if elapsed >= s["timeout"]:
                self.seek_cancel()
                raise TunerError("TIMEOUT", "seek did not complete in {} ms".format(s["timeout"]))
            while s["next"] <= elapsed:
                s["next"] += self.seek_poll_ms
            return None
        return self._seek_end(st, False)

    def seek(self, up=True, wrap=True):
        """Blocking seek: returns the final status (found = a station, else SF/band limit)."""
        self.seek_start(up, wrap)
        while True:
            r = self.seek_poll()
            if r is not None:
                return r
            self._sleep(self.seek_wait_ms())

    def seek_cancel(self):
        """Stop a running seek where it is; returns the status (cancelled True)."""
        if self._seek is None:
            st = self.status()
            st["cancelled"] = False
            return st
        return self._seek_end(None, True)

    def _seek_end(self, st, cancelled):
        self._seek = None
        self._set_seek(False, True, True)
        if st is None:
            self._end_op(False)
            st = self._read_status()
        else:
            self._set_tune(st["channel"], False)
            self._end_op(True)
        self._set_tune(st["channel"], False)
        self.khz = self.channel_to_khz(st["channel"])
        out = self.status()
        out["found"] = (not cancelled) and not st["sf"]
        out["band_limit"] = bool(st["sf"]) and not cancelled
        out["cancelled"] = cancelled
        return out

    # -- status and RDS ---------------------------------------------------------------------
    def _status_from(self, st):
        lo, hi = self.band_limits()
        out = {"powered": self.powered, "khz": self.channel_to_khz(st["channel"]),
               "channel": st["channel"], "rssi": st["rssi"], "snr": None,
               "stereo": st["stereo"], "station": st["station"], "rds_sync": st["rds_sync"],
               "volume": self.volume, "mute": self.muted, "band": self.band,
               "spacing": self.spacing, "band_khz": [lo, hi], "busy": self._op}
        self._last = out
        return out

    def status(self):
        """Fresh status from the chip; while a tune/seek runs, the last known one (no bus traffic)."""
        if not self.powered:
            return {"powered": False, "khz": self.khz, "volume": self.volume, "mute": self.muted,
                    "band": self.band, "spacing": self.spacing, "busy": None}
        if self._op is not None:
            out = dict(self._last or {"powered": True})
            out["busy"] = self._op
            out["khz"] = self.seek_khz()
            out["volume"] = self.volume
            out["mute"] = self.muted
            return out
        return self._status_from(self._read_status())

    def read_rds(self):
        """(a, b, c, d, (ea, eb, ec, ed)) when a new group is ready, else None.

        Error levels: 0 none, 1 = 1-2 bits corrected, 2 = 3-5 corrected, 3 = uncorrectable,
        None = the chip does not report that block's errors. One 12-byte read; nothing while
        powered off, RDS off or a tune/seek runs.
        """
        if not self.powered or not self.rds or self._op is not None:
            return None
        w = self._read_words(6)
        if not w[0] & 0x8000:  # RDSR low: the next RDSR is a new group
            self._rds_armed = True
            return None
        blocks = (w[2], w[3], w[4], w[5])
        if not self._rds_armed and blocks == self._rds_last:
            return None  # RDSR still up for the group already reported
        self._rds_armed = False
        self._rds_last = blocks
        return self._parse_rds(w)

    def _rds_forget(self):
        self._rds_armed = True
        self._rds_last = None

    # -- hooks (chip modules) ---------------------------------------------------------------
    def _power_up_sequence(self):
        raise NotImplementedError

    def _power_down_sequence(self):
        raise NotImplementedError

    def _apply_config(self):
        raise NotImplementedError

    def _set_tune(self, ch, on):
        raise NotImplementedError

    # POWERCFG (0x02) seek bits; both chips put SEEK and SEEKUP at b8/b9, SKMODE differs.
    SEEK_BIT = 0x0100
    SEEKUP_BIT = 0x0200
    SKMODE_BIT = 0  # set by each chip

    def _set_seek(self, on, up, wrap):
        """Set or clear SEEK in the 0x02 shadow (SKMODE set = stop at the band edge)."""
        r2 = self.regs[0x02] & ~(self.SEEK_BIT | self.SEEKUP_BIT | self.SKMODE_BIT) & 0xFFFF
        if on:
            r2 |= self.SEEK_BIT
            if up:
                r2 |= self.SEEKUP_BIT
            if not wrap:
                r2 |= self.SKMODE_BIT
        self.regs[0x02] = r2

    def _write(self, first, last):
        raise NotImplementedError

    def _write_band(self):
        raise NotImplementedError

    def _write_start_tune(self):
        raise NotImplementedError

    def _write_end_op(self, dirty):
        raise NotImplementedError

    def _parse_status(self, r0a, r0b):
        raise NotImplementedError

    def _parse_rds(self, words):
        raise NotImplementedError
