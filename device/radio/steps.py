"""What the radio machine asks of its adapter, and the steps its procedures take (plain values).

Outputs (`RadioMachine.send()` returns them in order; see device.radio.machine):

* `ChipRequest(method, args)` — call the tuner's link method; the adapter answers
  with `ChipAnswered` before anything else. It is always the last output of a batch.
  The one exception is the idle status poll, `aside=True`: the adapter makes that
  call beside the others (so a command never waits for a poll) and answers it
  later with `ChipAnswered(aside=True)`.
* `PublishState(entity, value, extra, unit)` — a retained state document
  (`<name>`, `<name>_rds`, `<name>_presets`).
* `PublishEvent(doc)` — an event on `<name>/event` (the adapter stamps `ts`).
* `CommandReply(payload)` — the JSON reply to the command being handled.
* `SaveFile(kind, doc)` — write `settings`, `presets` or `rds_memory` to the state directory.
* `Notify(what)` — tell the listeners that the `presets` or the band `plan` changed.

A procedure (a command, the bring-up, a scan, a preset search) is a generator of
steps: it yields `Call(method, args)` and is resumed with the chip's answer (or a
`CommandError` thrown in), or yields `Wait(until, seconds)` and is resumed with
True when `until()` holds, False when the time ran out, the operation was
cancelled or the link went down. `call()` and `wait()` give those results their
types: `st = yield from call("tuner.tune", {...})`.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Literal, TypeAlias, TypeVar

from device.core.values import Json, JsonDoc
from device.link import LinkMap


@dataclass(frozen=True)
class ChipRequest:
    """Call the tuner's link method `method` with `args` (docs/tuner-firmware.md)."""

    method: str
    args: LinkMap = field(default_factory=dict)
    aside: bool = False


@dataclass(frozen=True)
class PublishState:
    """A state document on `<base>/<entity>` (retained, through the outbox)."""

    entity: str
    value: Json
    extra: JsonDoc | None = None
    unit: str | None = None


@dataclass(frozen=True)
class PublishEvent:
    """An event on `<base>/<name>/event`."""

    doc: JsonDoc


@dataclass(frozen=True)
class CommandReply:
    """The reply to the command in hand (JSON bytes)."""

    payload: bytes


@dataclass(frozen=True)
class SaveFile:
    """Persist `doc` as the radio's `kind` file."""

    kind: Literal["settings", "presets", "rds_memory"]
    doc: JsonDoc


@dataclass(frozen=True)
class Notify:
    """The presets or the band plan changed (Home Assistant discovery listens)."""

    what: Literal["presets", "plan"]


Output: TypeAlias = ChipRequest | PublishState | PublishEvent | CommandReply | SaveFile | Notify


@dataclass(frozen=True)
class Call:
    """Step: call a tuner method; resumed with its result."""

    method: str
    args: LinkMap = field(default_factory=dict)


@dataclass(frozen=True)
class Wait:
    """Step: wait until `until()` or `seconds` passed; resumed with True / False."""

    until: Callable[[], bool]
    seconds: float


Step: TypeAlias = Call | Wait
T = TypeVar("T")
Steps: TypeAlias = Generator[Step, "LinkMap | bool", T]
"""Steps that end with a `T`."""
Proc: TypeAlias = Generator[Step, "LinkMap | bool", "JsonDoc | None"]
"""A procedure: yields steps, returns what a command adds to its reply (or None)."""


def call(method: str, args: LinkMap | None = None) -> Steps[LinkMap]:
    """`st = yield from call(...)`: the chip's answer (CommandError if it failed)."""
    result = yield Call(method, args or {})
    return result if isinstance(result, dict) else {}


def wait(until: Callable[[], bool], seconds: float) -> Steps[bool]:
    """`ok = yield from wait(...)`: True if `until()` came true in time."""
    result = yield Wait(until, seconds)
    return result is True
