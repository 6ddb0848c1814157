"""What a device kind declares: its config schema, its builder and its simulator wiring.

Each kind's module (button.py, bme280.py, radio.py, …) ends with one
``KIND = kind("button", ButtonConfig, build=..., place=...)``, as an ESPHome
component declares its schema and its `to_code`; `device.components.registry`
lists them. From that table `device.config.model.Config` takes its sections,
the daemon builds every configured entry (`build(cfg, assembly)`: the kind adds
its component or service to the daemon) and `--sim` places each entry in the
simulator (`place(cfg, bench)`).

`device.components.seams` types both seams: `Assembly` (the daemon, as a
builder sees it) and `SimBench` (the part of hwsim's `hwsim.bench.Bench` the
hooks call, with plain typed arguments; hwsim's class satisfies it structurally,
and the daemon imports hwsim only when `--sim` asks for it). Nothing here imports
gpiozero: validating a config does not load it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from device.config.fragments import Section

if TYPE_CHECKING:
    from device.components.seams import Assembly, SimBench

S = TypeVar("S", bound=Section)


class Kind:
    """One device kind (see the module docstring). `many`: a list of tables (`[[button]]`),
    else one optional table (`[radio]`). `build` is None for a part the daemon keeps for
    itself (the status LED)."""

    __slots__ = ("build", "key", "many", "place", "schema")

    def __init__(self, key: str, schema: type[Section], build: Callable[[Section, Assembly], None] | None,
                 place: Callable[[Section, SimBench], None], many: bool = True) -> None:
        self.key, self.schema, self.build, self.place, self.many = key, schema, build, place, many

    def __repr__(self) -> str:
        return f"Kind({self.key!r}, {self.schema.__name__})"


def kind(key: str, schema: type[S], *, build: Callable[[S, Assembly], None] | None,
         place: Callable[[S, SimBench], None], many: bool = True) -> Kind:
    """The `Kind` of `schema`; its functions take that schema's validated entries."""

    def typed(cfg: Section) -> S:
        if not isinstance(cfg, schema):
            raise TypeError(f"{key}: expected {schema.__name__}, got {type(cfg).__name__}")
        return cfg

    def build_one(cfg: Section, parts: Assembly) -> None:
        assert build is not None
        build(typed(cfg), parts)

    def place_one(cfg: Section, bench: SimBench) -> None:
        place(typed(cfg), bench)

    return Kind(key, schema, build_one if build is not None else None, place_one, many)
