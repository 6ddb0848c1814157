"""Fixtures for the fault-injection suite (real Mosquitto instances, the daemon in-process
on gpiozero's MockFactory or as a `pi2mqtt run --sim` subprocess)."""

from __future__ import annotations

import pytest

from tests.certs import Pki, find_openssl, make_pki


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    if find_openssl() is None:
        pytest.skip("openssl is not installed")
    return make_pki(tmp_path_factory.mktemp("pki"))
