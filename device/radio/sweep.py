"""The radio's procedures beyond one command: bring-up, status poll, scan, PI search, seek fix-up.

Theory of operation
-------------------
Each procedure is a generator of steps (device.radio.steps) run by the
machine: `Call` a tuner method, `Wait` for a condition on the radio's state
with a time limit. A tune is one call; a seek is started with `tuner.seek`
and ends with the firmware's `tuner.seek_done` event, which the machine stores
in `seek_result`; RDS arrives the same way (the decoder's state). Every wait
is bounded and ends early on cancel, on a lost link, or when the radio closes
(`RadioFacts.stopped()`). While a procedure waits, the machine takes other
input: RDS, status, and the commands that may run while busy.

* **Bring-up** (link up, power on, co-processor rebooted): `tuner.info`
  (which chip), power up and program the band, restore the last frequency and
  audio settings.
* **Status poll** (every `status_interval` while idle): reception, signal
  lost/regained, and a bring-up when the tuner lost its power.
* **Scan**: tune to the band's lower edge (a station there counts), then seek
  up without wrap until the band edge. At each stop on the raster, listen for
  RDS for at most `scan_rds_time` (default 2 s): until the PS is complete, or
  give up after 0.8 s without a PI (no RDS). Time ≈ 60 ms per channel (the
  chip's seek) + up to `scan_rds_time` per station (about 1.1 s on a clean
  one); Europe at 100 kHz with 8 stations: about 12.4 + 9 s. The radio then
  returns to where it was and publishes `scan_done` with the list; the PIs and
  frequencies found are remembered for the preset search.
* **Preset PI search** (after a recall of a preset that has a PI): wait up to
  1.5 s for the PI at the stored frequency. If another PI (or none) is heard,
  try the frequencies where that PI was seen before (scans, AF lists, earlier
  tuning), then seek up with wrap, listening at each stop, for at most one
  trip around the band. Found: the preset moves to the new frequency
  (`preset_moved`). Not found: back to the stored frequency, `preset_lost`
  with code NO_STATION.
* **Seek fix-up**: a seek that stopped off the user's raster (the US raster on
  the RDA5807M, or below 87.5 MHz on its 87.0 MHz band) seeks on, at most 4
  times, then settles on the nearest valid frequency. A stop beyond the plan's
  limits (japan runs the chips' 76-108 MHz bands up to 95 MHz) wraps: with
  wrap on, the chip is tuned to the plan's other edge and seeks on from there.
"""

from __future__ import annotations

from dataclasses import replace

from device.core.values import JsonDoc
from device.errors import CommandError
from device.link import LinkMap
from device.radio.band import khz_to_mhz
from device.radio.facts import BRINGUP_RETRY, RadioFacts, log
from device.radio.steps import ChipRequest, Notify, Proc, Steps, call, wait

PI_WAIT = 1.5
NO_PI_GIVE_UP = 0.8
SEEK_CHANNEL_S = 0.06
MAX_FIXES = 4
MAX_SEARCH_STOPS = 60


# -- bring-up and status -----------------------------------------------------------------------
def bring_up(r: RadioFacts) -> Proc:
    """Power up, configure and restore the last state."""
    r.last_bringup = r.now
    r.counts["bringups"] += 1
    try:
        info = yield from call("tuner.info")
        chip = info.get("chip")
        if chip in ("rda5807m", "si4703"):
            if r.cfg.chip not in ("auto", chip):
                log.warning("radio: config says chip %s, the co-processor has a %s", r.cfg.chip, chip)
            r.chip = str(chip)
        r.plan = r.plan_or_default(r.chip or "rda5807m", r.settings)
        if r.plan.region != r.settings.region:  # not on this chip
            r.settings = replace(r.settings, region=r.plan.region, spacing_khz=None)
        s, plan = r.settings, r.plan
        st: LinkMap = {}
        khz = s.khz if s.khz is not None and plan.on_raster(s.khz) else plan.first_khz
        if not s.power:
            yield from call("tuner.power", {"on": False})
        else:
            yield from r.configure(plan, s)
            st = yield from r.tune(khz)
    except CommandError as e:
        r.error = e.message
        r.publish_state()
        log.error("radio: cannot bring the tuner up: %s: %s", e.code, e.message)
        return None
    r.ready = True
    r.error = None
    r.busy = None
    if s.power:
        r.apply_status(st, quiet=True)
    r.publish_state()
    r.publish_rds()
    if s.power:
        r.event({"event": "tuned", "mhz": khz_to_mhz(khz)})
    r.save_settings()
    log.info("radio: %s ready, %s", r.chip, "on" if s.power else "off")
    r.out.append(Notify("plan"))
    return None


def poll_request(r: RadioFacts) -> ChipRequest | None:
    """The idle status poll's request (made aside: a command never waits for it); a bring-up when due."""
    link_up = r.link_state == "up"
    if link_up and not r.ready:
        if r.now - r.last_bringup >= BRINGUP_RETRY:
            r.spawned.append(bring_up(r))
        return None
    if not link_up or r.busy or not r.settings.power:
        return None
    return ChipRequest("tuner.status", {"brief": True}, aside=True)


