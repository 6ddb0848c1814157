"""The radio's long procedures, run on the service's worker thread: scan, PI search, seek fix-up.

Theory of operation
-------------------
Each procedure is a sequence of tuner operations with waits in between. A
tune is one link call; a seek is started with `tuner.seek` and ends with the
firmware's `tuner.seek_done` event, which the service's event path stores in
`_seek_result` and signals on `_cond`; RDS arrives the same way (the decoder's
state, signalled on `_cond`). Every wait is bounded and ends early on cancel
(`_cancel`), on a lost link, or when the service closes.

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

import logging
import time
from collections.abc import Callable
from typing import Any

from device.core.values import JsonDoc
from device.errors import CommandError
from device.radio.band import khz_to_mhz
from device.radio.core import RadioCore

log = logging.getLogger("pi2mqtt.radio")

PI_WAIT = 1.5
NO_PI_GIVE_UP = 0.8
SEEK_CHANNEL_S = 0.06
MAX_FIXES = 4
MAX_SEARCH_STOPS = 60


def _seek_budget(svc: RadioCore) -> float:
    return svc._plan.channel_count * SEEK_CHANNEL_S * 2 + 3.0


def _stopped(svc: RadioCore) -> bool:
    return svc._stop.is_set() or svc._cancel.is_set() or svc._link_state != "up"


def wait_until(svc: RadioCore, pred: Callable[[], bool], timeout: float) -> bool:
    """Wait on the service's condition until `pred()` (True), or timeout / cancel (False)."""
    deadline = time.monotonic() + timeout
    with svc._cond:
        while not pred():
            left = deadline - time.monotonic()
            if left <= 0 or _stopped(svc):
                return False
            svc._cond.wait(min(left, 0.25))
        return True


def seek_and_wait(svc: RadioCore, up: bool, wrap: bool) -> dict[str, Any] | None:
    """One seek; its seek_done status, or None (cancelled, link lost, no answer in time)."""
    with svc._hardware():
        with svc._lock:
            svc._seek_result = None
            svc._retuning = True
            svc._generation += 1
            svc._rds.reset()
        try:
            svc._tuner.call("tuner.seek", {"up": up, "wrap": wrap})
        except CommandError:
            with svc._lock:
                svc._retuning = False
            raise
    if not wait_until(svc, lambda: svc._seek_result is not None, _seek_budget(svc)):
        if svc._link_state == "up":
            try:
                svc._tuner.call("tuner.cancel")
            except CommandError:
                pass
            wait_until(svc, lambda: svc._seek_result is not None, 1.0)
        return None
    return svc._seek_result


def wait_pi(svc: RadioCore, timeout: float) -> int | None:
    """The PI of the station now tuned, if one is confirmed within `timeout` s."""
    wait_until(svc, lambda: svc._rds.state.pi is not None, timeout)
    with svc._lock:
        return svc._rds.state.pi


def listen(svc: RadioCore, budget: float) -> tuple[int | None, str | None]:
    """(PI, PS) heard within `budget` s; stops early without RDS."""
    t0 = time.monotonic()
    if budget > 0:
        wait_until(svc, lambda: svc._rds.state.pi is not None, min(NO_PI_GIVE_UP, budget))
        with svc._lock:
            have_pi = svc._rds.state.pi is not None
        if have_pi:
            left = budget - (time.monotonic() - t0)
            wait_until(svc, lambda: svc._rds.state.ps is not None, max(0.0, left))
    with svc._lock:
        st = svc._rds.state
        return st.pi, (st.ps.strip() or None) if st.ps else None


def _entry(khz: int, status: dict[str, Any], pi: int | None, ps: str | None) -> dict[str, Any]:
    return {"mhz": khz_to_mhz(khz), "rssi": status.get("rssi"), "stereo": status.get("stereo"),
            "pi": None if pi is None else f"{pi:04X}", "ps": ps}


def run_scan(svc: RadioCore) -> None:
    """Scan the whole band (see the module docstring); always ends with scan_done."""
    with svc._lock:
        start = svc._settings.khz
        plan = svc._plan
    stations: list[dict[str, Any]] = []
    seen: set[int] = set()
    heard: dict[int, int] = {}
    error: CommandError | None = None
    cancelled = False
    t0 = time.monotonic()

    def record(khz: int, status: dict[str, Any]) -> None:
        pi, ps = listen(svc, svc.cfg.scan_rds_time)
        seen.add(khz)
        if pi is not None:
            heard[khz] = pi
        stations.append(_entry(khz, status, pi, ps))
        with svc._lock:
            svc._event({"event": "scan_progress", "mhz": khz_to_mhz(khz), "found": len(stations)})

    try:
        with svc._hardware():
            st = svc._tune_io(plan.first_khz)
        if st.get("station"):
            record(plan.first_khz, st)
        while True:
            if _stopped(svc):
                cancelled = True
                break
            r = seek_and_wait(svc, up=True, wrap=False)
            if r is None or r.get("cancelled"):
                cancelled = True
                break
            khz = r.get("khz")
            if not isinstance(khz, int):
                break
            if r.get("found") and plan.on_raster(khz) and khz not in seen:
                record(khz, r)
            if not r.get("found") or r.get("band_limit") or khz >= plan.last_khz:
                break
    except CommandError as e:
        error = e
        log.warning("radio: scan stopped: %s: %s", e.code, e.message)
    back = start if start is not None and plan.on_raster(start) else plan.first_khz
    _finish_scan(svc, back, stations, heard, cancelled, error, time.monotonic() - t0)


