"""A mechanical rotary encoder (quadrature, two contacts to ground) and the radio's panel wiring.

Theory of operation
-------------------
An incremental encoder has two contacts, A and B, that close to ground in a
Gray-code cycle as the knob turns; with the Pi's pull-ups an open contact
reads high. One detent is a full cycle of four edges. Clockwise, A leads B:
A closes, B closes, A opens, B opens (the order gpiozero's `RotaryEncoder`
counts as clockwise). Counter-clockwise is the mirror image, B leading.
`QuadratureEncoder.turn(steps)` schedules those edges on the simulation clock
(`edge_gap` between edges, `detent_gap` between detents), positive = clockwise;
a turn requested while one is still running continues after it.

`hwsim.bench.Bench.radio` places the radio's panel: each button becomes a
bouncy push button named `<radio>_<control>` (control paths
`<radio>_seek_up/press`, `/release`, `/click`), and the encoder's two pins an
`EncoderDevice` named `<radio>_encoder` (`<radio>_encoder/turn` with a signed
number of detents).
"""

from __future__ import annotations

from collections.abc import Callable

from hwsim.control import Handler, parse_number
from hwsim.timebase import EventClock, Line

MAX_TURN = 100


class QuadratureEncoder:
    """Two contacts to ground driven in quadrature; `position` counts detents (+ = clockwise)."""

    def __init__(self, a: Line, b: Line, clock: EventClock, *, edge_gap: float = 0.002,
                 detent_gap: float = 0.02) -> None:
        self.a, self.b, self.clock = a, b, clock
        self.edge_gap = edge_gap
        self.detent_gap = detent_gap
        self.position = 0
        self._free_at = 0.0
        a.set_external(None)
        b.set_external(None)

    def turn(self, steps: int) -> None:
        """Turn by `steps` detents (negative: counter-clockwise)."""
        if not -MAX_TURN <= steps <= MAX_TURN:
            raise ValueError(f"turn at most {MAX_TURN} detents at once, not {steps}")
        first, second = (self.a, self.b) if steps > 0 else (self.b, self.a)
        t = max(self.clock.now(), self._free_at)
        for _ in range(abs(steps)):
            for line, level in ((first, False), (second, False), (first, None), (second, None)):
                self.clock.call_at(t, _setter(line, level))
                t += self.edge_gap
            t += self.detent_gap
        self._free_at = t
        self.position += steps


def _setter(line: Line, level: bool | None) -> Callable[[], None]:
    def drive() -> None:
        line.set_external(level)

    return drive


class EncoderDevice:
    """A rotary encoder as a named hwsim device (`turn` action)."""

    def __init__(self, name: str, encoder: QuadratureEncoder) -> None:
        self.name, self.encoder = name, encoder

    def turn(self, steps: int) -> None:
        self.encoder.turn(steps)

    def actions(self) -> dict[str, Handler]:
        def turn(payload: str) -> None:
            steps = parse_number(payload, "detents, + clockwise")
            if steps != int(steps):
                raise ValueError(f"detents must be a whole number, got {steps}")
            self.turn(int(steps))

        return {"turn": turn}

    def snapshot(self) -> dict[str, object]:
        return {"kind": "encoder", "position": self.encoder.position}
