"""Fixtures for the daemon running in-process on gpiozero's MockFactory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory

from device.config import parse_config
from device.core.daemon import Daemon
from tests.mosquitto import Mosquitto


@pytest.fixture
def make_daemon(broker: Mosquitto, mock_factory: MockFactory, tmp_path: Path) -> Iterator[Callable[..., Daemon]]:
    """Build and start a Daemon from a config dict (broker URL filled in); stopped after."""
    started: list[Daemon] = []

    def make(doc: dict[str, Any], start: bool = True, **kwargs: Any) -> Daemon:
        doc.setdefault("device", {}).setdefault("id", "itest")
        doc.setdefault("mqtt", {}).setdefault("url", broker.url)
        cfg = parse_config(doc)
        d = Daemon(cfg, pin_factory=mock_factory, state_dir=kwargs.pop("state_dir", tmp_path / "state"), **kwargs)
        (tmp_path / "state").mkdir(exist_ok=True)
        if start:
            d.start()
        started.append(d)
        return d

    yield make
    for d in started:
        d.stop()
