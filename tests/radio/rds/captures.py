"""Off-air RDS captures in tests/vectors/rds/ and what their source says they decode to."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from hwsim.chips.rds_groups import parse_groups

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "rds"


def expected() -> dict[str, dict[str, Any]]:
    """Capture name -> {field of the radio_rds document: the value the source states}."""
    doc = json.loads((VECTORS / "expected.json").read_text(encoding="utf-8"))
    return dict(doc["expected"])


def capture_path(name: str) -> Path:
    return VECTORS / f"{name}.spy"


def groups(name: str) -> list[tuple[int | None, ...]]:
    return parse_groups(capture_path(name).read_text(encoding="utf-8").splitlines())


def _same(field: str, want: Any, got: Any) -> bool:
    if field == "clock" and isinstance(got, str):
        return datetime.fromisoformat(got) == datetime.fromisoformat(want)
    if field in ("ps", "ptyn") and isinstance(got, str):
        return bool(got.strip() == want.strip())
    if field == "af" and isinstance(got, list):
        return sorted(got) == sorted(want)
    return bool(got == want)


def score(want: dict[str, Any], doc: dict[str, Any]) -> dict[str, bool]:
    """Field -> decoded as the source says."""
    return {field: _same(field, value, doc.get(field)) for field, value in want.items()}
