"""Every device kind places a simulated device in hwsim (issue 11).

Adding a sensor kind and forgetting its simulator wiring would leave `--sim`
and the demo with an entity that never reads: each kind's module declares its
`place` hook (device/components/<kind>.py), and these tests call every hook
with a valid entry against a recording bench and then against hwsim's own.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from device.components.assemble import place_all
from device.components.kind import Kind
from device.components.registry import KINDS
from device.components.seams import SimBench
from device.config import adapter, parse_config
from device.config.fragments import Section
from device.config.model import DEVICE_KINDS, Config
from hwsim.bench import Bench
from hwsim.gpio import SimFactory

# One valid entry per kind (the smallest the schema takes), with pins that do not collide.
SAMPLES: dict[str, dict[str, object]] = {
    "button": {"name": "b", "pin": 17},
    "door": {"name": "d", "pin": 27},
    "motion": {"name": "m", "pin": 22},
    "light": {"name": "l", "pin": 18},
    "distance": {"name": "r", "echo": 24, "trigger": 23},
    "mcp3008": {"name": "a", "channel": 0},
    "cpu_temperature": {"name": "c"},
    "led": {"name": "led", "pin": 5},
    "pwm_led": {"name": "p", "pin": 12},
    "relay": {"name": "rel", "pin": 6},
    "bme280": {"name": "climate"},
    "status_led": {"pin": 25},
    "radio": {"name": "radio", "seek_up_pin": 16, "encoder_a_pin": 20, "encoder_b_pin": 21},
}


class Recorder:
    """A SimBench that notes which placement calls a hook made."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> object:
        if name not in SimBench.__dict__:
            raise AttributeError(name)
        return lambda *args, **kwargs: self.calls.append(name)


def _entry(k: Kind) -> Section:
    return adapter(k.schema).validate_python(SAMPLES[k.key])


@pytest.mark.parametrize("k", KINDS, ids=[k.key for k in KINDS])
def test_wiring_every_kind_places_a_simulated_device(k: Kind) -> None:
    assert k.key in SAMPLES, f"add a sample entry for the new kind {k.key!r} to this test"
    bench = Recorder()
    k.place(_entry(k), bench)  # type: ignore[arg-type]
    assert bench.calls, f"the {k.key!r} kind places nothing in hwsim (its module's `place` hook)"


def test_wiring_the_table_and_the_config_agree() -> None:
    """Each kind is one section of Config, typed with the kind's schema, in the table's order."""
    fields = {f.name: str(f.type) for f in dataclasses.fields(Config)}
    for k in KINDS:
        assert k.key in fields, f"Config has no section for the kind {k.key!r}"
        shown = fields[k.key]
        assert k.schema.__name__ in shown and (("list[" in shown) == k.many), (k.key, shown)
    assert list(DEVICE_KINDS) == [k.key for k in KINDS if k.many]


def test_wiring_places_every_kind_in_hwsim(tmp_path: Path) -> None:
    data: dict[str, object] = {k.key: [SAMPLES[k.key]] if k.many else SAMPLES[k.key] for k in KINDS}
    data["coprocessor"] = {"reset_pin": 4}
    cfg = parse_config(data)
    benches: list[Bench] = []

    def place(bench: Bench) -> None:
        benches.append(bench)
        place_all(cfg, bench)

    factory = SimFactory(place=place, directory=tmp_path, seed=1)
    try:
        sim = factory.sim
        names = {e.name for _, e in cfg.entities() if _ != "bme280"}
        assert names - set(sim.outputs()) <= set(sim.devices())
        assert {"radio_seek_up", "radio_encoder"} <= set(sim.devices())
        assert "status_led" in sim.outputs()
        assert benches[0].used[4] == "the co-processor reset line"
        assert "climate/stuck" in sim.control.paths()
    finally:
        factory.close()
