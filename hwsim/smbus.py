"""An smbus2-compatible bus backed by a `hwsim.i2c.SimI2C`: third-party Linux drivers on our chip models.

Drivers written for a Raspberry Pi talk to I2C through `smbus2.SMBus` (or the older
`smbus`). `SimSMBus` offers the calls they use, as SMBus transactions on the wire
(a register-address write, then a read with a repeated start; words low byte first),
so a driver from PyPI can read a chip model exactly as it would read the chip on
/dev/i2c-1. Used by the cross-check tests (tests/hwsim/test_third_party_bme280.py).
"""

from __future__ import annotations

from types import TracebackType

from hwsim.i2c import SimI2C


class SimSMBus:
    """`smbus2.SMBus`'s byte, word and block calls on a simulated bus."""

    def __init__(self, bus: SimI2C) -> None:
        self.bus = bus

    def __enter__(self) -> SimSMBus:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Nothing to release (smbus2 closes its file descriptor here)."""

    def read_byte(self, i2c_addr: int, force: bool | None = None) -> int:
        return self.bus.readfrom(i2c_addr, 1)[0]

    def write_byte(self, i2c_addr: int, value: int, force: bool | None = None) -> None:
        self.bus.writeto(i2c_addr, bytes([value & 0xFF]))

    def read_byte_data(self, i2c_addr: int, register: int, force: bool | None = None) -> int:
        return self.bus.readfrom_mem(i2c_addr, register, 1)[0]

    def write_byte_data(self, i2c_addr: int, register: int, value: int, force: bool | None = None) -> None:
        self.bus.writeto_mem(i2c_addr, register, bytes([value & 0xFF]))

    def read_word_data(self, i2c_addr: int, register: int, force: bool | None = None) -> int:
        d = self.bus.readfrom_mem(i2c_addr, register, 2)
        return d[0] | (d[1] << 8)  # SMBus words are little-endian

    def write_word_data(self, i2c_addr: int, register: int, value: int, force: bool | None = None) -> None:
        self.bus.writeto_mem(i2c_addr, register, bytes([value & 0xFF, (value >> 8) & 0xFF]))

    def read_i2c_block_data(self, i2c_addr: int, register: int, length: int,
                            force: bool | None = None) -> list[int]:
        if not 0 < length <= 32:
            raise ValueError("I2C block reads are 1-32 bytes")
        return list(self.bus.readfrom_mem(i2c_addr, register, length))

    def write_i2c_block_data(self, i2c_addr: int, register: int, data: list[int],
                             force: bool | None = None) -> None:
        if len(data) > 32:
            raise ValueError("I2C block writes are at most 32 bytes")
        self.bus.writeto_mem(i2c_addr, register, bytes(data))
