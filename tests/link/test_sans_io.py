"""The link's protocol modules stay sans-IO: no serial, threading, time, socket or select."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LINK = Path(__file__).resolve().parents[2] / "device" / "link"
FORBIDDEN = {"serial", "threading", "time", "socket", "select", "asyncio", "paho"}


@pytest.mark.parametrize("module", ["__init__", "cobs", "frame", "messages", "session"])
def test_sans_io_module_imports_no_io(module: str) -> None:
    tree = ast.parse((LINK / f"{module}.py").read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
            if node.module == "device.link":
                names.update(a.name for a in node.names)
    assert not names & (FORBIDDEN | {"port"}), names & (FORBIDDEN | {"port"})
