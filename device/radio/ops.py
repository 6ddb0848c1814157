"""The radio's commands, one procedure each (`HANDLERS`: command name -> generator function).

Each handler validates its arguments first (device.radio.validate, band plans,
presets), then `RadioFacts.gate()` checks UNAVAILABLE / POWERED_OFF / BUSY, and
only then yields chip calls: a refused command changes nothing. A handler
returns what its reply adds (`{"preset": ...}`, `{"cancelled": ...}`) or None;
the machine builds the reply with the state after the command. Seek and scan
answer at once (`busy`); a scan and a preset search go on as procedures of
their own (device.radio.sweep). Codes and payloads: docs/radio.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Final

from device.core.values import JsonDoc
from device.errors import CommandError
from device.link import LinkMap
from device.radio import commands, sweep, validate
from device.radio.band import BandPlan, band_plan, khz_to_mhz, regions_for
from device.radio.commands import RadioCommand
from device.radio.facts import RadioFacts, log
from device.radio.presets import Preset, clean_name
from device.radio.rds.fast import StationRds
from device.radio.state import Settings
from device.radio.steps import Notify, Proc, Steps, call

Handler = Callable[[RadioFacts, RadioCommand], Proc]


def _status(r: RadioFacts, req: RadioCommand) -> Proc:
    return None
    yield  # a generator with no step


def _power(r: RadioFacts, req: RadioCommand) -> Proc:
    on = validate.boolean(req.args.get("on", True), "on")
    r.gate(req)
    if on == r.settings.power:
        return None
    r.settings = replace(r.settings, power=on)
    if on:
        r.ready = False
        yield from sweep.bring_up(r)
        if not r.ready:
            raise CommandError("UNAVAILABLE", f"the tuner did not power up: {r.error}")
        return None
    try:
        yield from call("tuner.power", {"on": False})
    except CommandError:
        r.settings = replace(r.settings, power=True)
        raise
    r.rds.reset()
    r.publish_rds()
    r.publish_state()
    r.save_settings()
    return None


def _tune_and_publish(r: RadioFacts, khz: int) -> Steps[None]:
    yield from r.tune(khz)
    r.publish_state()
    r.event({"event": "tuned", "mhz": khz_to_mhz(khz)})
    r.save_settings()


def _tune(r: RadioFacts, req: RadioCommand) -> Proc:
    plan = r.plan_now()
    khz = validate.frequency_khz(plan, mhz=req.args.get("mhz"), khz=req.args.get("khz"))
    r.gate(req)
    yield from _tune_and_publish(r, khz)
    return None


def _step(r: RadioFacts, req: RadioCommand) -> Proc:
    plan = r.plan_now()
    d = commands.direction(req.args.get("dir", "up"))
    r.gate(req)
    current = r.settings.khz if r.settings.khz is not None else plan.first_khz
    yield from _tune_and_publish(r, plan.step(current, d, wrap=True))
    return None


def _seek(r: RadioFacts, req: RadioCommand) -> Proc:
    r.plan_now()
    up = commands.direction(req.args.get("dir", "up")) > 0
    wrap = validate.boolean(req.args.get("wrap", True), "wrap")
    r.gate(req)
    r.busy = "seek"
    r.user_seek = (up, wrap)
    r.cancelled = False
    r.start_retune()
    r.publish_rds()
    r.seek_result = None
    try:
        yield from call("tuner.seek", {"up": up, "wrap": wrap})
    except CommandError:
        r.busy = None
        r.user_seek = None
        r.retuning = False
        r.publish_state()
        raise
    r.counts["seeks"] += 1
    r.publish_state()  # the seek ends with the firmware's tuner.seek_done (RadioMachine)
    return None


def _cancel(r: RadioFacts, req: RadioCommand) -> Proc:
    r.gate(req)
    busy = r.busy
    r.cancelled = True
    if busy is not None:
        try:
            yield from call("tuner.cancel")
        except CommandError as e:
            log.warning("radio: cancel: %s", e.message)
    return {"cancelled": busy}


def _scan(r: RadioFacts, req: RadioCommand) -> Proc:
    r.plan_now()
    r.gate(req)
    r.busy = "scan"
    r.cancelled = False
    r.counts["scans"] += 1
    r.publish_state()
    r.spawned.append(sweep.run_scan(r))
    return None
    yield  # a generator with no step


def _volume(r: RadioFacts, req: RadioCommand) -> Proc:
    value, delta = req.args.get("value"), req.args.get("delta")
    if (value is None) == (delta is None):
        raise CommandError("BAD_VALUE", "give exactly one of value (0..15) or delta (-15..15)", field="value")
    vol = validate.volume(value) if value is not None else validate.volume_change(r.settings.volume, delta)
    r.gate(req)
    yield from _audio(r, {"volume": vol}, replace(r.settings, volume=vol))
    return None


def _mute(r: RadioFacts, req: RadioCommand) -> Proc:
    raw = req.args.get("on", True)
    on = (not r.settings.mute) if raw == "toggle" else validate.boolean(raw, "on")
    r.gate(req)
    yield from _audio(r, {"mute": on}, replace(r.settings, mute=on))
    return None


def _audio(r: RadioFacts, args: LinkMap, new: Settings) -> Steps[None]:
    yield from call("tuner.volume", args)
    r.settings = new
    r.publish_state()
    r.save_settings()


def _softmute(r: RadioFacts, req: RadioCommand) -> Proc:
    on = validate.boolean(req.args.get("on", True), "on")
    r.gate(req)
    yield from _config(r, {"softmute": on}, replace(r.settings, softmute=on))
    return None


def _mono(r: RadioFacts, req: RadioCommand) -> Proc:
    on = validate.boolean(req.args.get("on", True), "on")
    r.gate(req)
    yield from _config(r, {"mono": on}, replace(r.settings, mono=on))
    return None


def _deemphasis(r: RadioFacts, req: RadioCommand) -> Proc:
    us = validate.deemphasis_us(req.args.get("us"))
    r.gate(req)
    yield from _config(r, {"deemph": us}, replace(r.settings, deemphasis_us=us))
    return None


def _config(r: RadioFacts, args: LinkMap, new: Settings) -> Steps[None]:
    yield from call("tuner.config", args)
    r.settings = new
    r.publish_state()
    r.save_settings()


def _band(r: RadioFacts, req: RadioCommand) -> Proc:
    r.plan_now()
    region = req.args.get("region")
    chip = r.chip or "rda5807m"
    if not isinstance(region, str):
        raise CommandError("BAD_VALUE", f"region must be one of: {', '.join(regions_for(chip))}",
                           field="region", supported=list(regions_for(chip)))
    plan = band_plan(chip, region.strip().lower())
    r.gate(req)
    yield from _replan(r, plan, replace(r.settings, region=plan.region, spacing_khz=None, deemphasis_us=None))
    return None


def _spacing(r: RadioFacts, req: RadioCommand) -> Proc:
    current = r.plan_now()
    chip = r.chip or "rda5807m"
    khz = validate.spacing_khz(chip, req.args.get("khz"))
    plan = band_plan(chip, current.region, khz)
    r.gate(req)
    yield from _replan(r, plan, replace(r.settings, spacing_khz=khz))
    return None


def _replan(r: RadioFacts, plan: BandPlan, new: Settings) -> Steps[None]:
    """Program a new band plan and retune onto it (the nearest valid frequency)."""
    khz = r.settings.khz if r.settings.khz is not None else plan.first_khz
    below, above = plan.nearest(khz)
    target = below if below is not None else above
    assert target is not None
    yield from call("tuner.config", {
        "band": plan.band_code, "spacing": plan.spacing_code,
        "deemph": new.deemphasis_us or plan.deemphasis_us,
    })
    r.plan = plan
    r.settings = new
    r.rds = StationRds(rbds=plan.region == "us", rds_memory=r.rds_memory)
    if new.power:
        yield from r.tune(target)
    r.publish_state()
    r.publish_rds()
    if new.power:
        r.event({"event": "tuned", "mhz": khz_to_mhz(target)})
    r.save_settings()
    r.out.append(Notify("plan"))


# -- presets -------------------------------------------------------------------------------------
def _preset_set(r: RadioFacts, req: RadioCommand) -> Proc:
    book = r.presets
    slot = book.check_slot(req.args["slot"]) if req.args.get("slot") is not None else None
    name = clean_name(req.args["name"]) if req.args.get("name") is not None else None
    r.gate(req)
    khz = r.settings.khz
    if khz is None:
        raise CommandError("NO_STATION", "the radio is not tuned to anything yet")
    rds = r.rds.state
    here = book.at(khz, rds.pi)
    if slot is None:
        slot = here.slot if here is not None else book.free_slot()
    if name is None:
        ps = rds.ps.strip() if rds.ps else ""
        old = book.get(slot)
        name = ps or (old.name if old is not None and old.khz == khz else "") or f"{khz_to_mhz(khz)} MHz"
    preset = Preset(slot, name, khz, rds.pi)
    r.presets_changed(book.store(preset))
    r.last_preset = slot
    return {"preset": preset.as_dict()}
    yield  # a generator with no step


def _preset_delete(r: RadioFacts, req: RadioCommand) -> Proc:
    preset = r.presets.find(req.args)
    r.gate(req)
    r.presets_changed(r.presets.delete(preset.slot))
    return {"preset": preset.as_dict()}
    yield  # a generator with no step


def _preset_recall(r: RadioFacts, req: RadioCommand) -> Proc:
    plan = r.plan_now()
    return (yield from _recall(r, req, plan, r.presets.find(req.args)))


def _preset_next(r: RadioFacts, req: RadioCommand) -> Proc:
    return (yield from _step_preset(r, req, +1))


def _preset_prev(r: RadioFacts, req: RadioCommand) -> Proc:
    return (yield from _step_preset(r, req, -1))


def _step_preset(r: RadioFacts, req: RadioCommand, direction: int) -> Proc:
    plan = r.plan_now()
    book = r.presets
    current = book.at(r.settings.khz, r.rds.state.pi) if r.settings.khz is not None else None
    if current is None and r.last_preset is not None:
        current = book.get(r.last_preset)
    return (yield from _recall(r, req, plan, book.after(current, direction)))


def _recall(r: RadioFacts, req: RadioCommand, plan: BandPlan, preset: Preset) -> Proc:
    plan.check(preset.khz)
    r.gate(req)
    yield from _tune_and_publish(r, preset.khz)
    r.last_preset = preset.slot
    if preset.pi is not None:
        r.spawned.append(sweep.verify_preset(r, preset.slot))
    return {"preset": preset.as_dict()}


HANDLERS: Final[dict[str, Handler]] = {
    "status": _status, "power": _power, "tune": _tune, "step": _step, "seek": _seek, "cancel": _cancel,
    "scan": _scan, "volume": _volume, "mute": _mute, "softmute": _softmute, "mono": _mono,
    "deemphasis": _deemphasis, "band": _band, "spacing": _spacing, "preset_set": _preset_set,
    "preset_recall": _preset_recall, "preset_delete": _preset_delete, "preset_next": _preset_next,
    "preset_prev": _preset_prev,
}
assert set(HANDLERS) == set(commands.COMMANDS), "every command has a handler"


def reply_doc(r: RadioFacts, req: RadioCommand, extra: JsonDoc | None) -> JsonDoc:
    """The reply to a command that succeeded: ok, id, cmd, what it adds, the state after it."""
    doc: JsonDoc = {"ok": True}
    if req.id is not None:
        doc["id"] = req.id
    doc["cmd"] = req.cmd
    if extra:
        doc.update(extra)
    doc["state"] = r.state_doc()
    return doc


def error_doc(rid: str | int | None, cmd: str | None, e: CommandError) -> JsonDoc:
    doc: JsonDoc = {"ok": False}
    if rid is not None:
        doc["id"] = rid
    doc["cmd"] = cmd
    doc["code"] = e.code
    doc["message"] = e.message
    doc["details"] = {k: v for k, v in e.details.items() if isinstance(v, str | int | float | bool | list | None)}
    return doc
