"""The link's protocol modules stay sans-IO: no serial, threading, time, socket or select.

The codec is one for both ends: `device.link` wraps the firmware's `p2mfw.cobs`,
`p2mfw.frame` and `p2mfw.proto`, so those are held to the same rule.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINK = ROOT / "device" / "link"
FIRMWARE = ROOT / "firmware" / "p2mfw"
FORBIDDEN = {"serial", "threading", "time", "socket", "select", "asyncio", "paho"}


@pytest.mark.parametrize(
    "path",
    [LINK / f"{m}.py" for m in ("__init__", "frame", "messages", "session")]
    + [FIRMWARE / f"{m}.py" for m in ("cobs", "frame", "proto")],
    ids=lambda p: f"{p.parent.name}.{p.stem}",
)
def test_sans_io_module_imports_no_io(path: Path) -> None:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
            if node.module == "device.link":
                names.update(a.name for a in node.names)
    assert not names & (FORBIDDEN | {"port"}), names & (FORBIDDEN | {"port"})
