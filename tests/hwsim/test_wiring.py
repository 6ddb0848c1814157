"""Every device kind the daemon knows has a simulated device in hwsim (issue 11).

Adding a sensor to the config and forgetting hwsim would leave the simulator
silently unwired: `--sim` and the demo would show an entity that never reads.
"""

from __future__ import annotations

from device.config.model import DEVICE_KINDS, Config
from hwsim.gpio import WIRED_ON_COPROCESSOR, WIRERS


def test_wiring_every_device_kind_has_a_simulated_device() -> None:
    missing = set(DEVICE_KINDS) - set(WIRERS) - WIRED_ON_COPROCESSOR
    assert not missing, f"device kinds with no hwsim wiring (add one to hwsim.gpio.WIRERS): {sorted(missing)}"


def test_wiring_knows_no_kind_the_config_does_not() -> None:
    known = set(DEVICE_KINDS) | set(Config.model_fields)
    assert set(WIRERS) | WIRED_ON_COPROCESSOR <= known