def _finish_scan(svc: RadioCore, back: int, stations: list[JsonDoc], heard: dict[int, int],
                 cancelled: bool, error: CommandError | None, seconds: float) -> None:
    """Return to `back`, remember where each PI was heard, publish state and scan_done."""
    if svc._link_state == "up" and not svc._stop.is_set():
        try:
            with svc._hardware():
                svc._tune_io(back)
        except CommandError as e:
            log.warning("radio: after the scan, cannot return to %s MHz: %s", khz_to_mhz(back), e.message)
    with svc._lock:
        svc._busy = None
        for khz, pi in heard.items():
            svc._known.setdefault(pi, set()).add(khz)
        svc._scan_results = stations
        doc: dict[str, Any] = {"event": "scan_done", "stations": stations, "cancelled": cancelled,
                               "seconds": round(seconds, 2)}
        if error is not None:
            doc["code"] = error.code
            doc["message"] = error.message
        svc._publish_state()
        svc._publish_rds()
        svc._event(doc)
        svc._event({"event": "tuned", "mhz": khz_to_mhz(back)})
        svc._save_settings()


def verify_preset(svc: RadioCore, slot: int) -> None:
    """After a recall: check the PI; find the station again if it moved (bounded)."""
    with svc._lock:
        preset = svc._presets.get(slot)
        if preset is None or preset.pi is None:
            return
        want, home = preset.pi, preset.khz
        svc._cancel.clear()
    pi = wait_pi(svc, PI_WAIT)
    with svc._lock:
        if pi == want or svc._busy or svc._settings.khz != home or _stopped(svc):
            return  # the right station, or the user has moved on
        svc._busy = "seek"
        svc._publish_state()
        svc._event({"event": "preset_search", "slot": slot, "name": preset.name, "pi": f"{want:04X}",
                    "heard_pi": None if pi is None else f"{pi:04X}"})
        plan = svc._plan
        candidates = sorted(k for k in svc._known.get(want, set()) if k != home and plan.on_raster(k))
    found: int | None = None
    try:
        for khz in candidates:
            if _stopped(svc):
                break
            with svc._hardware():
                svc._tune_io(khz)
            if wait_pi(svc, PI_WAIT) == want:
                found = khz
                break
        if found is None and not _stopped(svc):
            found = _search_band(svc, home, want)
    except CommandError as e:
        log.warning("radio: preset search stopped: %s", e.message)
    if found is not None:
        with svc._lock:
            book = svc._presets.relocate(slot, found)
            svc._known.setdefault(want, set()).add(found)
        svc._presets_changed(book)
    elif svc._link_state == "up" and not svc._stop.is_set():
        try:
            with svc._hardware():
                svc._tune_io(home)
        except CommandError as e:
            log.warning("radio: cannot return to the preset's frequency: %s", e.message)
    with svc._lock:
        svc._busy = None
        khz = svc._settings.khz
        if found is not None:
            svc._event({"event": "preset_moved", "slot": slot, "name": preset.name,
                        "from_mhz": khz_to_mhz(home), "mhz": khz_to_mhz(found)})
        else:
            svc._event({"event": "preset_lost", "slot": slot, "name": preset.name, "code": "NO_STATION",
                        "message": f"PI {want:04X} was not found on the band"})
        svc._publish_state()
        svc._publish_rds()
        if khz is not None:
            svc._event({"event": "tuned", "mhz": khz_to_mhz(khz)})
        svc._save_settings()


def _search_band(svc: RadioCore, home: int, want: int) -> int | None:
    """Seek up with wrap from `home`, at most once around the band, for the PI `want`."""
    with svc._hardware():
        svc._tune_io(home)
    last = home
    wrapped = False
    for _ in range(MAX_SEARCH_STOPS):
        r = seek_and_wait(svc, up=True, wrap=True)
        if r is None or r.get("cancelled") or not r.get("found"):
            return None
        khz = r.get("khz")
        if not isinstance(khz, int):
            return None
        if khz <= last:
            wrapped = True
        if wrapped and khz >= home:
            return None
        last = khz
        if svc._plan.on_raster(khz) and wait_pi(svc, PI_WAIT) == want:
            return khz
    return None


def fix_seek_stop(svc: RadioCore, data: dict[str, Any]) -> None:
    """A user's seek stopped off the raster: seek on, then settle on a valid frequency."""
    with svc._lock:
        if svc._busy != "seek" or svc._user_seek is None:
            return
        up, wrap = svc._user_seek
        svc._user_seek = None  # this procedure ends the seek, not the event path
        plan = svc._plan
    result: dict[str, Any] | None = data
    try:
        for _ in range(MAX_FIXES):
            khz = result.get("khz") if result else None
            if result is None or not isinstance(khz, int) or plan.on_raster(khz) or not result.get("found"):
                break
            if not plan.contains(khz):
                if not wrap:
                    break  # settles on the plan's edge below
                with svc._hardware():
                    svc._tune_io(plan.first_khz if up else plan.last_khz)
            result = seek_and_wait(svc, up, wrap)
        khz = result.get("khz") if result else None
        if isinstance(khz, int) and not plan.on_raster(khz):
            below, above = plan.nearest(khz)
            target = (above if up else below) or below or above
            assert target is not None
            with svc._hardware():
                st = svc._tune_io(target)
            result = {**st, "found": bool(st.get("station"))}
    except CommandError as e:
        log.warning("radio: seek stopped: %s", e.message)
        result = {"found": False, "error": e.code}
    with svc._lock:
        if svc._busy == "seek":
            svc._finish_seek(result or {"found": False, "cancelled": True})