def poll_answer(r: RadioFacts, st: LinkMap | CommandError, generation: int) -> None:
    """Reception and signal lost/regained; dropped if the tuner moved since the request."""
    if isinstance(st, CommandError):
        r.counts["link_errors"] += 1
        return
    if r.busy or not r.ready or generation != r.generation:
        return
    if st.get("powered") is False and r.settings.power:
        log.warning("radio: the tuner is powered off (co-processor restarted?); bringing it up")
        r.ready = False
        r.spawned.append(bring_up(r))
        r.publish_state()
        return
    r.apply_status(st, quiet=False)
    if r.signal_moved():
        r.publish_state()


# -- seeking and listening ----------------------------------------------------------------------
def seek_and_wait(r: RadioFacts, up: bool, wrap: bool) -> Steps[LinkMap | None]:
    """One seek; its seek_done status, or None (cancelled, link lost, no answer in time)."""
    r.seek_result = None
    r.start_retune()
    try:
        yield from call("tuner.seek", {"up": up, "wrap": wrap})
    except CommandError:
        r.retuning = False
        raise
    budget = r.plan.channel_count * SEEK_CHANNEL_S * 2 + 3.0
    if not (yield from wait(lambda: r.seek_result is not None, budget)):
        if r.link_state == "up":
            try:
                yield from call("tuner.cancel")
            except CommandError:
                pass
            yield from wait(lambda: r.seek_result is not None, 1.0)
        return None
    return r.seek_result


def wait_pi(r: RadioFacts, timeout: float) -> Steps[int | None]:
    """The PI of the station now tuned, if one is confirmed within `timeout` s."""
    yield from wait(lambda: r.rds.state.pi is not None, timeout)
    return r.rds.state.pi


def listen(r: RadioFacts, budget: float) -> Steps[tuple[int | None, str | None]]:
    """(PI, PS) heard within `budget` s; stops early without RDS."""
    t0 = r.now
    if budget > 0:
        yield from wait(lambda: r.rds.state.pi is not None, min(NO_PI_GIVE_UP, budget))
        if r.rds.state.pi is not None:
            yield from wait(lambda: r.rds.state.ps is not None, max(0.0, budget - (r.now - t0)))
    st = r.rds.state
    return st.pi, (st.ps.strip() or None) if st.ps else None


# -- scan ------------------------------------------------------------------------------------------
class _Scan:
    """What a scan found so far."""

    def __init__(self) -> None:
        self.stations: list[JsonDoc] = []
        self.seen: set[int] = set()
        self.heard: dict[int, int] = {}
        self.error: CommandError | None = None
        self.cancelled = False

    def record(self, r: RadioFacts, khz: int, status: LinkMap) -> Steps[None]:
        pi, ps = yield from listen(r, r.cfg.scan_rds_time)
        self.seen.add(khz)
        if pi is not None:
            self.heard[khz] = pi
        rssi, stereo = status.get("rssi"), status.get("stereo")
        self.stations.append({"mhz": khz_to_mhz(khz), "rssi": rssi if isinstance(rssi, int) else None,
                              "stereo": stereo if isinstance(stereo, bool) else None,
                              "pi": None if pi is None else f"{pi:04X}", "ps": ps})
        r.event({"event": "scan_progress", "mhz": khz_to_mhz(khz), "found": len(self.stations)})


def run_scan(r: RadioFacts) -> Proc:
    """Scan the whole band (see the module docstring); always ends with scan_done."""
    start, plan, t0 = r.settings.khz, r.plan, r.now
    scan = _Scan()
    try:
        st = yield from r.tune(plan.first_khz)
        if st.get("station"):
            yield from scan.record(r, plan.first_khz, st)
        while True:
            if r.stopped():
                scan.cancelled = True
                break
            found = yield from seek_and_wait(r, up=True, wrap=False)
            if found is None or found.get("cancelled"):
                scan.cancelled = True
                break
            khz = found.get("khz")
            if not isinstance(khz, int):
                break
            if found.get("found") and plan.on_raster(khz) and khz not in scan.seen:
                yield from scan.record(r, khz, found)
            if not found.get("found") or found.get("band_limit") or khz >= plan.last_khz:
                break
    except CommandError as e:
        scan.error = e
        log.warning("radio: scan stopped: %s: %s", e.code, e.message)
    back = start if start is not None and plan.on_raster(start) else plan.first_khz
    yield from _finish_scan(r, back, scan, r.now - t0)
    return None


