"""The radio's commands: `command(payload) -> reply`, one `_cmd_<name>` per command.

Each handler validates its arguments first (device.radio.validate, band
plans, presets), then `_gate()` checks UNAVAILABLE / POWERED_OFF / BUSY, and
only then touches the tuner: a refused command changes nothing. Replies carry
the state after the command; `command()` never raises (an unexpected
exception is logged and answered INTERNAL). Codes and payloads: docs/radio.md.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from device.errors import CommandError
from device.mqtt.payloads import dumps
from device.radio import commands, validate
from device.radio.band import BandPlan, band_plan, khz_to_mhz, regions_for
from device.radio.commands import RadioCommand
from device.radio.core import RadioCore, log
from device.radio.presets import Preset, clean_name
from device.radio.rds.fast import StationRds


class RadioCommands(RadioCore):
    """The command handlers (see the module docstring)."""

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

    def _gate(self, req: RadioCommand) -> None:
        """UNAVAILABLE / POWERED_OFF / BUSY checks (after argument validation)."""
        with self._lock:
            self._gate_locked(req)

    def _gate_locked(self, req: RadioCommand) -> None:
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
                self._gate_locked(commands.RadioCommand("status", None, {}))
            return self._plan

    def _cmd_status(self, req: RadioCommand) -> None:
        return None

    def _cmd_power(self, req: RadioCommand) -> None:
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
            self._publish_state()
            self._event({"event": "tuned", "mhz": khz_to_mhz(khz)})
            self._save_settings()

    def _cmd_tune(self, req: RadioCommand) -> None:
        plan = self._plan_now()
        khz = validate.frequency_khz(plan, mhz=req.args.get("mhz"), khz=req.args.get("khz"))
        self._gate(req)
        self._tune_and_publish(khz)

    def _cmd_step(self, req: RadioCommand) -> None:
        plan = self._plan_now()
        d = commands.direction(req.args.get("dir", "up"))
        self._gate(req)
        with self._lock:
            current = self._settings.khz if self._settings.khz is not None else plan.first_khz
        self._tune_and_publish(plan.step(current, d, wrap=True))

    def _cmd_seek(self, req: RadioCommand) -> None:
        self._plan_now()
        up = commands.direction(req.args.get("dir", "up")) > 0
        wrap = validate.boolean(req.args.get("wrap", True), "wrap")
        self._start_seek(req, up, wrap)
        return None

    def _start_seek(self, req: RadioCommand, up: bool, wrap: bool) -> None:
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

    def _cmd_cancel(self, req: RadioCommand) -> dict[str, Any]:
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

    def _cmd_scan(self, req: RadioCommand) -> None:
        self._plan_now()
        with self._lock:
            self._gate_locked(req)
            self._busy = "scan"
            self._cancel.clear()
            self._counts["scans"] += 1
            self._publish_state()
        self._jobs.put(("scan", None))

    def _cmd_volume(self, req: RadioCommand) -> None:
        has_v, has_d = req.args.get("value") is not None, req.args.get("delta") is not None
        if has_v == has_d:
            raise CommandError("BAD_VALUE", "give exactly one of value (0..15) or delta (-15..15)",
                               field="value")
        with self._lock:
            current = self._settings.volume
        vol = validate.volume(req.args["value"]) if has_v else validate.volume_change(current, req.args["delta"])
        self._gate(req)
        self._audio(volume=vol)

    def _cmd_mute(self, req: RadioCommand) -> None:
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

    def _cmd_softmute(self, req: RadioCommand) -> None:
        on = validate.boolean(req.args.get("on", True), "on")
        self._gate(req)
        self._config({"softmute": on}, softmute=on)

    def _cmd_mono(self, req: RadioCommand) -> None:
        on = validate.boolean(req.args.get("on", True), "on")
        self._gate(req)
        self._config({"mono": on}, mono=on)

    def _cmd_deemphasis(self, req: RadioCommand) -> None:
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

    def _cmd_band(self, req: RadioCommand) -> None:
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

    def _cmd_spacing(self, req: RadioCommand) -> None:
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
                self._rds = StationRds(rbds=plan.region == "us", rds_memory=self._rds_memory)
            if new.power:
                self._tune_io(target)
        with self._lock:
            self._publish_state()
            self._publish_rds()
            if new.power:
                self._event({"event": "tuned", "mhz": khz_to_mhz(target)})
            self._save_settings()
        self._plan_changed()

    # -- presets -------------------------------------------------------------------------------
    def _cmd_preset_set(self, req: RadioCommand) -> dict[str, Any]:
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

    def _cmd_preset_delete(self, req: RadioCommand) -> dict[str, Any]:
        with self._lock:
            book = self._presets
        preset = book.find(req.args)
        self._gate(req)
        self._presets_changed(book.delete(preset.slot))
        return {"preset": preset.as_dict()}

    def _cmd_preset_recall(self, req: RadioCommand) -> dict[str, Any]:
        plan = self._plan_now()
        with self._lock:
            preset = self._presets.find(req.args)
        return self._recall(req, plan, preset)

    def _cmd_preset_next(self, req: RadioCommand) -> dict[str, Any]:
        return self._step_preset(req, +1)

    def _cmd_preset_prev(self, req: RadioCommand) -> dict[str, Any]:
        return self._step_preset(req, -1)

    def _step_preset(self, req: RadioCommand, direction: int) -> dict[str, Any]:
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

    def _recall(self, req: RadioCommand, plan: BandPlan, preset: Preset) -> dict[str, Any]:
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
