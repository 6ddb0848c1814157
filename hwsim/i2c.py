"""A simulated I2C bus with the API of MicroPython's `machine.I2C`.

Chip models are *targets* attached at a 7-bit address. A write transaction
hands the target every byte after the address; a read transaction asks it for
`n` bytes. `readfrom_mem`/`writeto_mem` are a write of the register address
followed by a read or more written bytes, as on the wire, so a chip without a
register pointer (Si4703) sees exactly what real hardware would.

A missing target, or one set to NACK, raises `OSError(5)` (EIO), as the RP2040
port of MicroPython does. Every transaction is logged in `transactions` while
`record` is true, so tests can check that a driver kept the bus quiet.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Protocol

EIO = 5


class I2CTarget(Protocol):
    """What a chip model implements to sit on the bus."""

    def i2c_write(self, data: bytes) -> None:
        """One write transaction: every byte after the address byte."""

    def i2c_read(self, n: int) -> bytes:
        """One read transaction: return exactly n bytes."""


@dataclass(frozen=True)
class Transaction:
    """One bus transaction, for tests that look at the traffic."""

    t: float
    addr: int
    kind: str  # "w" or "r"
    data: bytes


class SimI2C:
    """`machine.I2C` stand-in: `writeto`, `readfrom`, `*_mem`, `scan`."""

    def __init__(self, freq: int = 400_000) -> None:
        self.freq = freq
        self._targets: dict[int, I2CTarget] = {}
        self._nack: set[int] = set()
        self._lock = threading.RLock()
        self.record = False
        self.transactions: list[Transaction] = []

    # -- wiring and faults -------------------------------------------------
    def attach(self, addr: int, target: I2CTarget) -> None:
        with self._lock:
            self._targets[addr] = target

    def detach(self, addr: int) -> None:
        with self._lock:
            self._targets.pop(addr, None)

    def set_nack(self, addr: int, nack: bool = True) -> None:
        """Make the chip at addr NACK every transaction (a loose wire)."""
        with self._lock:
            if nack:
                self._nack.add(addr)
            else:
                self._nack.discard(addr)

    def _target(self, addr: int) -> I2CTarget:
        t = self._targets.get(addr)
        if t is None or addr in self._nack:
            raise OSError(EIO, "I2C NACK")
        return t

    def _log(self, addr: int, kind: str, data: bytes) -> None:
        if self.record:
            self.transactions.append(Transaction(time.monotonic(), addr, kind, data))

    # -- machine.I2C API -----------------------------------------------------
    def scan(self) -> list[int]:
        with self._lock:
            return sorted(a for a in self._targets if a not in self._nack)

    def writeto(self, addr: int, buf: bytes | bytearray | memoryview, stop: bool = True) -> int:
        data = bytes(buf)
        with self._lock:
            self._target(addr).i2c_write(data)
            self._log(addr, "w", data)
        return len(data)

    def readfrom(self, addr: int, nbytes: int, stop: bool = True) -> bytes:
        with self._lock:
            data = bytes(self._target(addr).i2c_read(nbytes))
            self._log(addr, "r", data)
        if len(data) != nbytes:
            raise OSError(EIO, "short read")
        return data

    def readfrom_into(self, addr: int, buf: bytearray | memoryview, stop: bool = True) -> None:
        data = self.readfrom(addr, len(buf), stop)
        buf[:] = data

    def writeto_mem(self, addr: int, memaddr: int, buf: bytes | bytearray | memoryview, *, addrsize: int = 8) -> None:
        self.writeto(addr, bytes([memaddr & 0xFF]) + bytes(buf))

    def readfrom_mem(self, addr: int, memaddr: int, nbytes: int, *, addrsize: int = 8) -> bytes:
        with self._lock:
            self.writeto(addr, bytes([memaddr & 0xFF]), stop=False)
            return self.readfrom(addr, nbytes)

    def readfrom_mem_into(self, addr: int, memaddr: int, buf: bytearray | memoryview, *, addrsize: int = 8) -> None:
        buf[:] = self.readfrom_mem(addr, memaddr, len(buf))
