"""The table of device kinds: each kind is one module, builds its part, and stays light.

`tests/hwsim/test_wiring.py` checks the simulator side (every kind places a device);
these check the daemon side through the same table.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from device.components.base import Component
from device.components.kind import Kind
from device.components.registry import KINDS
from device.config import adapter
from device.config.fragments import Entity
from device.core.services import Service
from tests.hwsim.test_wiring import SAMPLES

ROOT = Path(__file__).resolve().parents[2]


class Parts:
    """An Assembly that keeps what the builders add (no pins, no link)."""

    pin_factory = None
    link = None

    def __init__(self) -> None:
        self.components: list[Component] = []
        self.services: list[Service] = []

    def add_component(self, comp: Component) -> None:
        self.components.append(comp)

    def add_service(self, service: Service) -> None:
        self.services.append(service)


@pytest.mark.parametrize("k", KINDS, ids=[k.key for k in KINDS])
def test_kind_lives_in_one_module_named_after_it(k: Kind) -> None:
    assert k.schema.__module__ in (f"device.components.{k.key}", "device.config.radio_schema")
    assert k.build is None or k.build.__module__ == "device.components.kind"


@pytest.mark.parametrize("k", [k for k in KINDS if k.build is not None], ids=lambda k: k.key)
def test_kind_builds_one_part_named_after_its_entry(k: Kind) -> None:
    entry = adapter(k.schema).validate_python(SAMPLES[k.key])
    parts = Parts()
    assert k.build is not None
    k.build(entry, parts)  # type: ignore[arg-type]
    built = [*parts.components, *parts.services]
    assert len(built) == 1, built
    if isinstance(entry, Entity):
        assert parts.components[0].name == entry.name and parts.components[0].kind == k.key
    else:
        assert parts.services[0].name == entry.name


def test_kind_validating_a_config_loads_no_gpio_backend_no_link_no_simulator() -> None:
    code = ("import sys; from device.config import load_config; "
            "load_config('examples/demo.toml'); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('gpiozero', 'hwsim', 'serial') "
            "or m.startswith('device.link') or m.startswith('device.core.daemon')))")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
