"""Run the firmware's modules and its tests under real MicroPython (Node.js + WebAssembly).

Each `tests/firmware/test_*.py` module runs twice: collected by pytest under
CPython, and here under MicroPython 1.27 through `tests/micropython/run.mjs`.
Every firmware module except the board entry points must import there too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUNNER = ROOT / "tests" / "micropython" / "run.mjs"
PKG = ROOT / "tests" / "micropython" / "node_modules" / "@micropython" / "micropython-webassembly-pyscript"
# Board entry points need the real `machine` module; everything else must import.
BOARD_MODULES = {"board_pico", "main", "boot"}

pytestmark = pytest.mark.micropython


def _node() -> str:
    node = shutil.which("node")
    if node is None or not PKG.exists():
        reason = "Node.js or the MicroPython npm package is missing (run `make micropython`)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return node


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_node(), str(RUNNER), str(ROOT), *args],
        cwd=RUNNER.parent, capture_output=True, text=True, timeout=300,
    )


def _firmware_test_modules() -> list[str]:
    return sorted(p.stem for p in (ROOT / "tests" / "firmware").glob("test_*.py"))


def _firmware_modules() -> list[str]:
    return sorted(
        p.stem for p in (ROOT / "firmware" / "p2mfw").glob("*.py")
        if p.stem not in BOARD_MODULES and p.stem != "__init__"
    )


@pytest.mark.parametrize("module", _firmware_test_modules())
def test_firmware_tests_pass_under_micropython(module: str) -> None:
    proc = _run(f"fwtests.{module}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " 0 failed" in proc.stdout and "FAIL" not in proc.stdout, proc.stdout
    assert "PASS" in proc.stdout, "no test ran:\n" + proc.stdout


def test_every_firmware_module_imports_under_micropython() -> None:
    mods = ["p2mfw." + m for m in _firmware_modules()] + ["hwsim.i2c"]
    mods += ["hwsim.chips." + p.stem for p in (ROOT / "hwsim" / "chips").glob("*.py") if p.stem != "__init__"]
    proc = _run("--import", *mods)
    assert proc.returncode == 0, proc.stdout + proc.stderr
