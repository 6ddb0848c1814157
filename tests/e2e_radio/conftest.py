"""Fixtures: a radio daemon (`pi2mqtt run --sim`) on a fresh Mosquitto."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e_radio.radiohost import RadioHost
from tests.mosquitto import Mosquitto

DEMO_RADIO: dict[str, Any] = {"chip": "rda5807m", "region": "europe", "frequency": 88.4, "volume": 8}


@pytest.fixture
def radio_host(broker: Mosquitto, tmp_path: Path) -> Iterator[Callable[..., RadioHost]]:
    """make(**radio_keys) -> a started RadioHost (the daemon is stopped afterwards)."""
    made: list[RadioHost] = []

    def make(start: bool = True, **radio: Any) -> RadioHost:
        host = RadioHost(broker.port, tmp_path, {**DEMO_RADIO, **radio})
        made.append(host)
        if start:
            host.start()
        return host

    yield make
    found: list[str] = []
    for h in made:
        if h.proc is not None and h.proc.poll() is None:
            found += h.control("chips/violations").get("value") or []  # hwsim.chips.datasheet
        h.close()
    assert not found, f"datasheet violations on the simulated chips: {found[:10]}"
