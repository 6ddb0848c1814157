"""Datasheet violations: every chip model made in this process, so a test can fail on any.

A chip model records in its `violations` list (with a reason) every access its
datasheet leaves undefined: a read past the documented registers, a write during a
power-up or reset delay, an access before the bus mode was selected, a reserved
bit set. Each model registers itself here when it is made; the tests' autouse
fixture (tests/conftest.py) empties the registry before each test and fails the
test on any violation left afterwards. A test that provokes a violation on
purpose takes it with `model.take_violations()`.

Runs under MicroPython too (the firmware tests use it there): no typing.
"""

MODELS: "list[Recorder]" = []


def register(model: "Recorder") -> None:
    """Called by each chip model's constructor."""
    MODELS.append(model)


def reset() -> None:
    """Forget every model made so far (start of a test)."""
    del MODELS[:]


def pending() -> "list[str]":
    """Every violation still recorded on a registered model, as "chip: reason" strings."""
    out = []
    for m in MODELS:
        for v in m.violations:
            out.append(str(getattr(m, "NAME", type(m).__name__)) + ": " + v)
    return out


class Recorder:
    """Mixin for chip models: `violations`, `violation(reason)`, `take_violations()`."""

    violations: "list[str]"

    def _init_violations(self) -> None:
        self.violations = []
        register(self)

    def violation(self, reason: str) -> None:
        self.violations.append(reason)

    def take_violations(self) -> "list[str]":
        """Return the violations so far and clear them (a test that provoked them)."""
        out = list(self.violations)
        del self.violations[:]
        return out
