"""The radio as a sans-IO state machine: inputs in, outputs (device.radio.steps) out.

Theory of operation
-------------------
`RadioMachine.send(input)` takes one input and returns what the adapter must
do, in order. Inputs are frozen values, each with the time `now` (monotonic
seconds) it happened; the machine reads no clock, starts no thread, takes no
lock and touches no link or file:

* `Started` — the link's state and what was saved (settings, presets, RDS memory);
* `CommandReceived` — a command payload (`<name>/set`); answered by a `CommandReply`;
* `ChipAnswered` — the result of the last `ChipRequest` (or its `CommandError`);
* `LinkEventReceived` — an event from the co-processor: `rds` groups,
  `tuner.seek_progress`, `tuner.seek_done`, `tuner.error`;
* `LinkStateChanged` — the link went up or down;
* `Tick` — time passed (the adapter sends one at `deadline`);
* `Stopping` — the daemon closes; the settings are saved.

Everything the machine does is a procedure: a generator of steps
(device.radio.steps). A command's procedure (device.radio.ops) runs from the
command's input until it returns; its reply is the last output. Longer
procedures (bring-up, status poll, scan, preset search, seek fix-up:
device.radio.sweep) run one at a time, in the order asked; while one waits
(`Wait`: RDS, a seek's end, a time limit), other inputs are taken — RDS,
status, and the commands allowed while busy (cancel, volume, mute,
preset_delete, status).

The adapter's one rule: after a `ChipRequest` (always the last output of a
batch), the next input is its `ChipAnswered`. So the tuner sees one operation
at a time. The exception is the idle status poll (`ChipRequest(aside=True)`,
at most one out): the adapter makes it beside the rest and answers it when it
can (`ChipAnswered(aside=True)`), so a command never waits for a poll; an
answer overtaken by a tune or seek is dropped.

RDS groups that arrived before the tuner last moved (`now` earlier than the
answer to the tune), or while a seek runs, belong to the last station and are
dropped.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field, replace

from device.core.values import Json, JsonDoc
from device.errors import CommandError
from device.link import LinkMap, LinkValue
from device.mqtt.payloads import dumps
from device.radio import commands, sweep
from device.radio.band import khz_to_mhz
from device.radio.config import RadioConfig
from device.radio.facts import RadioFacts, rds_event_doc
from device.radio.ops import HANDLERS, error_doc, reply_doc
from device.radio.presets import Preset, PresetBook
from device.radio.rds.decoder import AfListChanged, PiChanged
from device.radio.rds.fast import StationRds
from device.radio.rds.memory import RdsMemory
from device.radio.state import Settings
from device.radio.steps import Call, ChipRequest, CommandReply, Output, Proc, Wait

log = logging.getLogger("pi2mqtt.radio")


# -- inputs ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Started:
    """The service starts: the link's state and what was saved."""

    now: float
    link_up: bool
    settings: Settings
    presets: tuple[Preset, ...] = ()
    rds_memory: Json = None


@dataclass(frozen=True)
class CommandReceived:
    now: float
    payload: bytes


@dataclass(frozen=True)
class ChipAnswered:
    """The answer to the last ChipRequest: its result, or the error it failed with."""

    now: float
    result: LinkMap | CommandError = field(default_factory=dict)
    aside: bool = False


@dataclass(frozen=True)
class LinkEventReceived:
    now: float
    name: str
    data: LinkValue


@dataclass(frozen=True)
class LinkStateChanged:
    now: float
    state: str


@dataclass(frozen=True)
class Tick:
    now: float


@dataclass(frozen=True)
class Stopping:
    now: float


Input = Started | CommandReceived | ChipAnswered | LinkEventReceived | LinkStateChanged | Tick | Stopping


@dataclass
class _Task:
    """A running procedure: the command it answers, or the wait it is parked in."""

    gen: Proc
    command: commands.RadioCommand | None = None
    waiting: Wait | None = None
    deadline: float = 0.0


