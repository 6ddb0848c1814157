"""The values the parts exchange: JSON documents, a reading, a command.

* `Json` / `JsonDoc` — the one named type of a JSON value and of a JSON object
  (payloads, state documents, discovery documents, diagnostics).
* `Reading` — one value of one entity at one time, as a component reports it and
  the daemon publishes it (DESIGN.md's data flow: `Reading(entity, value, unit, ts)`).
* `Command` — one command as it arrived on `<base>/<entity>/set`, with where to
  answer it (the MQTT 5 response topic and correlation data, when given).

Frozen and compared by value, so tests assert on them directly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeAlias

# Read-only containers (covariant), so a list of documents or a dict of numbers is Json too.
Json: TypeAlias = "bool | int | float | str | Sequence[Json] | Mapping[str, Json] | None"
JsonDoc: TypeAlias = "dict[str, Json]"


@dataclass(frozen=True, slots=True)
class Reading:
    """One value of one entity: what `Daemon.publish` queues (with its next seq)."""

    entity: str
    value: Json
    ts: float
    unit: str | None = None
    error: str | None = None
    extra: JsonDoc | None = field(default=None, compare=True)


@dataclass(frozen=True, slots=True)
class Command:
    """One command for `entity`, and where its reply goes besides `…/set/reply`."""

    entity: str
    payload: bytes
    response_topic: str | None = None
    correlation: bytes | None = None
