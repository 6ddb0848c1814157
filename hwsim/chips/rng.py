"""xorshift32: a tiny seeded PRNG giving the same stream under CPython and MicroPython.

The chip models use it (not `random`) so a seeded simulation is reproducible in
both interpreters.
"""


class XorShift32:
    """Marsaglia's xorshift32; `zero_seed` replaces a seed of 0 (a fixed point)."""

    def __init__(self, seed: int = 1, zero_seed: int = 0x9E3779B9) -> None:
        self.state = (seed & 0xFFFFFFFF) or zero_seed

    def next(self) -> int:
        x = self.state
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.state = x
        return x

    def uniform(self) -> float:
        """In [0, 1)."""
        return self.next() / 4294967296.0

    def random(self) -> float:
        return self.uniform()

    def gauss(self) -> float:
        """Approximately standard normal (Irwin-Hall with 4 terms, unit variance)."""
        s = self.uniform() + self.uniform() + self.uniform() + self.uniform()
        return (s - 2.0) * 1.7320508075688772
