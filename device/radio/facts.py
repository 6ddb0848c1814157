"""The facts of the radio machine — everything it knows — and the helpers its procedures share (pure).

`RadioFacts` holds the user's `Settings`, the last `Signal`, the band plan, RDS
(`StationRds`), presets, what is busy and the link as last reported. Time is
`now`, set by the machine from each input; nothing here reads a clock, takes a
lock or touches the link. What the state has to say goes into `out` (the
machine hands it to the adapter): the three state documents (`<name>`,
`<name>_rds`, `<name>_presets`), events, files to save and notifications.

The primitives every procedure uses: `gate()` (UNAVAILABLE / POWERED_OFF /
BUSY), `configure()` and `tune()` (generators of chip calls; a tune clears RDS
and drops the groups that were in flight), `apply_status()` (reception, signal
lost/regained), `finish_seek()`.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, replace

from device.core.values import JsonDoc
from device.errors import CommandError
from device.link import LinkMap
from device.radio.band import BandPlan, band_plan, khz_to_mhz
from device.radio.commands import RadioCommand
from device.radio.config import RadioConfig
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
from device.radio.state import Settings, Signal
from device.radio.steps import (
    Notify,
    Output,
    Proc,
    PublishEvent,
    PublishState,
    SaveFile,
    Steps,
    call,
)

log = logging.getLogger("pi2mqtt.radio")

BRINGUP_RETRY = 5.0
RSSI_PUBLISH_DB = 3
BLER_PUBLISH_POINTS = 5.0  # republish the state when the RDS block error rate moved this much
LOST_HYSTERESIS_DB = 3


class RadioFacts:
    """What the radio knows (see the module docstring)."""

    def __init__(self, cfg: RadioConfig) -> None:
        self.cfg = cfg
        self.name = cfg.name
        self.now = 0.0
        self.out: list[Output] = []
        self.spawned: list[Proc] = []  # procedures to run after the one in hand
        self.config_key: JsonDoc = {"region": cfg.region, "spacing_khz": cfg.spacing_khz}
        self.settings = Settings(volume=cfg.volume, softmute=cfg.softmute, region=cfg.region,
                                 spacing_khz=cfg.spacing_khz)
        self.chip: str | None = None if cfg.chip == "auto" else cfg.chip
        self.plan = self.plan_or_default(self.chip or "rda5807m", self.settings)
        self.signal = Signal()
        self.link_state = "down"
        self.ready = False
        self.error: str | None = None
        self.busy: str | None = None
        self.retuning = False
        self.rds_since = 0.0  # RDS groups that arrived before this time belong to the last station
        self.generation = 0  # bumped whenever the tuner moves (an older status poll answer is stale)
        self.lost = False
        self.cancelled = False
        self.closing = False
        self.published_signal = Signal()
        self.published_bler: float | None = None
        self.rds_memory = RdsMemory()
        self.rds = StationRds(rbds=cfg.region == "us", rds_memory=self.rds_memory)
        self.rds_doc: JsonDoc | None = None
        self.presets = PresetBook(max_slots=cfg.max_presets)
        self.last_preset: int | None = None
        self.known: dict[int, set[int]] = {}
        self.scan_results: list[JsonDoc] = []
        self.seek_result: LinkMap | None = None
        self.user_seek: tuple[bool, bool] | None = None
        self.last_bringup = -BRINGUP_RETRY
        self.counts = {"commands": 0, "refused": 0, "tunes": 0, "seeks": 0, "scans": 0,
                       "bringups": 0, "rds_groups": 0, "link_errors": 0}

    # -- state documents ---------------------------------------------------------------------
    @property
    def live(self) -> bool:
        return self.link_state == "up" and self.ready

    def state_doc(self) -> JsonDoc:
        """The radio state document (as published, with `value` and `unit`)."""
        s, p, sig = self.settings, self.plan, self.signal
        on = self.live and s.power
        preset = self.presets.at(s.khz, self.rds.state.pi) if on and s.khz is not None else None
        doc: JsonDoc = {
            "value": khz_to_mhz(s.khz) if on and s.khz is not None else None,
            "unit": "MHz", "power": s.power if self.live else None, "band": p.region,
            "min_mhz": p.first_mhz, "max_mhz": p.last_mhz, "step_khz": p.step_khz,
            "volume": s.volume, "mute": s.mute, "softmute": s.softmute, "mono": s.mono,
            "deemphasis_us": s.deemphasis_us or p.deemphasis_us,
            "stereo": sig.stereo if on else None, "rssi": sig.rssi if on else None,
            "snr": sig.snr if on else None, "station": sig.station if on else None,
            "rds_bler": self.rds.bler.rate(self.now) if on else None,
            "preset": preset.name if preset else None, "busy": self.busy if on else None,
            "chip": self.chip, "link": "up" if self.link_state == "up" else "down",
        }
        if self.error and not self.live:
            doc["error"] = self.error
        return doc

    def publish_state(self) -> None:
        doc = self.state_doc()
        value = doc.pop("value")
        unit = doc.pop("unit")
        self.published_signal = self.signal
        bler = doc.get("rds_bler")
        self.published_bler = bler if isinstance(bler, float) else None
        self.out.append(PublishState(self.name, value, doc, unit if isinstance(unit, str) else None))

    def rds_state_doc(self) -> JsonDoc:
        st = self.rds.state
        ps = st.ps.strip() if st.ps else None
        language = None if st.language is None else language_name(st.language) or f"{st.language:02X}"
        return {
            "value": ps or None, "pi": None if st.pi is None else f"{st.pi:04X}", "ps": ps or None,
            "radiotext": st.radiotext, "pty": st.pty, "pty_name": st.pty_name, "tp": st.tp, "ta": st.ta,
            "music": st.music, "af": [khz_to_mhz(k) for k in st.af_khz],
            "clock": None if st.clock is None else st.clock.isoformat(),
            "ecc": None if st.ecc is None else f"{st.ecc:02X}", "country": st.country,
            "language": language, "ptyn": st.ptyn, "artist": st.rt_artist, "title": st.rt_title,
        }

    def publish_rds(self) -> None:
        """Publish `<name>_rds` if it changed."""
        doc = self.rds_state_doc()
        if doc == self.rds_doc:
            return
        self.rds_doc = dict(doc)
        value = doc.pop("value")
        self.out.append(PublishState(f"{self.name}_rds", value, doc))

    def publish_presets(self) -> None:
        self.out.append(PublishState(f"{self.name}_presets", self.presets.as_list()))

    def event(self, doc: JsonDoc) -> None:
        self.out.append(PublishEvent(doc))

    def save_settings(self) -> None:
        """Save the settings, and the station names learnt since the last save."""
        self.out.append(SaveFile("settings", {"settings": asdict(self.settings), "config": self.config_key}))
        if self.rds_memory.changed:
            self.rds_memory.changed = False
            self.out.append(SaveFile("rds_memory", {"texts": self.rds_memory.to_json()}))

    def presets_changed(self, book: PresetBook) -> None:
        self.presets = book
        self.out.append(SaveFile("presets", {"presets": book.to_json()}))
        self.publish_presets()
        self.publish_state()
        self.out.append(Notify("presets"))

    # -- band plans ----------------------------------------------------------------------------
    def plan_or_default(self, chip: str, s: Settings) -> BandPlan:
        try:
            return band_plan(chip, s.region, s.spacing_khz)
        except CommandError as e:
            log.warning("radio: %s; using %s", e.message, self.cfg.region)
        try:
            return band_plan(chip, self.cfg.region, self.cfg.spacing_khz)
        except CommandError:
            return band_plan(chip, "europe")

    # -- gates ---------------------------------------------------------------------------------
    def gate(self, req: RadioCommand) -> None:
        """UNAVAILABLE / POWERED_OFF / BUSY checks (after argument validation)."""
        if self.link_state != "up":
            raise CommandError("UNAVAILABLE", "the co-processor link is down; the radio cannot be reached")
        if not self.ready:
            why = f": {self.error}" if self.error else "; try again in a moment"
            raise CommandError("UNAVAILABLE", f"the tuner is not ready{why}")
        if req.spec.needs_power and not self.settings.power:
            raise CommandError("POWERED_OFF", f"the radio is off; send {{\"cmd\": \"power\", \"on\": true}} "
                               f"before {req.cmd}")
        if self.busy and not req.spec.while_busy:
            raise CommandError("BUSY", f"a {self.busy} is running; wait for it or send "
                               "{\"cmd\": \"cancel\"}", busy=self.busy)

    def plan_now(self) -> BandPlan:
        """The band plan, once the tuner can be reached (UNAVAILABLE before)."""
        if not self.live:
            self.gate(RadioCommand("status", None, {}))
        return self.plan

    def stopped(self) -> bool:
        """A long procedure must end: cancelled, the link is down or the radio closes."""
        return self.closing or self.cancelled or self.link_state != "up"

    # -- reception -----------------------------------------------------------------------------
    def finish_seek(self, data: LinkMap) -> None:
        """End a user's seek."""
        self.busy = None
        self.user_seek = None
        khz = self.settings.khz
        found = bool(data.get("found")) and not data.get("cancelled")
        doc: JsonDoc = {"event": "seek_done", "mhz": None if khz is None else khz_to_mhz(khz), "found": found}
        if data.get("cancelled"):
            doc["cancelled"] = True
        elif not found:
            doc["code"] = "NO_STATION"
        if data.get("error"):
            doc["code"] = str(data["error"])
        self.publish_state()
        self.publish_rds()
        self.event(doc)
        if khz is not None:
            self.event({"event": "tuned", "mhz": khz_to_mhz(khz)})
        self.save_settings()

    def apply_status(self, st: LinkMap, *, quiet: bool) -> None:
        """Take the tuner's status; signal_lost/regained unless `quiet`."""
        khz, rssi, snr = st.get("khz"), st.get("rssi"), st.get("snr")
        stereo, station = st.get("stereo"), st.get("station")
        if isinstance(khz, int):
            self.settings = replace(self.settings, khz=khz)
        sig = Signal(rssi=rssi if isinstance(rssi, int) else None, snr=snr if isinstance(snr, int) else None,
                     stereo=stereo if isinstance(stereo, bool) else None,
                     station=station if isinstance(station, bool) else None)
        self.signal = sig
        level = sig.rssi if sig.rssi is not None else 0
        weak = not sig.station or level < self.cfg.seek_threshold - LOST_HYSTERESIS_DB
        strong = bool(sig.station) and level >= self.cfg.seek_threshold
        if quiet:
            self.lost = weak
        elif not self.lost and weak:
            self.lost = True
            self.event({"event": "signal_lost", "rssi": sig.rssi})
        elif self.lost and strong:
            self.lost = False
            self.event({"event": "signal_regained", "rssi": sig.rssi})

    def signal_moved(self) -> bool:
        a, b = self.signal, self.published_signal
        bler, was = self.rds.bler.rate(self.now), self.published_bler
        if (bler is None) != (was is None) or (bler is not None and was is not None
                                               and abs(bler - was) >= BLER_PUBLISH_POINTS):
            return True
        if (a.stereo, a.station) != (b.stereo, b.station):
            return True
        if (a.rssi is None) != (b.rssi is None):
            return True
        return a.rssi is not None and b.rssi is not None and abs(a.rssi - b.rssi) >= RSSI_PUBLISH_DB

    def start_retune(self) -> None:
        """The tuner is about to move: RDS is cleared and groups from now on are dropped."""
        self.retuning = True
        self.generation += 1
        self.rds.reset()

    def end_retune(self) -> None:
        """The tuner has moved: groups that arrived before now belonged to the last station."""
        self.retuning = False
        self.rds_since = self.now
        self.rds.reset()

    # -- chip primitives (generators: `yield from state.tune(khz)`) -----------------------------
    def configure(self, plan: BandPlan, s: Settings) -> Proc:
        """Power up and program band, spacing, de-emphasis, threshold and audio."""
        yield from call("tuner.power", {"on": True})
        yield from call("tuner.config", {
            "band": plan.band_code, "spacing": plan.spacing_code,
            "deemph": s.deemphasis_us or plan.deemphasis_us, "seek_threshold": self.cfg.seek_threshold,
            "mono": s.mono, "softmute": s.softmute, "rds": self.cfg.rds,
        })
        yield from call("tuner.volume", {"volume": s.volume, "mute": s.mute})
        return None

    def tune(self, khz: int) -> Steps[LinkMap]:
        """Tune; RDS is cleared and groups in flight are dropped. Returns the tuner's status."""
        self.start_retune()
        self.publish_rds()
        try:
            st = yield from call("tuner.tune", {"khz": khz, "brief": True})
        finally:
            self.end_retune()
        self.counts["tunes"] += 1
        self.settings = replace(self.settings, khz=khz)
        self.apply_status(st, quiet=True)
        return st


def rds_event_doc(ev: RdsChange) -> JsonDoc | None:
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
