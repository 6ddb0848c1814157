"""A widely used third-party BME280 driver reads the hwsim chip model (issue 10, "cross-checked").

RPi.bme280 (rm-hull, PyPI `RPi.bme280`) is a Raspberry Pi driver: it reads the
trimming words with SMBus word/byte reads, starts a forced conversion, sleeps its own
worst case and compensates with the datasheet's double-precision formulas. Here it
talks through `hwsim.smbus.SimSMBus`, an smbus2-compatible bus on the simulated I2C
bus, to `hwsim.chips.bme280.BME280Model` — which was written from the Bosch
datasheet (BST-BME280-DS002) without the firmware's code. It must read back what
the simulated room was set to, within the chip's output resolution at the
oversampling used, and agree with our firmware driver (integer formulas, §8.2).
"""

from __future__ import annotations

import os
import time

import pytest
from p2mfw import bme280 as fw

from hwsim.chips.bme280 import BME280Model, Trimming
from hwsim.i2c import SimI2C
from hwsim.smbus import SimSMBus

ADDR = 0x76

try:
    import bme280 as rpi_bme280  # RPi.bme280, in the dev extra
except ImportError:  # a venv made before it joined the extra
    if os.environ.get("CI", "").lower() == "true":
        raise
    pytest.skip("RPi.bme280 is not installed (make .venv/.installed)", allow_module_level=True)


class Room:
    def __init__(self, celsius: float, rh: float, hpa: float) -> None:
        self.values = (celsius, rh, hpa)

    def __call__(self) -> tuple[float, float, float]:
        return self.values


def _chip(room: Room, calibration: Trimming | None = None) -> tuple[SimSMBus, SimI2C, BME280Model]:
    bus = SimI2C()
    chip = BME280Model(room, calibration=calibration, noise=False)
    bus.attach(ADDR, chip)
    smbus = SimSMBus(bus)
    deadline = time.monotonic() + 2.0
    while smbus.read_byte_data(ADDR, 0xF3) & 0x01:  # power-on NVM copy (im_update), ~2 ms
        assert time.monotonic() < deadline, "im_update never cleared"
    return smbus, bus, chip


# (degC, %RH, hPa) a room can have; a second part with other trimming words in the ranges
# real parts have (negative dig_H5, dig_T3 > 0), to exercise the register encodings.
ROOMS = [(21.0, 45.0, 1013.25), (-12.5, 80.0, 950.0), (38.2, 12.5, 1040.0), (4.0, 99.0, 700.0)]
OTHER_PART = Trimming(28470, 26655, 50, 37702, -10684, 3024, 7398, -54, -7,
                      9900, -10230, 4285, 75, 352, 0, 339, -8, 30)


@pytest.mark.parametrize("trimming", [None, OTHER_PART], ids=["datasheet-part", "other-part"])
@pytest.mark.parametrize("room", ROOMS, ids=[f"{t}C-{h}%-{p}hPa" for t, h, p in ROOMS])
def test_rpi_bme280_reads_what_the_world_set(room: tuple[float, float, float],
                                              trimming: Trimming | None) -> None:
    smbus, _bus, chip = _chip(Room(*room), trimming)
    params = rpi_bme280.load_calibration_params(smbus, ADDR)
    for sampling, (dt, dh, dp) in ((rpi_bme280.oversampling.x1, (0.01, 0.05, 0.05)),
                                   (rpi_bme280.oversampling.x16, (0.002, 0.01, 0.005))):
        got = rpi_bme280.sample(smbus, ADDR, params, sampling)
        assert abs(got.temperature - room[0]) <= dt, (sampling, got)
        assert abs(got.humidity - room[1]) <= dh, (sampling, got)
        assert abs(got.pressure - room[2]) <= dp, (sampling, got)
    assert chip.conversions == 2
    assert chip.violations == []


def test_rpi_bme280_and_our_firmware_driver_agree() -> None:
    """Same chip, two drivers: RPi.bme280 (float, §8.1) and p2mfw.bme280 (integer, §8.2)."""
    smbus, bus, _chip_model = _chip(Room(23.4, 55.5, 1002.5))
    theirs = rpi_bme280.sample(smbus, ADDR, rpi_bme280.load_calibration_params(smbus, ADDR))
    dev = fw.BME280(bus, ADDR)
    t, p, h = dev.read()  # centi-degC, Pa * 256, %RH * 1024
    assert abs(t / 100 - theirs.temperature) <= 0.01, (t, theirs)
    assert abs(h / 1024 - theirs.humidity) <= 0.05, (h, theirs)
    assert abs(p / 25600 - theirs.pressure) <= 0.05, (p, theirs)
