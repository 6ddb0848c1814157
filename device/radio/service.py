"""The daemon's radio service: MQTT commands in, the tuner driven over the link, state out.

Theory of operation
-------------------
Threads and locks.  Commands arrive on the daemon's command thread
(`command()`); link events (`rds`, `tuner.seek_progress`, `tuner.seek_done`)
and link state changes arrive on the link's reader thread; one worker thread
("radio") brings the tuner up, polls its status every `status_interval`
while idle and runs the long procedures (scan, the search for a preset's PI,
finishing a seek that stopped off the raster: `device.radio.sweep`);
physical controls post commands to their own thread (`device.radio.controls`).

* `_lock` (with the condition `_cond`) guards every field of the radio's
  state and is held while a state document is built and queued, so states are
  published in order.  It is never held across a link call, and the event path
  takes only this lock, so the reader thread can never wait on a link call.
* `_io` serialises the operations that change the tuner (tune, seek start,
  config, bring-up): held across link calls, never taken by the event path.
  The status poll only tries it (never waits), so it cannot delay a command.

Link calls are never made on the reader thread (its callbacks would wait for
replies that only the reader thread can deliver): a link coming up queues a
bring-up for the worker.

Commands: parse (`device.radio.commands`), validate every argument against the
band plan (`device.radio.validate`, `device.radio.band`), then check that the
tuner can take it (UNAVAILABLE, POWERED_OFF, BUSY) — all before any hardware
call, so a refused command changes nothing.  The reply carries the state after
the command.  Seek and scan answer at once (`busy` = "seek" / "scan"); their
results come as events.  While one runs only cancel, volume, mute,
preset_delete and status are taken; the rest get BUSY.

RDS: every `rds` event is fed to `RdsDecoder` (reset on every retune; groups
arriving while a tune is in flight are dropped); what changed is published on
`<name>_rds` and as `rds` events (not during a scan, which only collects).

Persistence: settings and presets (`device.radio.state`) are saved on every
change; settings are restored at boot and whenever the co-processor comes back.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from device.components.base import EntityInfo
from device.errors import CommandError
from device.mqtt.payloads import dumps
from device.radio import commands, validate
from device.radio.band import BandPlan, band_plan, khz_to_mhz, regions_for
from device.radio.commands import Request
from device.radio.config import RadioConfig
from device.radio.link import TunerLink
from device.radio.presets import Preset, PresetBook, clean_name
from device.radio.rds import (
    AfListChanged,
    ClockTimeReceived,
    PiChanged,
    PsChanged,
    PtyChanged,
    RadioTextChanged,
    RdsChange,
    RdsCleared,
    TrafficChanged,
)
from device.radio.rds_fast import StationRds
from device.radio.state import RadioStore, Settings, Signal
from device.service import Service, ServiceContext
from device.timefmt import iso_ms

log = logging.getLogger("pi2mqtt.radio")

IO_WAIT = 3.0
BRINGUP_RETRY = 5.0
RSSI_PUBLISH_DB = 3
LOST_HYSTERESIS_DB = 3


class RadioService(Service):
    """The FM radio behind the co-processor; see the module docstring and docs/radio.md."""

    def __init__(self, cfg: RadioConfig) -> None:
        self.cfg = cfg
        self.name = cfg.name
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._io = threading.Lock()
        self._jobs: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._stop = threading.Event()
        self._cancel = threading.Event()
        self._ctx: ServiceContext | None = None
        self._tuner = TunerLink(None)
        self._store = RadioStore(None, cfg.name)
        self._config_key: dict[str, Any] = {"region": cfg.region, "spacing_khz": cfg.spacing_khz}
        self._settings = Settings(volume=cfg.volume, softmute=cfg.softmute, region=cfg.region,
                                  spacing_khz=cfg.spacing_khz)
        self._chip: str | None = None if cfg.chip == "auto" else cfg.chip
        self._plan = self._plan_or_default(self._chip or "rda5807m", self._settings)
        self._signal = Signal()
        self._link_state = "down"
        self._ready = False
        self._error: str | None = None
        self._busy: str | None = None
        self._retuning = False
        self._lost = False
        self._published_signal = Signal()
        self._rds = StationRds(rbds=cfg.region == "us")
        self._rds_doc: dict[str, Any] | None = None
        self._presets = PresetBook(max_slots=cfg.max_presets)
        self._last_preset: int | None = None
        self._preset_listeners: list[Callable[[], None]] = []
        self._known: dict[int, set[int]] = {}
        self._scan_results: list[dict[str, Any]] = []
        self._seek_result: dict[str, Any] | None = None
        self._user_seek: tuple[bool, bool] | None = None
        self._last_bringup = 0.0
        self._generation = 0  # bumped by every operation that moves the tuner
        self._counts = {"commands": 0, "refused": 0, "tunes": 0, "seeks": 0, "scans": 0,
                        "bringups": 0, "rds_groups": 0, "link_errors": 0}
        self._worker = threading.Thread(target=self._work, name=f"{cfg.name}-worker", daemon=True)
        self._controls: Any = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self, ctx: ServiceContext) -> None:
        self._ctx = ctx
        self._tuner = TunerLink(ctx.link)
        self._store = RadioStore(ctx.state_dir, self.name)
        defaults = self._settings
        if self.cfg.frequency is not None:
            try:
                defaults = replace(defaults, khz=validate.parse_mhz(self.cfg.frequency))
            except CommandError as e:
                log.warning("radio: [radio].frequency: %s", e.message)
        with self._lock:
            self._settings = self._store.load_settings(defaults, self._config_key)
            self._plan = self._plan_or_default(self._chip or "rda5807m", self._settings)
            self._presets = PresetBook.of(self._store.load_presets(), self.cfg.max_presets)
            self._link_state = "up" if self._tuner.up else "down"
        ctx.on_link_event(self._on_link_event)
        ctx.on_link_state(self._on_link_state)
        with self._lock:
            self._publish_state()
            self._publish_presets()
        self._worker.start()
        if self._tuner.up:
            self._jobs.put(("bringup", None))
        pins = self.cfg.control_pins()
        if pins:
            try:
                from device.radio.controls import RadioControls

                self._controls = RadioControls(self.cfg, ctx.pin_factory, self.command)
            except Exception as e:
                log.error("radio: physical controls on %s: %s (the radio works without them)", pins, e)

    def close(self) -> None:
        self._stop.set()
        self._cancel.set()
        with self._cond:
            self._cond.notify_all()
        self._jobs.put(("stop", None))
        if self._controls is not None:
            try:
                self._controls.close()
            except Exception:
                log.exception("radio: closing the physical controls")
        if self._worker.is_alive():
            self._worker.join(1.0)
        with self._lock:
            self._save_settings()

    # -- hooks for Home Assistant discovery (RADIO_API.md) ------------------------------------
    def band_limits(self) -> tuple[float, float, float]:
        """(min_mhz, max_mhz, step_mhz) of the current band plan."""
        with self._lock:
            p = self._plan
            return p.first_mhz, p.last_mhz, p.step_khz / 1000

    def presets(self) -> list[dict[str, Any]]:
        """The presets as published on `<name>_presets`."""
        with self._lock:
            return self._presets.as_list()

    def on_presets_changed(self, callback: Callable[[], None]) -> None:
        """Call `callback()` (no lock held) after every change of the presets."""
        self._preset_listeners.append(callback)

    def entities(self) -> list[EntityInfo]:
        return [
            EntityInfo(self.name, "radio", "sensor", "MHz", "frequency", controllable=True),
            EntityInfo(f"{self.name}_rds", "radio", "sensor"),
            EntityInfo(f"{self.name}_presets", "radio", "sensor"),
        ]

    def diagnostics(self) -> dict[str, Any]:
        with self._lock:
            stats = self._rds.stats
            return {**self._counts, "ready": self._ready, "chip": self._chip, "busy": self._busy,
                    "error": self._error, "rds": {"groups": stats.groups, "used": stats.groups_used,
                                                  "bad_b": stats.groups_bad_b}}

    # -- state documents ---------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """The radio state document (as published, without value/ts/seq)."""
        with self._lock:
            return self._state_doc()

    def _state_doc(self) -> dict[str, Any]:
        s, p, sig = self._settings, self._plan, self._signal
        live = self._link_state == "up" and self._ready
        on = live and s.power
        preset = self._presets.at(s.khz, self._rds.state.pi) if on and s.khz is not None else None
        return {
            "value": khz_to_mhz(s.khz) if on and s.khz is not None else None,
            "unit": "MHz", "power": s.power if live else None, "band": p.region,
            "min_mhz": p.first_mhz, "max_mhz": p.last_mhz, "step_khz": p.step_khz,
            "volume": s.volume, "mute": s.mute, "softmute": s.softmute, "mono": s.mono,
            "deemphasis_us": s.deemphasis_us or p.deemphasis_us,
            "stereo": sig.stereo if on else None, "rssi": sig.rssi if on else None,
            "snr": sig.snr if on else None, "station": sig.station if on else None,
            "preset": preset.name if preset else None, "busy": self._busy if on else None,
            "chip": self._chip, "link": "up" if self._link_state == "up" else "down",
            **({"error": self._error} if self._error and not live else {}),
        }

    def _publish_state(self) -> None:
        """Queue the state (call with `_lock` held, so states go out in order)."""
        if self._ctx is None:
            return
        doc = self._state_doc()
        value = doc.pop("value")
        unit = doc.pop("unit")
        self._published_signal = self._signal
        try:
            self._ctx.publish(self.name, value, extra=doc, unit=unit)
        except Exception:
            log.exception("radio: publishing the state failed")

    def _rds_state_doc(self) -> dict[str, Any]:
        st = self._rds.state
        ps = st.ps.strip() if st.ps else None
        return {
            "value": ps or None, "pi": None if st.pi is None else f"{st.pi:04X}", "ps": ps or None,
            "radiotext": st.radiotext, "pty": st.pty, "pty_name": st.pty_name, "tp": st.tp, "ta": st.ta,
            "music": st.music, "af": [khz_to_mhz(k) for k in st.af_khz],
            "clock": None if st.clock is None else st.clock.isoformat(),
        }

    def _publish_rds(self) -> None:
        """Publish `<name>_rds` if it changed (call with `_lock` held)."""
        if self._ctx is None:
            return
        doc = self._rds_state_doc()
        if doc == self._rds_doc:
            return
        self._rds_doc = doc
        value = doc.pop("value")
        try:
            self._ctx.publish(f"{self.name}_rds", value, extra=doc)
        except Exception:
            log.exception("radio: publishing RDS failed")

    def _publish_presets(self) -> None:
        if self._ctx is not None:
            try:
                self._ctx.publish(f"{self.name}_presets", self._presets.as_list())
            except Exception:
                log.exception("radio: publishing the presets failed")

    def _event(self, doc: dict[str, Any]) -> None:
        if self._ctx is None:
            return
        doc.setdefault("ts", iso_ms(time.time()))
        try:
            self._ctx.publish_event(f"{self.name}/event", doc)
        except Exception:
            log.exception("radio: publishing an event failed")

    def _save_settings(self) -> None:
        self._store.save_settings(self._settings, self._config_key)

    def _presets_changed(self, book: PresetBook) -> None:
        with self._lock:
            self._presets = book
            self._store.save_presets(book.to_json())
            self._publish_presets()
            self._publish_state()
        for cb in list(self._preset_listeners):
            try:
                cb()
            except Exception:
                log.exception("radio: a presets listener failed")

    # -- band plans ----------------------------------------------------------------------------
    def _plan_or_default(self, chip: str, s: Settings) -> BandPlan:
        try:
            return band_plan(chip, s.region, s.spacing_khz)
        except CommandError as e:
            log.warning("radio: %s; using %s", e.message, self.cfg.region)
        try:
            return band_plan(chip, self.cfg.region, self.cfg.spacing_khz)
        except CommandError:
            return band_plan(chip, "europe")

    # -- the link ------------------------------------------------------------------------------
    def _on_link_state(self, state: str) -> None:
        with self._lock:
            self._link_state = state
            if state != "up":
                self._ready = False
                self._busy = None
                self._user_seek = None
                self._retuning = False
                self._cancel.set()
                self._cond.notify_all()
            self._publish_state()
        if state == "up":
            self._jobs.put(("bringup", None))

    def _on_link_event(self, name: str, data: Any) -> None:
        if not isinstance(data, dict):
            return
        if name == "rds":
            self._on_rds(data)
        elif name == "tuner.seek_progress":
            khz = data.get("khz")
            if isinstance(khz, int):
                with self._lock:
                    self._settings = replace(self._settings, khz=khz)
                    if self._busy != "scan":
                        self._event({"event": "seek_progress", "mhz": khz_to_mhz(khz), "busy": self._busy})
        elif name == "tuner.seek_done":
            self._on_seek_done(data)
        elif name == "tuner.error":
            log.warning("radio: tuner error %s: %s", data.get("code"), data.get("message"))
            with self._lock:
                self._event({"event": "error", "code": data.get("code"), "message": data.get("message")})

    def _on_rds(self, data: dict[str, Any]) -> None:
        words = [data.get(k) for k in "abcd"]
        if not all(isinstance(w, int) for w in words):
            return
        raw = data.get("e")
        grades = [g if isinstance(g, int) else None for g in raw] if isinstance(raw, list) else None
        a, b, c, d = (int(w) for w in words)  # type: ignore[arg-type]
        with self._lock:
            if self._retuning or not self._ready:
                return
            self._counts["rds_groups"] += 1
            events = self._rds.feed(a, b, c, d, errors=grades, rssi=self._signal.rssi)
            self._cond.notify_all()
            if not events:
                return
            khz = self._settings.khz
            learn: PresetBook | None = None
            for ev in events:
                if isinstance(ev, PiChanged) and khz is not None:
                    self._known.setdefault(ev.pi, set()).add(khz)
                    book = self._presets.learn_pi(khz, ev.pi)
                    if book != self._presets:
                        learn = book
                elif isinstance(ev, AfListChanged) and self._rds.state.pi is not None:
                    self._known.setdefault(self._rds.state.pi, set()).update(ev.frequencies_khz)
            if self._busy == "scan":
                return
            self._publish_rds()
            for ev in events:
                doc = _rds_event(ev)
                if doc is not None:
                    self._event(doc)
            if any(isinstance(ev, PiChanged) for ev in events):
                self._publish_state()  # the preset name may depend on the PI
        if learn is not None:
            self._presets_changed(learn)

    def _on_seek_done(self, data: dict[str, Any]) -> None:
        with self._lock:
            self._seek_result = data
            self._retuning = False
            self._rds.reset()
            self._apply_status(data, quiet=True)
            self._cond.notify_all()
            if self._busy != "seek" or self._user_seek is None:
                return
            khz = data.get("khz")
            if (isinstance(khz, int) and not self._plan.on_raster(khz)
                    and not data.get("cancelled") and not data.get("error")):
                self._jobs.put(("seek_fix", data))  # off the raster (US on the RDA5807M): go on
                return
            self._finish_seek(data)

    def _finish_seek(self, data: dict[str, Any]) -> None:
        """End a user's seek (call with `_lock` held)."""
        self._busy = None
        self._user_seek = None
        khz = self._settings.khz
        found = bool(data.get("found")) and not data.get("cancelled")
        doc: dict[str, Any] = {"event": "seek_done", "mhz": None if khz is None else khz_to_mhz(khz),
                               "found": found}
        if data.get("cancelled"):
            doc["cancelled"] = True
        elif not found:
            doc["code"] = "NO_STATION"
        if data.get("error"):
            doc["code"] = str(data["error"])
        self._event(doc)
        if khz is not None:
            self._event({"event": "tuned", "mhz": khz_to_mhz(khz)})
        self._publish_rds()
        self._publish_state()
        self._save_settings()

    def _apply_status(self, st: dict[str, Any], *, quiet: bool) -> None:
        """Take the tuner's status (call with `_lock` held); signal_lost/regained unless `quiet`."""
        khz = st.get("khz")
        if isinstance(khz, int):
            self._settings = replace(self._settings, khz=khz)
        sig = Signal(
            rssi=st.get("rssi") if isinstance(st.get("rssi"), int) else None,
            snr=st.get("snr") if isinstance(st.get("snr"), int) else None,
            stereo=st.get("stereo") if isinstance(st.get("stereo"), bool) else None,
            station=st.get("station") if isinstance(st.get("station"), bool) else None,
        )
        self._signal = sig
        rssi = sig.rssi if sig.rssi is not None else 0
        weak = not sig.station or rssi < self.cfg.seek_threshold - LOST_HYSTERESIS_DB
        strong = bool(sig.station) and rssi >= self.cfg.seek_threshold
        if quiet:
            self._lost = weak
        elif not self._lost and weak:
            self._lost = True
            self._event({"event": "signal_lost", "rssi": sig.rssi})
        elif self._lost and strong:
            self._lost = False
            self._event({"event": "signal_regained", "rssi": sig.rssi})

    def _signal_moved(self) -> bool:
        a, b = self._signal, self._published_signal
        if (a.stereo, a.station) != (b.stereo, b.station):
            return True
        if (a.rssi is None) != (b.rssi is None):
            return True
        return a.rssi is not None and b.rssi is not None and abs(a.rssi - b.rssi) >= RSSI_PUBLISH_DB

    # -- the worker ----------------------------------------------------------------------------
    def _work(self) -> None:
        from device.radio import sweep

        next_poll = time.monotonic() + self.cfg.status_interval
        while not self._stop.is_set():
            try:
                job, arg = self._jobs.get(timeout=max(0.01, next_poll - time.monotonic()))
            except queue.Empty:
                job, arg = "poll", None
            if self._stop.is_set():
                return
            try:
                if job == "bringup":
                    self._bring_up()
                elif job == "scan":
                    sweep.run_scan(self)
                elif job == "verify_pi":
                    sweep.verify_preset(self, arg)
                elif job == "seek_fix":
                    sweep.fix_seek_stop(self, arg)
                elif job == "poll":
                    self._poll()
            except Exception:
                log.exception("radio: %s failed", job)
            if time.monotonic() >= next_poll:
                next_poll = time.monotonic() + self.cfg.status_interval

    @contextmanager
    def _hardware(self, wait: float = IO_WAIT) -> Iterator[None]:
        if not self._io.acquire(timeout=wait):
            raise CommandError("BUSY", "the tuner is busy with another operation; try again")
        try:
            yield
        finally:
            self._io.release()

    def _poll(self) -> None:
        with self._lock:
            link_up = self._link_state == "up"
            if link_up and not self._ready:
                if time.monotonic() - self._last_bringup >= BRINGUP_RETRY:
                    self._jobs.put(("bringup", None))
                return
            if not link_up or self._busy or not self._settings.power:
                return
            generation = self._generation
        # Not under `_io`: a tune must never wait for a poll. A tune that overtakes the poll
        # bumps the generation, and the (stale) answer is dropped.
        try:
            st = self._tuner.call("tuner.status", {"brief": True})
        except CommandError:
            self._counts["link_errors"] += 1
            return
        with self._lock:
            if self._busy or not self._ready or generation != self._generation or self._io.locked():
                return
            if st.get("powered") is False and self._settings.power:
                log.warning("radio: the tuner is powered off (co-processor restarted?); bringing it up")
                self._ready = False
                self._jobs.put(("bringup", None))
                self._publish_state()
                return
            self._apply_status(st, quiet=False)
            if self._signal_moved():
                self._publish_state()

    def _bring_up(self) -> None:
        """Power up, configure and restore the last state (worker or command thread)."""
        self._last_bringup = time.monotonic()
        self._counts["bringups"] += 1
        try:
            with self._hardware(wait=10.0):
                info = self._tuner.call("tuner.info")
                chip = info.get("chip")
                with self._lock:
                    if chip in ("rda5807m", "si4703"):
                        if self.cfg.chip not in ("auto", chip):
                            log.warning("radio: config says chip %s, the co-processor has a %s",
                                        self.cfg.chip, chip)
                        self._chip = str(chip)
                    self._plan = self._plan_or_default(self._chip or "rda5807m", self._settings)
                    if self._plan.region != self._settings.region:  # not on this chip
                        self._settings = replace(self._settings, region=self._plan.region, spacing_khz=None)
                    s, plan = self._settings, self._plan
                if not s.power:
                    self._tuner.call("tuner.power", {"on": False})
                else:
                    self._configure(plan, s)
                    khz = s.khz if s.khz is not None and plan.on_raster(s.khz) else plan.first_khz
                    st = self._tune_io(khz)
            with self._lock:
                self._ready = True
                self._error = None
                self._busy = None
                if s.power:
                    self._apply_status(st, quiet=True)
                    self._event({"event": "tuned", "mhz": khz_to_mhz(khz)})
                self._publish_rds()
                self._publish_state()
                self._save_settings()
            log.info("radio: %s ready, %s", self._chip, "on" if s.power else "off")
        except CommandError as e:
            with self._lock:
                self._error = e.message
                self._publish_state()
            log.error("radio: cannot bring the tuner up: %s: %s", e.code, e.message)

    def _configure(self, plan: BandPlan, s: Settings) -> None:
        """Power up and program band, spacing, de-emphasis, threshold and audio (hold `_io`)."""
        self._tuner.call("tuner.power", {"on": True})
        self._tuner.call("tuner.config", {
            "band": plan.band_code, "spacing": plan.spacing_code,
            "deemph": s.deemphasis_us or plan.deemphasis_us, "seek_threshold": self.cfg.seek_threshold,
            "mono": s.mono, "softmute": s.softmute, "rds": self.cfg.rds,
        })
        self._tuner.call("tuner.volume", {"volume": s.volume, "mute": s.mute})

    def _tune_io(self, khz: int) -> dict[str, Any]:
        """Tune (hold `_io`); RDS is cleared and groups in flight are dropped."""
        with self._lock:
            self._generation += 1
            self._retuning = True
            self._rds.reset()
            self._publish_rds()
        try:
            st = self._tuner.call("tuner.tune", {"khz": khz, "brief": True})
        finally:
            with self._lock:
                self._retuning = False
                self._rds.reset()
        self._counts["tunes"] += 1
        with self._lock:
            self._settings = replace(self._settings, khz=khz)
            self._apply_status(st, quiet=True)
            self._cond.notify_all()
        return st

    # -- commands ------------------------------------------------------------------------------
    def command(self, payload: bytes) -> bytes:
        """Handle one command; returns the JSON reply. Never raises."""
        rid, cmd = commands.request_id(payload)
        try:
            req = commands.parse(payload)
            rid, cmd = req.id, req.cmd
            self._counts["commands"] += 1
            handler = getattr(self, f"_cmd_{req.cmd}")
            extra = handler(req)
            doc: dict[str, Any] = {"ok": True}
            if rid is not None:
                doc["id"] = rid
            doc["cmd"] = cmd
            if isinstance(extra, dict):
                doc.update(extra)
            doc["state"] = self.state()
            return dumps(doc)
        except CommandError as e:
            self._counts["refused"] += 1
            log.info("radio: %s refused: %s: %s", cmd, e.code, e.message)
            return _error_reply(rid, cmd, e)
        except Exception as e:
            log.exception("radio: command %s failed", cmd)
            return _error_reply(rid, cmd, CommandError("INTERNAL", f"{type(e).__name__}: {e}"))

    def _gate(self, req: Request) -> None:
        """UNAVAILABLE / POWERED_OFF / BUSY checks (after argument validation)."""
        with self._lock:
            self._gate_locked(req)

    def _gate_locked(self, req: Request) -> None:
        if self._link_state != "up":
            raise CommandError("UNAVAILABLE", "the co-processor link is down; the radio cannot be reached")
        if not self._ready:
            why = f": {self._error}" if self._error else "; try again in a moment"
            raise CommandError("UNAVAILABLE", f"the tuner is not ready{why}")
        if req.spec.needs_power and not self._settings.power:
            raise CommandError("POWERED_OFF", f"the radio is off; send {{\"cmd\": \"power\", \"on\": true}} "
                               f"before {req.cmd}")
        if self._busy and not req.spec.while_busy:
            raise CommandError("BUSY", f"a {self._busy} is running; wait for it or send "
                               "{\"cmd\": \"cancel\"}", busy=self._busy)

    def _plan_now(self) -> BandPlan:
        with self._lock:
            if self._link_state != "up" or not self._ready:
                self._gate_locked(commands.Request("status", None, {}))
            return self._plan

    def _cmd_status(self, req: Request) -> None:
        return None

    def _cmd_power(self, req: Request) -> None:
        on = validate.boolean(req.args.get("on", True), "on")
        self._gate(req)
        with self._lock:
            if on == self._settings.power:
                return
            self._settings = replace(self._settings, power=on)
        if on:
            with self._lock:
                self._ready = False
            self._bring_up()
            with self._lock:
                if not self._ready:
                    raise CommandError("UNAVAILABLE", f"the tuner did not power up: {self._error}")
            return
        with self._hardware():
            try:
                self._tuner.call("tuner.power", {"on": False})
            except CommandError:
                with self._lock:
                    self._settings = replace(self._settings, power=True)
                raise
        with self._lock:
            self._rds.reset()
            self._publish_rds()
            self._publish_state()
            self._save_settings()

    def _tune_and_publish(self, khz: int) -> None:
        with self._hardware():
            self._tune_io(khz)
        with self._lock:
            self._event({"event": "tuned", "mhz": khz_to_mhz(khz)})
            self._publish_state()
            self._save_settings()

    def _cmd_tune(self, req: Request) -> None:
        plan = self._plan_now()
        khz = validate.frequency_khz(plan, mhz=req.args.get("mhz"), khz=req.args.get("khz"))
        self._gate(req)
        self._tune_and_publish(khz)

    def _cmd_step(self, req: Request) -> None:
        plan = self._plan_now()
        d = commands.direction(req.args.get("dir", "up"))
        self._gate(req)
        with self._lock:
            current = self._settings.khz if self._settings.khz is not None else plan.first_khz
        self._tune_and_publish(plan.step(current, d, wrap=True))

    def _cmd_seek(self, req: Request) -> None:
        self._plan_now()
        up = commands.direction(req.args.get("dir", "up")) > 0
        wrap = validate.boolean(req.args.get("wrap", True), "wrap")
        self._start_seek(req, up, wrap)
        return None

    def _start_seek(self, req: Request, up: bool, wrap: bool) -> None:
        with self._lock:
            self._gate_locked(req)
            self._busy = "seek"
            self._user_seek = (up, wrap)
            self._cancel.clear()
        try:
            with self._hardware():
                with self._lock:
                    self._generation += 1
                    self._retuning = True
                    self._rds.reset()
                    self._publish_rds()
                    self._seek_result = None
                self._tuner.call("tuner.seek", {"up": up, "wrap": wrap})
        except CommandError:
            with self._lock:
                self._busy = None
                self._user_seek = None
                self._retuning = False
                self._publish_state()
            raise
        self._counts["seeks"] += 1
        with self._lock:
            self._publish_state()

    def _cmd_cancel(self, req: Request) -> dict[str, Any]:
        self._gate(req)
        with self._lock:
            busy = self._busy
            self._cancel.set()
            self._cond.notify_all()
        if busy is not None:
            try:
                self._tuner.call("tuner.cancel")
            except CommandError as e:
                log.warning("radio: cancel: %s", e.message)
        return {"cancelled": busy}

    def _cmd_scan(self, req: Request) -> None:
        self._plan_now()
        with self._lock:
            self._gate_locked(req)
            self._busy = "scan"
            self._cancel.clear()
            self._counts["scans"] += 1
            self._publish_state()
        self._jobs.put(("scan", None))

    def _cmd_volume(self, req: Request) -> None:
        has_v, has_d = req.args.get("value") is not None, req.args.get("delta") is not None
        if has_v == has_d:
            raise CommandError("BAD_VALUE", "give exactly one of value (0..15) or delta (-15..15)",
                               field="value")
        with self._lock:
            current = self._settings.volume
        vol = validate.volume(req.args["value"]) if has_v else validate.volume_change(current, req.args["delta"])
        self._gate(req)
        self._audio(volume=vol)

    def _cmd_mute(self, req: Request) -> None:
        raw = req.args.get("on", True)
        with self._lock:
            on = (not self._settings.mute) if raw == "toggle" else validate.boolean(raw, "on")
        self._gate(req)
        self._audio(mute=on)

    def _audio(self, volume: int | None = None, mute: bool | None = None) -> None:
        args: dict[str, Any] = {}
        if volume is not None:
            args["volume"] = volume
        if mute is not None:
            args["mute"] = mute
        with self._hardware():
            self._tuner.call("tuner.volume", args)
        with self._lock:
            self._settings = replace(self._settings, volume=self._settings.volume if volume is None else volume,
                                     mute=self._settings.mute if mute is None else mute)
            self._publish_state()
            self._save_settings()

    def _cmd_softmute(self, req: Request) -> None:
        on = validate.boolean(req.args.get("on", True), "on")
        self._gate(req)
        self._config({"softmute": on}, softmute=on)

    def _cmd_mono(self, req: Request) -> None:
        on = validate.boolean(req.args.get("on", True), "on")
        self._gate(req)
        self._config({"mono": on}, mono=on)

    def _cmd_deemphasis(self, req: Request) -> None:
        us = validate.deemphasis_us(req.args.get("us"))
        self._gate(req)
        self._config({"deemph": us}, deemphasis_us=us)

    def _config(self, args: dict[str, Any], **settings: Any) -> None:
        with self._hardware():
            self._tuner.call("tuner.config", args)
        with self._lock:
            self._settings = replace(self._settings, **settings)
            self._publish_state()
            self._save_settings()

    def _cmd_band(self, req: Request) -> None:
        self._plan_now()
        region = req.args.get("region")
        with self._lock:
            chip = self._chip or "rda5807m"
        if not isinstance(region, str):
            raise CommandError("BAD_VALUE", f"region must be one of: {', '.join(regions_for(chip))}",
                               field="region", supported=list(regions_for(chip)))
        plan = band_plan(chip, region.strip().lower())
        self._gate(req)
        self._replan(plan, region=plan.region, spacing_khz=None, deemphasis_us=None)

    def _cmd_spacing(self, req: Request) -> None:
        current = self._plan_now()
        with self._lock:
            chip = self._chip or "rda5807m"
        khz = validate.spacing_khz(chip, req.args.get("khz"))
        plan = band_plan(chip, current.region, khz)
        self._gate(req)
        self._replan(plan, spacing_khz=khz)

    def _replan(self, plan: BandPlan, **settings: Any) -> None:
        """Program a new band plan and retune onto it (the nearest valid frequency)."""
        with self._lock:
            old = self._settings
            new = replace(old, **settings)
            khz = old.khz if old.khz is not None else plan.first_khz
            below, above = plan.nearest(khz)
            target = below if below is not None else above
            assert target is not None
        with self._hardware():
            self._tuner.call("tuner.config", {
                "band": plan.band_code, "spacing": plan.spacing_code,
                "deemph": new.deemphasis_us or plan.deemphasis_us,
            })
            with self._lock:
                self._plan = plan
                self._settings = new
                self._rds = StationRds(rbds=plan.region == "us")
            if new.power:
                self._tune_io(target)
        with self._lock:
            if new.power:
                self._event({"event": "tuned", "mhz": khz_to_mhz(target)})
            self._publish_rds()
            self._publish_state()
            self._save_settings()

    # -- presets -------------------------------------------------------------------------------
    def _cmd_preset_set(self, req: Request) -> dict[str, Any]:
        with self._lock:
            book = self._presets
        slot = book.check_slot(req.args["slot"]) if req.args.get("slot") is not None else None
        name = clean_name(req.args["name"]) if req.args.get("name") is not None else None
        self._gate(req)
        with self._lock:
            khz = self._settings.khz
            if khz is None:
                raise CommandError("NO_STATION", "the radio is not tuned to anything yet")
            rds = self._rds.state
            here = book.at(khz, rds.pi)
            if slot is None:
                slot = here.slot if here is not None else book.free_slot()
            if name is None:
                ps = rds.ps.strip() if rds.ps else ""
                old = book.get(slot)
                name = ps or (old.name if old is not None and old.khz == khz else "") or \
                    f"{khz_to_mhz(khz)} MHz"
            preset = Preset(slot, name, khz, rds.pi)
        self._presets_changed(book.store(preset))
        with self._lock:
            self._last_preset = slot
        return {"preset": preset.as_dict()}

    def _cmd_preset_delete(self, req: Request) -> dict[str, Any]:
        with self._lock:
            book = self._presets
        preset = book.find(req.args)
        self._gate(req)
        self._presets_changed(book.delete(preset.slot))
        return {"preset": preset.as_dict()}

    def _cmd_preset_recall(self, req: Request) -> dict[str, Any]:
        plan = self._plan_now()
        with self._lock:
            preset = self._presets.find(req.args)
        return self._recall(req, plan, preset)

    def _cmd_preset_next(self, req: Request) -> dict[str, Any]:
        return self._step_preset(req, +1)

    def _cmd_preset_prev(self, req: Request) -> dict[str, Any]:
        return self._step_preset(req, -1)

    def _step_preset(self, req: Request, direction: int) -> dict[str, Any]:
        plan = self._plan_now()
        with self._lock:
            book = self._presets
            current = None
            if self._settings.khz is not None:
                current = book.at(self._settings.khz, self._rds.state.pi)
            if current is None and self._last_preset is not None:
                current = book.get(self._last_preset)
            preset = book.after(current, direction)
        return self._recall(req, plan, preset)

    def _recall(self, req: Request, plan: BandPlan, preset: Preset) -> dict[str, Any]:
        plan.check(preset.khz)
        self._gate(req)
        self._tune_and_publish(preset.khz)
        with self._lock:
            self._last_preset = preset.slot
        if preset.pi is not None:
            self._jobs.put(("verify_pi", preset.slot))
        return {"preset": preset.as_dict()}


