"""A daemon in-process on gpiozero's MockFactory against the test's Mosquitto."""

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
def daemon_factory(broker: Mosquitto, mock_factory: MockFactory, tmp_path: Path) -> Iterator[Callable[..., Daemon]]:
    """`daemon_factory(doc, state="state", services=[...])`: a started Daemon; stopped after the test."""
    made: list[Daemon] = []

    def make(doc: dict[str, Any], *, state: str = "state", services: list[Any] | None = None) -> Daemon:
        doc.setdefault("device", {}).setdefault("id", "hatest")
        doc.setdefault("mqtt", {}).setdefault("url", broker.url)
        (tmp_path / state).mkdir(exist_ok=True)
        d = Daemon(parse_config(doc), pin_factory=mock_factory, state_dir=tmp_path / state)
        for s in services or []:
            d.add_service(s)
        d.start()
        made.append(d)
        return d

    yield make
    for d in made:
        d.stop()
