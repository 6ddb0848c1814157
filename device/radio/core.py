"""The radio service's state and its tuner primitives (the base of `RadioService`).

`RadioCore` holds everything the radio knows, guarded by `_lock` (see the
theory of operation in `device.radio.service`): the user's `Settings`, the
last `Signal`, the band plan, RDS (`StationRds`), presets, what is busy. It
builds and queues the three state documents (`<name>`, `<name>_rds`,
`<name>_presets`) and events, and has the primitives every operation uses:
`_hardware()` (the `_io` lock, BUSY after a wait), `_configure()` and
`_tune_io()` (RDS cleared, groups in flight dropped), `_apply_status()`
(reception, signal lost/regained), `_finish_seek()`.
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

from device.core.services import Service, ServiceContext
from device.core.timefmt import iso_ms
from device.errors import CommandError
from device.radio.band import BandPlan, band_plan, khz_to_mhz
from device.radio.config import RadioConfig
from device.radio.link import TunerLink
from device.radio.presets import PresetBook
from device.radio.rds.decoder import (
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
from device.radio.rds.extras import PtynChanged, RtPlusChanged, language_name
from device.radio.rds.fast import StationRds
from device.radio.rds.memory import RdsMemory
from device.radio.state import RadioStore, Settings, Signal

log = logging.getLogger("pi2mqtt.radio")

IO_WAIT = 3.0
BRINGUP_RETRY = 5.0
RSSI_PUBLISH_DB = 3
BLER_PUBLISH_POINTS = 5.0  # republish the state when the RDS block error rate moved this much
LOST_HYSTERESIS_DB = 3


class RadioCore(Service):
    """State, publishing and tuner primitives shared by the commands and the service."""

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
        self._published_bler: float | None = None
        self._rds_memory = RdsMemory()
        self._rds = StationRds(rbds=cfg.region == "us", rds_memory=self._rds_memory)
        self._rds_doc: dict[str, Any] | None = None
        self._presets = PresetBook(max_slots=cfg.max_presets)
        self._last_preset: int | None = None
        self._preset_listeners: list[Callable[[], None]] = []
        self._plan_listeners: list[Callable[[], None]] = []
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
            "rds_bler": self._rds.bler.rate(time.monotonic()) if on else None,
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
        self._published_bler = doc.get("rds_bler")
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
            "ecc": None if st.ecc is None else f"{st.ecc:02X}", "country": st.country,
            "language": None if st.language is None else language_name(st.language) or f"{st.language:02X}",
            "ptyn": st.ptyn, "artist": st.rt_artist, "title": st.rt_title,
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
        """Save the settings, and the station names learnt since the last save (hold `_lock`)."""
        self._store.save_settings(self._settings, self._config_key)
        if self._rds_memory.changed:
            self._rds_memory.changed = False
            self._store.save_rds_memory(self._rds_memory.to_json())

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

    def _plan_changed(self) -> None:
        """Tell the plan listeners (Home Assistant discovery) the band plan may have changed.

        Call with no lock held; listeners compare, so a call without a change costs nothing.
        """
        for cb in list(self._plan_listeners):
            try:
                cb()
            except Exception:
                log.exception("radio: a band plan listener failed")

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
        self._publish_state()
        self._publish_rds()
        self._event(doc)
        if khz is not None:
            self._event({"event": "tuned", "mhz": khz_to_mhz(khz)})
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
        bler, was = self._rds.bler.rate(time.monotonic()), self._published_bler
        if (bler is None) != (was is None) or (bler is not None and was is not None
                                               and abs(bler - was) >= BLER_PUBLISH_POINTS):
            return True
        if (a.stereo, a.station) != (b.stereo, b.station):
            return True
        if (a.rssi is None) != (b.rssi is None):
            return True
        return a.rssi is not None and b.rssi is not None and abs(a.rssi - b.rssi) >= RSSI_PUBLISH_DB

    @contextmanager
    def _hardware(self, wait: float = IO_WAIT) -> Iterator[None]:
        if not self._io.acquire(timeout=wait):
            raise CommandError("BUSY", "the tuner is busy with another operation; try again")
        try:
            yield
        finally:
            self._io.release()

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

    def _bring_up(self) -> None:
        """Power up, configure and restore the last state (RadioService)."""
        raise NotImplementedError

    def _work(self) -> None:
        """The worker thread's loop (RadioService)."""
        raise NotImplementedError


def rds_event_doc(ev: RdsChange) -> dict[str, Any] | None:
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
    if isinstance(ev, RtPlusChanged):
        return {"event": "rds", "field": "rtplus", "value": {"artist": ev.artist, "title": ev.title}}
    if isinstance(ev, PtynChanged):
        return {"event": "rds", "field": "ptyn", "value": ev.ptyn}
    return None
