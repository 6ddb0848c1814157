"""A validated config made real: the daemon's parts (`build_all`), or the simulator's (`place_all`).

Both walk `device.components.registry.KINDS` over the configured entries, so a
kind is built and simulated from its own module and nowhere else. `place_all`
is what `--sim` hands to hwsim's pin factory (`device.app.pinfactory`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from device.components.kind import Kind
from device.components.registry import KINDS
from device.config.fragments import Section
from device.config.model import Config

if TYPE_CHECKING:
    from device.components.seams import Assembly, SimBench


def configured(cfg: Config) -> Iterator[tuple[Kind, Section]]:
    """Every configured entry with its kind, in the table's order."""
    for k in KINDS:
        value: object = getattr(cfg, k.key)
        entries = value if isinstance(value, list) else [] if value is None else [value]
        for entry in entries:
            assert isinstance(entry, Section)
            yield k, entry


def build_all(cfg: Config, parts: Assembly) -> None:
    """Every configured component and service, added to `parts` (the daemon; not opened yet)."""
    for k, entry in configured(cfg):
        if k.build is not None:
            k.build(entry, parts)


def place_all(cfg: Config, bench: SimBench) -> None:
    """Every configured device placed in the simulator, then the co-processor board."""
    for k, entry in configured(cfg):
        k.place(entry, bench)
    if cfg.coprocessor is not None:
        bench.coprocessor(baud=cfg.coprocessor.baud, reset_pin=cfg.coprocessor.reset_pin)