def _finish_scan(r: RadioFacts, back: int, scan: _Scan, seconds: float) -> Steps[None]:
    """Return to `back`, remember where each PI was heard, publish state and scan_done."""
    if r.link_state == "up" and not r.closing:
        try:
            yield from r.tune(back)
        except CommandError as e:
            log.warning("radio: after the scan, cannot return to %s MHz: %s", khz_to_mhz(back), e.message)
    r.busy = None
    for khz, pi in scan.heard.items():
        r.known.setdefault(pi, set()).add(khz)
    r.scan_results = scan.stations
    doc: JsonDoc = {"event": "scan_done", "stations": scan.stations, "cancelled": scan.cancelled,
                    "seconds": round(seconds, 2)}
    if scan.error is not None:
        doc["code"] = scan.error.code
        doc["message"] = scan.error.message
    r.publish_state()
    r.publish_rds()
    r.event(doc)
    r.event({"event": "tuned", "mhz": khz_to_mhz(back)})
    r.save_settings()


# -- preset PI search ------------------------------------------------------------------------------
def verify_preset(r: RadioFacts, slot: int) -> Proc:
    """After a recall: check the PI; find the station again if it moved (bounded)."""
    preset = r.presets.get(slot)
    if preset is None or preset.pi is None:
        return None
    want, home = preset.pi, preset.khz
    r.cancelled = False
    pi = yield from wait_pi(r, PI_WAIT)
    if pi == want or r.busy or r.settings.khz != home or r.stopped():
        return None  # the right station, or the user has moved on
    r.busy = "seek"
    r.publish_state()
    r.event({"event": "preset_search", "slot": slot, "name": preset.name, "pi": f"{want:04X}",
             "heard_pi": None if pi is None else f"{pi:04X}"})
    candidates = sorted(k for k in r.known.get(want, set()) if k != home and r.plan.on_raster(k))
    found: int | None = None
    try:
        for khz in candidates:
            if r.stopped():
                break
            yield from r.tune(khz)
            if (yield from wait_pi(r, PI_WAIT)) == want:
                found = khz
                break
        if found is None and not r.stopped():
            found = yield from _search_band(r, home, want)
    except CommandError as e:
        log.warning("radio: preset search stopped: %s", e.message)
    if found is not None:
        r.known.setdefault(want, set()).add(found)
        r.presets_changed(r.presets.relocate(slot, found))
    elif r.link_state == "up" and not r.closing:
        try:
            yield from r.tune(home)
        except CommandError as e:
            log.warning("radio: cannot return to the preset's frequency: %s", e.message)
    r.busy = None
    if found is not None:
        r.event({"event": "preset_moved", "slot": slot, "name": preset.name,
                 "from_mhz": khz_to_mhz(home), "mhz": khz_to_mhz(found)})
    else:
        r.event({"event": "preset_lost", "slot": slot, "name": preset.name, "code": "NO_STATION",
                 "message": f"PI {want:04X} was not found on the band"})
    r.publish_state()
    r.publish_rds()
    if r.settings.khz is not None:
        r.event({"event": "tuned", "mhz": khz_to_mhz(r.settings.khz)})
    r.save_settings()
    return None


def _search_band(r: RadioFacts, home: int, want: int) -> Steps[int | None]:
    """Seek up with wrap from `home`, at most once around the band, for the PI `want`."""
    yield from r.tune(home)
    last = home
    wrapped = False
    for _ in range(MAX_SEARCH_STOPS):
        found = yield from seek_and_wait(r, up=True, wrap=True)
        if found is None or found.get("cancelled") or not found.get("found"):
            return None
        khz = found.get("khz")
        if not isinstance(khz, int):
            return None
        if khz <= last:
            wrapped = True
        if wrapped and khz >= home:
            return None
        last = khz
        if r.plan.on_raster(khz) and (yield from wait_pi(r, PI_WAIT)) == want:
            return khz
    return None


# -- seek fix-up -----------------------------------------------------------------------------------
def fix_seek_stop(r: RadioFacts, data: LinkMap) -> Proc:
    """A user's seek stopped off the raster: seek on, then settle on a valid frequency."""
    if r.busy != "seek" or r.user_seek is None:
        return None
    up, wrap = r.user_seek
    r.user_seek = None  # this procedure ends the seek, not the seek_done handler
    plan = r.plan
    result: LinkMap | None = data
    try:
        for _ in range(MAX_FIXES):
            khz = result.get("khz") if result else None
            if result is None or not isinstance(khz, int) or plan.on_raster(khz) or not result.get("found"):
                break
            if not plan.contains(khz):
                if not wrap:
                    break  # settles on the plan's edge below
                yield from r.tune(plan.first_khz if up else plan.last_khz)
            result = yield from seek_and_wait(r, up, wrap)
        khz = result.get("khz") if result else None
        if isinstance(khz, int) and not plan.on_raster(khz):
            below, above = plan.nearest(khz)
            target = (above if up else below) or below or above
            assert target is not None
            st = yield from r.tune(target)
            result = {**st, "found": bool(st.get("station"))}
    except CommandError as e:
        log.warning("radio: seek stopped: %s", e.message)
        result = {"found": False, "error": e.code}
    if r.busy == "seek":
        r.finish_seek(result or {"found": False, "cancelled": True})
    return None
