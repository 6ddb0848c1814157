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
The class is layered: `device.radio.core.RadioCore` (state, documents,
primitives) <- `device.radio.handlers.RadioCommands` (the commands) <-
`RadioService` (lifecycle, link events, worker).

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

import queue
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from device.components.base import EntityInfo
from device.core.services import ServiceContext
from device.errors import CommandError
from device.link import LinkValue
from device.radio import sweep, validate
from device.radio.band import khz_to_mhz
from device.radio.core import BRINGUP_RETRY, log, rds_event_doc
from device.radio.handlers import RadioCommands
from device.radio.link import TunerLink
from device.radio.presets import PresetBook
from device.radio.rds.decoder import (
    AfListChanged,
    PiChanged,
)
from device.radio.rds.fast import StationRds
from device.radio.rds.memory import RdsMemory
from device.radio.state import RadioStore


class RadioService(RadioCommands):
    """The FM radio behind the co-processor; see the module docstring and docs/radio.md."""

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
            self._rds_memory = RdsMemory.from_json(self._store.load_rds_memory())
            self._rds = StationRds(rbds=self._plan.region == "us", rds_memory=self._rds_memory)
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

    # -- hooks for Home Assistant discovery (docs/home-assistant.md) ------------------------------------
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

    def on_plan_changed(self, callback: Callable[[], None]) -> None:
        """Call `callback()` (no lock held) after the band plan (band, spacing) may have changed."""
        self._plan_listeners.append(callback)

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
                                                  "bad_b": stats.groups_bad_b,
                                                  "names_remembered": self._rds_memory.names()}}

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

    def _on_link_event(self, name: str, data: LinkValue) -> None:
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
            events = self._rds.feed(a, b, c, d, errors=grades, rssi=self._signal.rssi, now=time.monotonic())
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
                doc = rds_event_doc(ev)
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

    # -- the worker ----------------------------------------------------------------------------
    def _work(self) -> None:
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
                self._publish_state()
                self._publish_rds()
                if s.power:
                    self._event({"event": "tuned", "mhz": khz_to_mhz(khz)})
                self._save_settings()
            log.info("radio: %s ready, %s", self._chip, "on" if s.power else "off")
            self._plan_changed()
        except CommandError as e:
            with self._lock:
                self._error = e.message
                self._publish_state()
            log.error("radio: cannot bring the tuner up: %s: %s", e.code, e.message)