def _error_reply(rid: str | int | None, cmd: str | None, e: CommandError) -> bytes:
    doc: dict[str, Any] = {"ok": False}
    if rid is not None:
        doc["id"] = rid
    doc["cmd"] = cmd
    doc["code"] = e.code
    doc["message"] = e.message
    doc["details"] = {k: v for k, v in e.details.items() if isinstance(v, str | int | float | bool | list | None)}
    return dumps(doc)


def _rds_event(ev: RdsChange) -> dict[str, Any] | None:
    if isinstance(ev, PiChanged):
        return {"event": "rds", "field": "pi", "value": ev.hex}
    if isinstance(ev, PsChanged):
        return {"event": "rds", "field": "ps", "value": ev.ps.strip()}
    if isinstance(ev, RadioTextChanged):
        return {"event": "rds", "field": "radiotext", "value": ev.text}
    if isinstance(ev, PtyChanged):
        return {"event": "rds", "field": "pty", "value": ev.pty, "name": ev.name}
    if isinstance(ev, TrafficChanged):
        return {"event": "rds", "field": "traffic", "value": {"tp": ev.tp, "ta": ev.ta}}
    if isinstance(ev, AfListChanged):
        return {"event": "rds", "field": "af", "value": [khz_to_mhz(k) for k in ev.frequencies_khz]}
    if isinstance(ev, ClockTimeReceived):
        return {"event": "rds", "field": "clock", "value": ev.clock.isoformat()}
    if isinstance(ev, RdsCleared):
        return {"event": "rds", "field": "cleared", "value": ev.reason}
    return None
