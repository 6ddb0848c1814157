"""Fixtures for the fault-injection suite (real Mosquitto instances, the daemon in-process
on gpiozero's MockFactory or as a `pi2mqtt run --sim` subprocess)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory, MockPWMPin

from tests.certs import Pki, find_openssl, make_pki


@pytest.fixture
def mock_factory() -> Iterator[MockFactory]:
    """A MockFactory with PWM-capable pins, set as default and restored after."""
    factory = MockFactory(pin_class=MockPWMPin)
    old = Device.pin_factory
    Device.pin_factory = factory
    yield factory
    Device.pin_factory = old
    factory.close()


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    if find_openssl() is None:
        pytest.skip("openssl is not installed")
    return make_pki(tmp_path_factory.mktemp("pki"))
