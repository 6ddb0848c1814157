"""Drive `RadioMachine` with plain values: the tuner's answers as a pure function, time as a number.

`Play` feeds the machine one input at a time, answers each `ChipRequest` the way
the firmware would (docs/tuner-firmware.md) from a few stations, and keeps every
output. No thread, no clock, no link: a test says what time it is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from device.core.values import Json, JsonDoc
from device.errors import CommandError
from device.link import LinkMap, LinkValue
from device.radio.config import RadioConfig
from device.radio.machine import (
    ChipAnswered,
    CommandReceived,
    Input,
    LinkEventReceived,
    LinkStateChanged,
    RadioMachine,
    Started,
    Tick,
)
from device.radio.presets import Preset
from device.radio.state import Settings
from device.radio.steps import (
    ChipRequest,
    CommandReply,
    Output,
    PublishEvent,
    PublishState,
    SaveFile,
)

STATIONS = {88400: 63, 91700: 57, 99900: 60}


@dataclass
class Chip:
    """The tuner's state as the firmware would keep it; `answer()` is its reply to one request."""

    khz: int = 87500
    powered: bool = False
    fail: dict[str, CommandError] = field(default_factory=dict)
    rssi_override: int | None = None
    calls: list[tuple[str, LinkMap]] = field(default_factory=list)

    def status(self) -> LinkMap:
        rssi = STATIONS.get(self.khz, 8) if self.rssi_override is None else self.rssi_override
        return {"powered": self.powered, "khz": self.khz, "rssi": rssi, "snr": None, "stereo": rssi >= 30,
                "station": rssi >= 25, "busy": None}

    def answer(self, req: ChipRequest) -> LinkMap | CommandError:
        self.calls.append((req.method, dict(req.args)))
        if req.method in self.fail:
            return self.fail[req.method]
        if req.method == "tuner.info":
            return {"chip": "rda5807m"}
        if req.method == "tuner.power":
            self.powered = bool(req.args.get("on", True))
        elif req.method == "tuner.tune":
            khz = req.args["khz"]
            assert isinstance(khz, int)
            self.khz = khz
        elif req.method == "tuner.seek":
            return {"started": True}
        elif req.method not in ("tuner.status", "tuner.cancel"):
            return {}
        return self.status()

    def hardware_calls(self) -> list[str]:
        return [m for m, _ in self.calls if m not in ("tuner.status", "tuner.info")]


class Play:
    """One radio machine, its chip, the time, and everything it said."""

    def __init__(self, cfg: RadioConfig | None = None, now: float = 1000.0) -> None:
        self.cfg = cfg or RadioConfig(chip="rda5807m", frequency=88.4, status_interval=60)
        self.machine = RadioMachine(self.cfg)
        self.chip = Chip()
        self.now = now
        self.outputs: list[Output] = []
        self.answer_polls = True  # status polls answered at once; False: a test answers with answer_poll()

    def start(self, settings: Settings | None = None, presets: tuple[Preset, ...] = (),
              rds_memory: Json = None, link_up: bool = True) -> Play:
        settings = settings or Settings(khz=88400, region=self.cfg.region, volume=self.cfg.volume)
        self.send(Started(self.now, link_up, settings, presets, rds_memory))
        return self

    def send(self, inp: Input) -> list[Output]:
        """Feed `inp`, answer every chip request at once; the outputs it caused."""
        outs = self.machine.send(inp)
        done: list[Output] = []
        aside: list[ChipRequest] = []
        while outs:
            done.extend(outs)
            aside.extend(o for o in outs if isinstance(o, ChipRequest) and o.aside)
            last = outs[-1]
            if isinstance(last, ChipRequest) and not last.aside:
                outs = self.machine.send(ChipAnswered(self.now, self.chip.answer(last)))
            elif aside and self.answer_polls:
                outs = self.machine.send(ChipAnswered(self.now, self.chip.answer(aside.pop(0)), aside=True))
            else:
                outs = []
        self.outputs.extend(done)
        return done

    def answer_poll(self) -> list[Output]:
        """Answer the status poll held back (`answer_polls = False`)."""
        polls = [o for o in self.outputs if isinstance(o, ChipRequest) and o.aside]
        assert polls, "no status poll was asked for"
        return self.send(ChipAnswered(self.now, self.chip.answer(polls[-1]), aside=True))

    def at(self, now: float) -> list[Output]:
        """Time moves to `now`: a Tick."""
        self.now = now
        return self.send(Tick(now))

    def later(self, seconds: float) -> list[Output]:
        return self.at(self.now + seconds)

    def cmd(self, doc: JsonDoc | bytes) -> dict[str, Any]:
        raw = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
        replies = [o for o in self.send(CommandReceived(self.now, raw)) if isinstance(o, CommandReply)]
        assert len(replies) == 1, replies
        out: dict[str, Any] = json.loads(replies[0].payload)
        return out

    def event(self, name: str, data: LinkValue, now: float | None = None) -> list[Output]:
        return self.send(LinkEventReceived(self.now if now is None else now, name, data))

    def link(self, state: str) -> list[Output]:
        return self.send(LinkStateChanged(self.now, state))

    def rds(self, groups: list[tuple[int, int, int, int]], grades: list[int | None] | None = None) -> None:
        e: list[LinkValue] = list(grades) if grades is not None else [0, 0, None, None]
        for a, b, c, d in groups:
            self.event("rds", {"a": a, "b": b, "c": c, "d": d, "e": e})

    def seek_done(self, khz: int, **extra: LinkValue) -> list[Output]:
        self.chip.khz = khz
        return self.event("tuner.seek_done", {**self.chip.status(), "found": True, "band_limit": False,
                                              "cancelled": False, **extra})

    # -- what it said ------------------------------------------------------------------------------
    def states(self, entity: str = "radio") -> list[tuple[Json, JsonDoc]]:
        return [(o.value, o.extra or {}) for o in self.outputs if isinstance(o, PublishState) and o.entity == entity]

    def events(self) -> list[JsonDoc]:
        return [o.doc for o in self.outputs if isinstance(o, PublishEvent)]

    def saved(self, kind: str) -> dict[str, Any]:
        files = [o.doc for o in self.outputs if isinstance(o, SaveFile) and o.kind == kind]
        assert files, f"no {kind} saved"
        return files[-1]
