"""The tuner's link methods: what the Pi can ask the firmware, and the 40 ms RDS/seek task.

Split from `p2mfw.tuner` (the drivers' shared interface and chip detection): this
module turns link requests into `Tuner` calls, validates their arguments, and
emits `tuner.seek_progress`, `tuner.seek_done` and `rds` events. See
docs/tuner-firmware.md for the method table.
"""

from p2mfw import tuner_band
from p2mfw.tuner import RDS_POLL_MS, TunerError


def _bool(args, key, default=None):
    v = args.get(key, default)
    if v is None or isinstance(v, bool):
        return v
    raise TunerError("BAD_ARG", f"{key} must be true or false")


def _int(args, key):
    v = args.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int):
        raise TunerError("BAD_ARG", f"{key} must be an integer")
    return v


BRIEF_KEYS = ("powered", "khz", "rssi", "stereo", "station", "rds_sync", "busy")


def _brief(st, args):
    """With args `brief`: only the reception fields (a 135-byte status takes 12 ms at 115200 baud)."""
    if not _bool(args, "brief", False):
        return st
    out = {}
    for k in BRIEF_KEYS:
        if k in st:
            out[k] = st[k]
    return out


class TunerService:
    """The tuner's link methods and its periodic RDS/seek task (see docs/tuner-firmware.md)."""

    def __init__(self, server, tuner):
        self.server = server
        self.tuner = tuner
        self.io_errors = 0
        self.rds_groups = 0
        self._failing = False
        self._progress = None
        for name, fn in (("tuner.info", self.info), ("tuner.power", self.power),
                         ("tuner.config", self.config), ("tuner.tune", self.tune),
                         ("tuner.seek", self.seek), ("tuner.cancel", self.cancel),
                         ("tuner.status", self.status), ("tuner.volume", self.volume)):
            server.register(name, self._guard(fn))
        server.every(RDS_POLL_MS, self.tick)
        server.add_capability("tuner")
        server.add_capability("tuner." + tuner.CHIP)

    def _guard(self, fn):
        server = self.server

        def handler(args):
            try:
                return fn(args or {})
            except TunerError as e:
                raise server.FwError(e.code, e.message) from None
            except OSError:
                self.io_errors += 1
                raise  # the server answers io_error

        return handler

    def info(self, args):
        t = self.tuner
        bands = {}
        for code in t.BANDS:
            bands[str(code)] = list(t.BANDS[code])
        spacings = {}
        for code in t.SPACINGS:
            spacings[str(code)] = t.SPACINGS[code]
        return {"chip": t.CHIP, "id": t.chip_id, "bands": bands, "spacings": spacings,
                "powered": t.powered, "rds": True, "snr": False,
                "seek_poll_ms": t.seek_poll_ms, "rds_poll_ms": RDS_POLL_MS}

    def power(self, args):
        on = _bool(args, "on", True)
        if on:
            return self.tuner.power_up()
        if self.tuner.seeking():
            self.server.emit("tuner.seek_done", self.tuner.seek_cancel())
        self.tuner.power_down()
        return self.tuner.status()

    def config(self, args):
        t = self.tuner
        band = _int(args, "band")
        spacing = _int(args, "spacing")
        if args.get("band_khz") is not None:
            band = tuner_band.band_code(t.CHIP, t.BANDS, args["band_khz"])
        if args.get("spacing_khz") is not None:
            spacing = tuner_band.spacing_code(t.CHIP, t.SPACINGS, args["spacing_khz"])
        deemph = _int(args, "deemph")
        threshold = _int(args, "seek_threshold")
        mono = _bool(args, "mono")
        softmute = _bool(args, "softmute")
        rds = _bool(args, "rds")
        # validate everything before touching a register
        tuner_band.check_codes(t.CHIP, t.BANDS, t.SPACINGS, band, spacing)
        if deemph is not None and deemph not in (50, 75):
            raise TunerError("RANGE", "de-emphasis must be 50 or 75 us")
        if threshold is not None and (threshold < 0 or threshold > 127):
            raise TunerError("RANGE", "seek threshold must be 0-127 dBuV")
        if (band is not None or spacing is not None) and t.seeking():
            raise TunerError("BUSY", "a seek is in progress")
        if deemph is not None:
            t.set_deemphasis(deemph)
        if threshold is not None:
            t.set_seek_threshold(threshold)
        if mono is not None:
            t.set_mono(mono)
        if softmute is not None:
            t.set_softmute(softmute)
        if rds is not None:
            t.set_rds(rds)
        out = t.config()
        if band is not None or spacing is not None:
            st = t.set_band(t.band if band is None else band, t.spacing if spacing is None else spacing)
            out = t.config()
            if st is not None:
                # Without what the config already says: the whole status next to the
                # config is 247 bytes, one more than a link frame holds.
                short = {}
                for k in st:
                    if k not in ("volume", "mute", "band", "spacing"):
                        short[k] = st[k]
                out["status"] = short
        return out

    def tune(self, args):
        khz = _int(args, "khz")
        if khz is None:
            raise TunerError("BAD_ARG", "tuner.tune needs khz")
        return _brief(self.tuner.tune(khz), args)

    def seek(self, args):
        up = _bool(args, "up", True)
        wrap = _bool(args, "wrap", True)
        self.tuner.seek_start(up, wrap)
        self._progress = self.tuner.seek_khz()
        return {"started": True, "khz": self._progress, "up": up, "wrap": wrap}

    def cancel(self, args):
        if not self.tuner.seeking():
            return self.tuner.seek_cancel()
        out = self.tuner.seek_cancel()
        self.server.emit("tuner.seek_done", out)
        return out

    def status(self, args):
        return _brief(self.tuner.status(), args)

    def volume(self, args):
        vol = _int(args, "volume")
        mute = _bool(args, "mute")
        if vol is not None and (vol < 0 or vol > 15):
            raise TunerError("RANGE", "volume must be 0-15")
        if vol is not None:
            self.tuner.set_volume(vol)
        if mute is not None:
            self.tuner.set_mute(mute)
        return {"volume": self.tuner.volume, "mute": self.tuner.muted}

    def tick(self):
        """Every RDS_POLL_MS: drive a running seek (events), else read one RDS group if ready."""
        t = self.tuner
        try:
            if t.seeking():
                r = t.seek_poll()
                if r is not None:
                    self.server.emit("tuner.seek_done", r)
                elif t.seek_khz() != self._progress:
                    self._progress = t.seek_khz()
                    self.server.emit("tuner.seek_progress", {"khz": self._progress})
            elif t.powered and t.rds:
                g = t.read_rds()
                if g is not None:
                    self.rds_groups += 1
                    self.server.emit("rds", {"a": g[0], "b": g[1], "c": g[2], "d": g[3],
                                             "e": list(g[4])})
            self._failing = False
        except TunerError as e:
            self.server.emit("tuner.error", {"code": e.code, "message": e.message})
            if e.code == "TIMEOUT":
                self.server.emit("tuner.seek_done", {"found": False, "cancelled": True,
                                                     "error": e.code, "khz": t.khz})
        except OSError as e:
            self.io_errors += 1
            if not self._failing:
                self._failing = True
                self.server.emit("tuner.error", {"code": "io_error", "message": repr(e)})
