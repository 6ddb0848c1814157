"""Shared fixtures: a real Mosquitto per test, MQTT subscribers that await messages."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory, MockPWMPin

from hwsim.chips import datasheet
from tests.mosquitto import Mosquitto, find_mosquitto
from tests.mqttwait import Subscriber

IN_CI = os.environ.get("CI", "").lower() == "true"
# Every daemon a test starts gets its own state directory (its config's state_dir, or a
# STATE_DIRECTORY the test passes): never the one of the shell running the suite.
os.environ.pop("STATE_DIRECTORY", None)


@pytest.fixture(autouse=True)
def no_datasheet_violations() -> Iterator[None]:
    """Fail any test after which a chip model holds a datasheet violation (hwsim.chips.datasheet).

    A test that provokes one on purpose takes it with `model.take_violations()`.
    """
    datasheet.reset()
    yield
    found = datasheet.pending()
    datasheet.reset()
    assert not found, "datasheet violations on the simulated chips: " + "; ".join(found[:10])


def require_mosquitto() -> str:
    """Return the mosquitto binary, or skip (fail under CI=true) when it is missing."""
    binary = find_mosquitto()
    if binary is None:
        if IN_CI:
            pytest.fail("mosquitto is required under CI=true but is not installed")
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    return binary


@pytest.fixture
def mosquitto_factory(tmp_path: Path) -> Iterator[object]:
    """Make brokers with custom config: `mosquitto_factory(extra=..., allow_anonymous=...)`."""
    binary = require_mosquitto()
    started: list[Mosquitto] = []

    def make(name: str = "broker", **kwargs: object) -> Mosquitto:
        b = Mosquitto(tmp_path / name, binary=binary, **kwargs)  # type: ignore[arg-type]
        b.start()
        started.append(b)
        return b

    yield make
    for b in started:
        b.stop()


@pytest.fixture
def broker(mosquitto_factory: object) -> Mosquitto:
    """A plain, anonymous Mosquitto on a free loopback port."""
    return mosquitto_factory()  # type: ignore[operator,no-any-return]


@pytest.fixture
def subscriber(broker: Mosquitto) -> Iterator[Subscriber]:
    """A paho subscriber on `broker` that records messages and lets tests await them."""
    sub = Subscriber(broker.port)
    sub.connect()
    yield sub
    sub.close()


@pytest.fixture
def mock_factory() -> Iterator[MockFactory]:
    """A MockFactory with PWM-capable pins, set as default and restored after."""
    factory = MockFactory(pin_class=MockPWMPin)
    old = Device.pin_factory
    Device.pin_factory = factory
    yield factory
    Device.pin_factory = old
    factory.close()