class RadioMachine:
    """The radio's logic; see the module docstring."""

    def __init__(self, cfg: RadioConfig) -> None:
        self.state = RadioFacts(cfg)
        self._awaiting: _Task | None = None  # the task whose ChipRequest is outstanding
        self._proc: _Task | None = None  # the long procedure in hand
        self._queue: deque[Proc] = deque()
        self._next_poll = 0.0
        self._poll_out: int | None = None  # the generation a status poll was asked at, while it is out

    @property
    def deadline(self) -> float | None:
        """When the machine wants a `Tick` (None: only when something happens)."""
        if self._awaiting is not None:
            return None
        if self._proc is not None:
            return self._proc.deadline if self._proc.waiting is not None else None
        return self._next_poll if self._poll_out is None else None

    def send(self, inp: Input) -> list[Output]:
        """Take one input; what the adapter must do, in order."""
        r = self.state
        if self._awaiting is not None and not (isinstance(inp, ChipAnswered) and not inp.aside):
            raise RuntimeError(f"{type(inp).__name__} while a chip request is outstanding")
        r.now = max(r.now, inp.now)
        if isinstance(inp, ChipAnswered) and inp.aside:
            self._polled(inp.result)
        elif isinstance(inp, ChipAnswered):
            self._answered(inp)
        elif isinstance(inp, CommandReceived):
            self._command(inp.payload)
        elif isinstance(inp, LinkEventReceived):
            self._link_event(inp)
        elif isinstance(inp, LinkStateChanged):
            self._link_state(inp.state)
        elif isinstance(inp, Started):
            self._started(inp)
        elif isinstance(inp, Stopping):
            self._stopping()
            return self._drain()
        self._pump()
        return self._drain()

    def _drain(self) -> list[Output]:
        out, self.state.out = self.state.out, []
        return out

    # -- running procedures ----------------------------------------------------------------------
    def _advance(self, task: _Task, value: LinkMap | bool | None, error: CommandError | None = None) -> None:
        """Resume `task` until its next chip call, its next wait, or its end."""
        r = self.state
        try:
            if error is not None:
                step = task.gen.throw(error)
            else:
                step = next(task.gen) if value is None else task.gen.send(value)
        except StopIteration as stop:
            self._finish(task, stop.value, None)
            return
        except CommandError as e:
            self._finish(task, None, e)
            return
        except Exception as e:  # a bug: answer INTERNAL, keep the radio going
            log.exception("radio: %s failed", task.command.cmd if task.command else "a procedure")
            self._finish(task, None, CommandError("INTERNAL", f"{type(e).__name__}: {e}"))
            return
        if isinstance(step, Call):
            self._awaiting = task
            r.out.append(ChipRequest(step.method, step.args))
        else:
            task.waiting = step
            task.deadline = r.now + step.seconds

    def _finish(self, task: _Task, extra: JsonDoc | None, error: CommandError | None) -> None:
        r = self.state
        if task is self._proc:
            self._proc = None
            if error is not None:
                log.warning("radio: a procedure stopped: %s: %s", error.code, error.message)
        req = task.command
        if req is None:
            return
        if error is None:
            doc = reply_doc(r, req, extra)
        else:
            if error.code != "INTERNAL":
                r.counts["refused"] += 1
                log.info("radio: %s refused: %s: %s", req.cmd, error.code, error.message)
            doc = error_doc(req.id, req.cmd, error)
        r.out.append(CommandReply(dumps(doc)))

    def _pump(self) -> None:
        """Resume a parked procedure whose wait is over; start the next one; poll when idle."""
        r = self.state
        while self._awaiting is None:
            self._queue.extend(r.spawned)
            r.spawned.clear()
            task = self._proc
            if task is not None:
                wait = task.waiting
                if wait is None:
                    return
                if wait.until():
                    ok = True
                elif r.now >= task.deadline or r.stopped():
                    ok = False
                else:
                    return
                task.waiting = None
                self._advance(task, ok)
            elif self._queue:
                self._proc = _Task(self._queue.popleft())
                self._advance(self._proc, None)
            elif r.now >= self._next_poll and self._poll_out is None:
                self._next_poll = r.now + r.cfg.status_interval
                request = sweep.poll_request(r)
                if request is not None:
                    self._poll_out = r.generation
                    r.out.append(request)
                if not r.spawned:
                    return
            else:
                return

    def _polled(self, result: LinkMap | CommandError) -> None:
        generation, self._poll_out = self._poll_out, None
        if generation is None:
            raise RuntimeError("ChipAnswered(aside=True) without a status poll")
        sweep.poll_answer(self.state, result, generation)

    def _answered(self, inp: ChipAnswered) -> None:
        task = self._awaiting
        if task is None:
            raise RuntimeError("ChipAnswered without a chip request")
        self._awaiting = None
        if isinstance(inp.result, CommandError):
            self._advance(task, None, inp.result)
        else:
            self._advance(task, inp.result)

    # -- inputs ----------------------------------------------------------------------------------
    def _started(self, inp: Started) -> None:
        r = self.state
        r.settings = inp.settings
        r.plan = r.plan_or_default(r.chip or "rda5807m", r.settings)
        r.presets = PresetBook.of(inp.presets, r.cfg.max_presets)
        r.rds_memory = RdsMemory.from_json(inp.rds_memory)
        r.rds = StationRds(rbds=r.plan.region == "us", rds_memory=r.rds_memory)
        r.link_state = "up" if inp.link_up else "down"
        r.publish_state()
        r.publish_presets()
        self._next_poll = r.now + r.cfg.status_interval
        if inp.link_up:
            r.spawned.append(sweep.bring_up(r))

    def _command(self, payload: bytes) -> None:
        r = self.state
        rid, cmd = commands.request_id(payload)
        try:
            req = commands.parse(payload)
        except CommandError as e:
            r.counts["refused"] += 1
            log.info("radio: %s refused: %s: %s", cmd, e.code, e.message)
            r.out.append(CommandReply(dumps(error_doc(rid, cmd, e))))
            return
        r.counts["commands"] += 1
        self._advance(_Task(HANDLERS[req.cmd](r, req), command=req), None)

    def _link_state(self, state: str) -> None:
        r = self.state
        r.link_state = state
        if state != "up":
            r.ready = False
            r.busy = None
            r.user_seek = None
            r.retuning = False
            r.cancelled = True
        r.publish_state()
        if state == "up":
            r.spawned.append(sweep.bring_up(r))

    def _link_event(self, inp: LinkEventReceived) -> None:
        r, data = self.state, inp.data
        if not isinstance(data, dict):
            return
        if inp.name == "rds":
            self._rds(data, inp.now)
        elif inp.name == "tuner.seek_progress":
            khz = data.get("khz")
            if isinstance(khz, int):
                r.settings = replace(r.settings, khz=khz)
                if r.busy != "scan":
                    r.event({"event": "seek_progress", "mhz": khz_to_mhz(khz), "busy": r.busy})
        elif inp.name == "tuner.seek_done":
            self._seek_done(data)
        elif inp.name == "tuner.error":
            code, message = data.get("code"), data.get("message")
            log.warning("radio: tuner error %s: %s", code, message)
            r.event({"event": "error", "code": code if isinstance(code, str) else None,
                     "message": message if isinstance(message, str) else None})

    def _rds(self, data: LinkMap, arrived: float) -> None:
        r = self.state
        words = [data.get(k) for k in "abcd"]
        ints = [w for w in words if isinstance(w, int)]
        if len(ints) != 4 or r.retuning or not r.ready or arrived < r.rds_since:
            return
        raw = data.get("e")
        grades = [g if isinstance(g, int) else None for g in raw] if isinstance(raw, list) else None
        r.counts["rds_groups"] += 1
        a, b, c, d = ints
        events = r.rds.feed(a, b, c, d, errors=grades, rssi=r.signal.rssi, now=r.now)
        if not events:
            return
        khz = r.settings.khz
        learn: PresetBook | None = None
        for ev in events:
            if isinstance(ev, PiChanged) and khz is not None:
                r.known.setdefault(ev.pi, set()).add(khz)
                book = r.presets.learn_pi(khz, ev.pi)
                if book != r.presets:
                    learn = book
            elif isinstance(ev, AfListChanged) and r.rds.state.pi is not None:
                r.known.setdefault(r.rds.state.pi, set()).update(ev.frequencies_khz)
        if r.busy != "scan":
            r.publish_rds()
            for ev in events:
                doc = rds_event_doc(ev)
                if doc is not None:
                    r.event(doc)
            if any(isinstance(ev, PiChanged) for ev in events):
                r.publish_state()  # the preset name may depend on the PI
        if learn is not None:
            r.presets_changed(learn)

    def _seek_done(self, data: LinkMap) -> None:
        r = self.state
        r.seek_result = data
        r.end_retune()
        r.apply_status(data, quiet=True)
        if r.busy != "seek" or r.user_seek is None:
            return  # a procedure's seek: it is waiting for seek_result
        khz = data.get("khz")
        if (isinstance(khz, int) and not r.plan.on_raster(khz)
                and not data.get("cancelled") and not data.get("error")):
            r.spawned.append(sweep.fix_seek_stop(r, data))  # off the raster (US on the RDA5807M): go on
            return
        r.finish_seek(data)

    def _stopping(self) -> None:
        r = self.state
        r.closing = True
        if self._proc is not None:
            self._proc.gen.close()
            self._proc = None
        for proc in [*self._queue, *r.spawned]:
            proc.close()
        self._queue.clear()
        r.spawned.clear()
        r.save_settings()

    # -- what the adapter may read between inputs --------------------------------------------------
    def band_limits(self) -> tuple[float, float, float]:
        p = self.state.plan
        return p.first_mhz, p.last_mhz, p.step_khz / 1000

    def presets(self) -> list[JsonDoc]:
        return self.state.presets.as_list()

    def diagnostics(self) -> JsonDoc:
        r = self.state
        stats = r.rds.stats
        return {**r.counts, "ready": r.ready, "chip": r.chip, "busy": r.busy, "error": r.error,
                "rds": {"groups": stats.groups, "used": stats.groups_used, "bad_b": stats.groups_bad_b,
                        "names_remembered": r.rds_memory.names()}}

