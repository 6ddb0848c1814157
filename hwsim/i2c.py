"""A simulated I2C bus with the API of MicroPython's `machine.I2C`.

Chip models are *targets* attached at a 7-bit address. A write transaction
hands the target every byte after the address; a read transaction asks it for
`n` bytes. `readfrom_mem`/`writeto_mem` are a write of the register address
followed by a read or more written bytes, as on the wire, so a chip without a
register pointer (Si4703) sees exactly what real hardware would.

A missing target, or one set to NACK, raises `OSError(5)` (EIO), as the RP2040
port of MicroPython does. While `record` is true every transaction is logged in
`transactions` as `(ticks_ms, addr, "w"|"r", data)`, so tests can check that a
driver kept the bus quiet.

`McuPin` is a GPIO with `machine.Pin`'s surface (`init`, `value`, `OUT`, `IN`). The
bus's data line is one (`SimI2C.sda`): a driver that takes SDA over as a plain
output (the Si4703's bus-mode reset drives it low) breaks the bus until it hands
the pin back to the I2C block (`SimI2C.init()`, as re-creating `machine.I2C` does
on the RP2040); transactions meanwhile fail with EIO. Chip models listen to pins
(`listeners`) to see edges, e.g. the Si4703's RST.

This module (like `hwsim.chips`) runs under MicroPython too, so the firmware's
tests can use it there: no `typing`, no dataclasses, no `__future__`.
"""

from p2mfw.compat import ticks_ms

EIO = 5


class McuPin:
    """A GPIO line with the `machine.Pin` calls firmware uses; `listeners` see level changes."""

    IN = 0
    OUT = 1
    OPEN_DRAIN = 2
    ALT = 3

    def __init__(self, name: str, level: int = 1, mode: int = 0) -> None:
        self.name = name
        self.level = level
        self.mode = mode
        self.listeners: list = []  # fn(pin, old_level, new_level)

    def init(self, mode: int = -1, pull: int = -1, value: "int | None" = None) -> None:
        if mode != -1:
            self.mode = mode
        if value is not None:
            self.value(value)
        elif self.mode != self.OUT:
            self._set(1)  # released: the pull-up wins

    def value(self, v: "int | None" = None) -> int:
        if v is None:
            return self.level
        self._set(1 if v else 0)
        return self.level

    def __call__(self, v: "int | None" = None) -> int:
        return self.value(v)

    def _set(self, level: int) -> None:
        old = self.level
        self.level = level
        if old != level:
            for fn in self.listeners:
                fn(self, old, level)


class I2CTarget:
    """Base class of chip models: override `i2c_write` and `i2c_read`."""

    def i2c_write(self, data: bytes) -> None:
        """One write transaction: every byte after the address byte."""
        raise NotImplementedError

    def i2c_read(self, n: int) -> bytes:
        """One read transaction: return exactly n bytes."""
        raise NotImplementedError


class SimI2C:
    """`machine.I2C` stand-in: `writeto`, `readfrom`, `*_mem`, `scan`.

    Not thread-safe by itself: the firmware is the only user, on one thread.
    """

    def __init__(self, freq: int = 400_000) -> None:
        self.freq = freq
        self._targets: dict[int, I2CTarget] = {}
        self._nack: dict[int, bool] = {}
        self.record = False
        self.transactions: list[tuple[int, int, str, bytes]] = []
        self.sda = McuPin("sda", 1, McuPin.ALT)

    def init(self, *args: object, **kwargs: object) -> None:
        """Give SDA back to the I2C block (what re-creating `machine.I2C` does)."""
        self.sda.init(McuPin.ALT)

    # -- wiring and faults -------------------------------------------------
    def attach(self, addr: int, target: I2CTarget) -> None:
        self._targets[addr] = target

    def detach(self, addr: int) -> None:
        self._targets.pop(addr, None)

    def set_nack(self, addr: int, nack: bool = True) -> None:
        """Make the chip at addr NACK every transaction (a loose wire)."""
        if nack:
            self._nack[addr] = True
        else:
            self._nack.pop(addr, None)

    def _target(self, addr: int) -> I2CTarget:
        if self.sda.mode != McuPin.ALT:
            raise OSError(EIO)  # SDA is a plain GPIO now: no I2C on the wire
        t = self._targets.get(addr)
        if t is None or addr in self._nack:
            raise OSError(EIO)
        return t

    def _log(self, addr: int, kind: str, data: bytes) -> None:
        if self.record:
            self.transactions.append((ticks_ms(), addr, kind, data))

    # -- machine.I2C API -----------------------------------------------------
    def scan(self) -> list[int]:
        return sorted(a for a in self._targets if a not in self._nack)

    def writeto(self, addr: int, buf: bytes, stop: bool = True) -> int:
        data = bytes(buf)
        self._target(addr).i2c_write(data)
        self._log(addr, "w", data)
        return len(data)

    def readfrom(self, addr: int, nbytes: int, stop: bool = True) -> bytes:
        data = bytes(self._target(addr).i2c_read(nbytes))
        self._log(addr, "r", data)
        if len(data) != nbytes:
            raise OSError(EIO)
        return data

    def readfrom_into(self, addr: int, buf: bytearray, stop: bool = True) -> None:
        data = self.readfrom(addr, len(buf), stop)
        for i in range(len(data)):
            buf[i] = data[i]

    def writeto_mem(self, addr: int, memaddr: int, buf: bytes, addrsize: int = 8) -> None:
        self.writeto(addr, bytes([memaddr & 0xFF]) + bytes(buf))

    def readfrom_mem(self, addr: int, memaddr: int, nbytes: int, addrsize: int = 8) -> bytes:
        self.writeto(addr, bytes([memaddr & 0xFF]), False)
        return self.readfrom(addr, nbytes)

    def readfrom_mem_into(self, addr: int, memaddr: int, buf: bytearray, addrsize: int = 8) -> None:
        data = self.readfrom_mem(addr, memaddr, len(buf))
        for i in range(len(data)):
            buf[i] = data[i]
