"""The config schemas are stdlib dataclasses: importing them (and a validated `Config`) does
not load pydantic; only validating does (device/config/fragments.py)."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

from device.config import load_config

ROOT = Path(__file__).resolve().parents[2]


def test_schemas_import_without_pydantic() -> None:
    code = ("import sys, device.config, device.config.checks, device.components.registry, "
            "device.radio.config; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'pydantic_core')))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_schemas_a_validated_config_unpickles_without_pydantic() -> None:
    cfg = load_config(ROOT / "examples" / "demo.toml")
    code = ("import pickle, sys; cfg = pickle.loads(sys.stdin.buffer.read()); "
            "print(cfg.device.id, len(cfg.entities()), 'pydantic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, input=pickle.dumps(cfg),
                         capture_output=True, check=True)
    assert out.stdout.decode().split() == [cfg.device.id, str(len(cfg.entities())), "False"]
