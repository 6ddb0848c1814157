"""The simulated I2C bus behaves like machine.I2C (runs under CPython and MicroPython)."""

from hwsim.i2c import I2CTarget, SimI2C


class _Regs(I2CTarget):
    def __init__(self) -> None:
        self.regs = bytearray(256)
        self.ptr = 0

    def i2c_write(self, data: bytes) -> None:
        self.ptr = data[0]
        for i, b in enumerate(data[1:]):
            self.regs[(self.ptr + i) & 0xFF] = b

    def i2c_read(self, n: int) -> bytes:
        out = bytes(self.regs[(self.ptr + i) & 0xFF] for i in range(n))
        self.ptr = (self.ptr + n) & 0xFF
        return out


def test_i2c_mem_roundtrip() -> None:
    bus = SimI2C()
    bus.attach(0x76, _Regs())
    bus.writeto_mem(0x76, 0xF4, b"\x27\x10")
    assert bus.readfrom_mem(0x76, 0xF4, 2) == b"\x27\x10"
    assert bus.scan() == [0x76]


def test_i2c_nack_raises_eio() -> None:
    bus = SimI2C()
    bus.attach(0x76, _Regs())
    bus.set_nack(0x76)
    try:
        bus.readfrom(0x76, 1)
    except OSError as e:
        assert e.args[0] == 5
    else:
        raise AssertionError("expected OSError")
    try:
        bus.readfrom(0x10, 1)
    except OSError:
        pass
    else:
        raise AssertionError("expected OSError for a missing chip")
