"""RDS for one receiver: the confirming decoder, plus a fast path for error-free groups on a strong signal.

Theory of operation
-------------------
`RdsDecoder` accepts a PS or radiotext segment only after seeing it twice,
which is what keeps garbage off the display on noisy signals. The price on a
clean signal is time: with a usual group mix (four 0A, two 2A) eight 0A
groups take ten groups, 0.88 s, 2.5x the RDS minimum of four 0A groups.

`StationRds` runs a second decoder that takes each segment on its first
sighting (`ps_confirmations=1`, `rt_confirmations=1`, `max_errors=0`), but
is fed **only** groups the chip graded error-free in all four blocks
(grade 0 for A, B, C and D, none unknown) while the signal is strong
(RSSI >= `FAST_RSSI_DBUV`). A PS or radiotext from that decoder is shown
until the confirming decoder has its own, and only when both agree on the
PI. The RDA5807M does not grade blocks C and D, so on that chip the fast path
never runs and every PS is confirmed twice: on air, or once on air and once
from the `RdsMemory` of stations confirmed before (given as `rds_memory`, used
by the confirming decoder only). A group with any error, or any group on a
weak signal, only reaches the confirming decoder.

Sans-IO: `feed()` returns the confirming decoder's events, with `PsChanged`
and `RadioTextChanged` replaced by ones for the value shown (so each shown
change is reported once); `state` is the merged snapshot; `reset()` on every
retune.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Final

from device.radio.rds.decoder import PsChanged, RadioTextChanged, RdsChange, RdsCleared, RdsDecoder
from device.radio.rds.events import RdsState, RdsStats
from device.radio.rds.memory import RdsMemory
from device.radio.rds.quality import BlockErrorRate

FAST_RSSI_DBUV: Final = 40


class StationRds:
    """The RDS of the station tuned; see the module docstring."""

    def __init__(self, rbds: bool = False, *, fast: bool = True, rds_memory: RdsMemory | None = None) -> None:
        self.confirmed = RdsDecoder(rbds=rbds, rds_memory=rds_memory)
        self.fast = RdsDecoder(rbds=rbds, max_errors=0, ps_confirmations=1, rt_confirmations=1)
        self.fast_enabled = fast
        self.fast_groups = 0
        self.bler = BlockErrorRate()

    def reset(self) -> None:
        self.confirmed.reset()
        self.fast.reset()
        self.bler.clear()

    @property
    def stats(self) -> RdsStats:
        return self.confirmed.stats

    @property
    def state(self) -> RdsState:
        st = self.confirmed.state
        quick = self.fast.state
        if st.pi is None or quick.pi != st.pi:
            return st
        return replace(st, ps=st.ps if st.ps is not None else quick.ps,
                       radiotext=st.radiotext if st.radiotext is not None else quick.radiotext)

    def feed(self, a: int, b: int, c: int, d: int, errors: Sequence[int | None] | None = None,
             rssi: int | None = None, now: float | None = None) -> list[RdsChange]:
        if now is not None:
            self.bler.add(now, errors)
        before = self.state
        events = self.confirmed.feed(a, b, c, d, errors=errors)
        if any(isinstance(ev, RdsCleared) for ev in events):
            self.fast.reset()
        clean = (self.fast_enabled and errors is not None and len(errors) == 4
                 and all(g == 0 for g in errors) and rssi is not None and rssi >= FAST_RSSI_DBUV)
        if clean:
            self.fast_groups += 1
            self.fast.feed(a, b, c, d, errors=errors)
        after = self.state
        out: list[RdsChange] = [ev for ev in events if not isinstance(ev, PsChanged | RadioTextChanged)]
        if after.ps is not None and after.ps != before.ps:
            out.append(PsChanged(after.ps))
        if after.radiotext is not None and after.radiotext != before.radiotext:
            out.append(RadioTextChanged(after.radiotext))
        return out
