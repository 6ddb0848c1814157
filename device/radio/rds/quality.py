"""RDS signal quality: the block error rate over the last second.

Sans-IO: ``add(now, grades)`` records one group's block grades at time `now`
(seconds, any monotonic clock); ``rate(now)`` is the share, in percent, of the
blocks graded in the last `window` seconds that the chip could not correct
(grade 3). Blocks the chip does not grade (the RDA5807M grades A and B only) do
not count either way. None when no graded block arrived in the window (no RDS,
or not synchronised).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Final

UNCORRECTABLE: Final = 3
WINDOW_S: Final = 1.0


class BlockErrorRate:
    """Uncorrectable blocks / graded blocks over a sliding window."""

    def __init__(self, window: float = WINDOW_S) -> None:
        self.window = window
        self._groups: deque[tuple[float, int, int]] = deque()  # (time, graded, uncorrectable)

    def clear(self) -> None:
        """Forget every group (on a retune)."""
        self._groups.clear()

    def add(self, now: float, grades: Sequence[int | None] | None) -> None:
        """Record one group's grades (0-3 per block, None where the chip does not grade)."""
        known = [g for g in (grades or ()) if g is not None]
        self._groups.append((now, len(known), sum(1 for g in known if g >= UNCORRECTABLE)))
        self._expire(now)

    def rate(self, now: float) -> float | None:
        """Percent of graded blocks uncorrectable in the last window (None: none graded)."""
        self._expire(now)
        graded = sum(g for _, g, _ in self._groups)
        if not graded:
            return None
        bad = sum(b for _, _, b in self._groups)
        return round(100.0 * bad / graded, 1)

    def _expire(self, now: float) -> None:
        while self._groups and self._groups[0][0] <= now - self.window:
            self._groups.popleft()
