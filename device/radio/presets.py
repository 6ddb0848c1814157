"""Radio presets: numbered slots holding a station (frequency, name, PI), pure logic.

Theory of operation
-------------------
A `Preset` is a frozen value: `slot` (1..max), `name`, `khz` and the station's PI
code when it was known. `PresetBook` is an immutable-style collection: every
change returns a new book, so the service can validate a change, persist it
and only then adopt it (a refused command changes nothing).

Lookups: by slot, by name (case-insensitive, surrounding spaces ignored), by
frequency; `after(slot, +1|-1)` walks the slots in order, wrapping, for
preset_next / preset_prev.

Tracking by PI: a station that moved keeps its PI. `relocate(slot, khz)` stores
the new frequency once the service found the PI elsewhere; `learn_pi` fills in
the PI of a preset stored before RDS had arrived.

Errors are `CommandError`: NOT_FOUND (no such slot or name), RANGE (slot out
of 1..max), BAD_VALUE (an empty or over-long name).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from device.core.values import Json, JsonDoc
from device.errors import CommandError
from device.radio.band import khz_to_mhz

MAX_NAME = 32


@dataclass(frozen=True)
class Preset:
    """One stored station."""

    slot: int
    name: str
    khz: int
    pi: int | None = None

    def as_dict(self) -> JsonDoc:
        return {"slot": self.slot, "name": self.name, "mhz": khz_to_mhz(self.khz),
                "pi": None if self.pi is None else f"{self.pi:04X}"}

    def to_json(self) -> JsonDoc:
        return {"slot": self.slot, "name": self.name, "khz": self.khz, "pi": self.pi}

    @classmethod
    def from_json(cls, doc: Json) -> Preset | None:
        """A preset from its stored form, or None if the entry is damaged."""
        if not isinstance(doc, dict):
            return None
        slot, name, khz, pi = doc.get("slot"), doc.get("name"), doc.get("khz"), doc.get("pi")
        if not (isinstance(slot, int) and isinstance(name, str) and isinstance(khz, int)):
            return None
        if pi is not None and not (isinstance(pi, int) and 0 <= pi <= 0xFFFF):
            pi = None
        return cls(slot, name[:MAX_NAME], khz, pi)


def clean_name(value: object) -> str:
    """A preset name: text, 1-32 characters after trimming."""
    if not isinstance(value, str) or not value.strip():
        raise CommandError("BAD_VALUE", "name must be a non-empty text", field="name")
    name = " ".join(value.split())
    if len(name) > MAX_NAME:
        raise CommandError("BAD_VALUE", f"name is longer than {MAX_NAME} characters", field="name")
    return name


@dataclass(frozen=True)
class PresetBook:
    """The presets, sorted by slot; changes return a new book."""

    presets: tuple[Preset, ...] = ()
    max_slots: int = 30

    @classmethod
    def of(cls, presets: Iterable[Preset], max_slots: int = 30) -> PresetBook:
        by_slot: dict[int, Preset] = {}
        for p in presets:
            if 1 <= p.slot <= max_slots:
                by_slot[p.slot] = p
        return cls(tuple(by_slot[s] for s in sorted(by_slot)), max_slots)

    def as_list(self) -> list[JsonDoc]:
        return [p.as_dict() for p in self.presets]

    def to_json(self) -> list[JsonDoc]:
        return [p.to_json() for p in self.presets]

    def check_slot(self, value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise CommandError("BAD_VALUE", f"slot must be a whole number 1..{self.max_slots}", field="slot")
        try:
            slot = int(value)
        except ValueError:
            raise CommandError("BAD_VALUE", f"slot must be a whole number 1..{self.max_slots}",
                               field="slot") from None
        if not 1 <= slot <= self.max_slots:
            raise CommandError("RANGE", f"slot {slot} is outside 1..{self.max_slots}",
                               field="slot", min=1, max=self.max_slots)
        return slot

    def get(self, slot: int) -> Preset | None:
        return next((p for p in self.presets if p.slot == slot), None)

    def by_name(self, name: str) -> Preset | None:
        want = " ".join(name.split()).casefold()
        return next((p for p in self.presets if p.name.casefold() == want), None)

    def at(self, khz: int, pi: int | None = None) -> Preset | None:
        """The preset for this frequency (and PI, when both are known)."""
        for p in self.presets:
            if p.khz == khz and (pi is None or p.pi is None or p.pi == pi):
                return p
        return None

    def find(self, args: JsonDoc) -> Preset:
        """The preset named by `slot` or `name` in a command; NOT_FOUND / BAD_VALUE otherwise."""
        if "slot" in args and args["slot"] is not None:
            slot = self.check_slot(args["slot"])
            p = self.get(slot)
            if p is None:
                raise CommandError("NOT_FOUND", f"preset slot {slot} is empty",
                                   slot=slot, slots=[q.slot for q in self.presets])
            return p
        if "name" in args and args["name"] is not None:
            name = clean_name(args["name"])
            p = self.by_name(name)
            if p is None:
                raise CommandError("NOT_FOUND", f"no preset is called {name!r}",
                                   name=name, names=[q.name for q in self.presets])
            return p
        raise CommandError("BAD_VALUE", "give the preset as slot (a number) or name", field="slot")

    def free_slot(self) -> int:
        used = {p.slot for p in self.presets}
        for s in range(1, self.max_slots + 1):
            if s not in used:
                return s
        raise CommandError("RANGE", f"all {self.max_slots} preset slots are in use; give a slot to replace",
                           field="slot", min=1, max=self.max_slots)

    def store(self, preset: Preset) -> PresetBook:
        return PresetBook.of([*(p for p in self.presets if p.slot != preset.slot), preset], self.max_slots)

    def delete(self, slot: int) -> PresetBook:
        return PresetBook.of([p for p in self.presets if p.slot != slot], self.max_slots)

    def relocate(self, slot: int, khz: int) -> PresetBook:
        p = self.get(slot)
        return self if p is None else self.store(replace(p, khz=khz))

    def learn_pi(self, khz: int, pi: int) -> PresetBook:
        """Fill in `pi` on presets at `khz` that have none (stored before RDS arrived)."""
        changed = [replace(p, pi=pi) if p.khz == khz and p.pi is None else p for p in self.presets]
        return PresetBook.of(changed, self.max_slots)

    def after(self, current: Preset | None, direction: int) -> Preset:
        """The next (direction +1) or previous (-1) preset in slot order, wrapping."""
        if not self.presets:
            raise CommandError("NOT_FOUND", "there are no presets; store one with preset_set")
        slots = [p.slot for p in self.presets]
        if current is None:
            return self.presets[0] if direction > 0 else self.presets[-1]
        if direction > 0:
            nxt = [p for p in self.presets if p.slot > current.slot]
            return nxt[0] if nxt else self.presets[0]
        prv = [p for p in self.presets if p.slot < current.slot]
        return prv[-1] if prv else self.presets[slots.index(slots[-1])]
