"""RDS decoder: RDS groups (four 16-bit blocks with error counts) in, change events out.

Theory of operation
-------------------
Sans-IO, like h11: ``RdsDecoder.feed(a, b, c, d, errors=...)`` takes one group as the
tuner reported it and returns a list of value-object events (``PiChanged``,
``PsChanged``, ``RadioTextChanged`` ...) describing what changed; ``state`` is a
frozen snapshot of everything known; ``reset()`` forgets the station (call it on
every retune).  Nothing here raises on the tuner's data: garbage is counted in
``stats`` and ignored.

Gating on block errors.  The chips grade each block 0 (no errors), 1 (1-2 bits
corrected), 2 (3-5 corrected) or 3 (uncorrectable).  A block is *usable* when its
grade is at most ``max_errors`` (default 1), or unknown (``None``: the RDA5807M
grades only blocks A and B).  Block B says what the group is, so a group whose
block B is unusable is dropped whole; blocks A, C and D are used where usable.
Clock time is stricter: with ``strict_clock`` (default) blocks B, C and D must
have grade 0 when the grade is known (all three carry bits of the time).

Confirmation.  Every field is published only after it has been received
consistently (see ``device.radio.rds.text``): PI, PTY, TP, TA, music/speech and
each DI bit after two identical sightings in a row; PS when all four segments are
confirmed (each seen twice, no mixing of an old and a new name); radiotext when
every segment up to the end is confirmed (no mixing either); with an
``RdsMemory``, the PS and radiotext last confirmed for the same PI count as one
sighting of each segment (see ``device.radio.rds.memory``); AF lists when two successive complete
lists agree.  Clock time is published each time a group passes the gate and the
sanity checks of ``device.radio.rds.clock``.

Station identity.  PI comes from block A: the first PI is confirmed after two
identical sightings in a row.  Once a PI is confirmed, a group whose usable block A
(or, in version-B groups, block C) carries a different PI is ignored (another
station or a corrupt block).  A *change* of PI needs four block-A sightings of the
new PI in a row (a corrupt block B can make any group look like version B and its
block C like a PI, so block C never changes the PI); then the decoder emits
``RdsCleared`` and starts over for the new station.  Some encoders leave block C
of version-B groups at 0000 (heard off air: Radio Krka, PI 9423); 0000 is taken
as "not filled in", not as another PI (a 0A group's block C is never 0000: AF
code 0 is not used).

Radiotext completeness.  Radiotext (2A: 64 characters in 16 segments of 4; 2B: 32
in 16 of 2) is complete when (1) every segment up to and including the one holding
0x0D (end of text) is confirmed, or (2) all 16 segments are confirmed, or (3) for
stations that send short texts without 0x0D: the decoder has seen the station go
straight from its highest segment k back to segment 0 three times, with no group
lost in between (so segment k+1 cannot have been missed to noise), and segments
0..k are confirmed.  Bytes after the 0x0D in its segment are not text: they are
neither checked for control codes nor compared between sightings.  Trailing spaces
are stripped.  A flip of the A/B flag, or a
switch between 2A and 2B, clears the segments once two radiotext groups in a row
agree on the new flag (one corrupt block B cannot wipe the text); the last
published text stays until the new one is complete.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from device.radio.rds import charset
from device.radio.rds.clock import ClockTime, decode_4a
from device.radio.rds.events import (
    AfListChanged,
    ClockTimeReceived,
    DecoderInfo,
    DecoderInfoChanged,
    EccChanged,
    LanguageChanged,
    MusicSpeechChanged,
    PiChanged,
    PsChanged,
    PtyChanged,
    PtynChanged,
    RadioTextChanged,
    RdsChange,
    RdsCleared,
    RdsState,
    RdsStats,
    RtPlusChanged,
    TrafficChanged,
)
from device.radio.rds.extras import RdsExtras, country, text_up_to_end
from device.radio.rds.memory import PS, RT_2A, RT_2B, RdsMemory
from device.radio.rds.ptype import pty_name, rbds_callsign
from device.radio.rds.text import AfList, Confirmed, SegmentedText

__all__ = [
    "AfListChanged",
    "ClockTimeReceived",
    "DecoderInfo",
    "DecoderInfoChanged",
    "EccChanged",
    "LanguageChanged",
    "MusicSpeechChanged",
    "PiChanged",
    "PsChanged",
    "PtyChanged",
    "PtynChanged",
    "RadioTextChanged",
    "RdsChange",
    "RdsCleared",
    "RdsDecoder",
    "RdsState",
    "RdsStats",
    "RtPlusChanged",
    "TrafficChanged",
    "rbds_callsign",
]

GROUP_0 = 0
GROUP_2 = 2
GROUP_4 = 4
GROUP_15 = 15
CR: Final = 0x0D
RT_WRAPS_FOR_SHORT_TEXT: Final = 3
PI_CHANGE_CONFIRMATIONS: Final = 4
_RT_ALLOWED_CONTROLS: Final = frozenset((0x0A, 0x0B, 0x0D, 0x1F))


@dataclass
class _Counters:
    values: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RdsStats().__dict__, 0))

    def bump(self, name: str) -> None:
        self.values[name] += 1


# --- the decoder --------------------------------------------------------------------


def _blocks_pair(word: int) -> bytes:
    return bytes(((word >> 8) & 0xFF, word & 0xFF))


class RdsDecoder:
    """Turns RDS groups into change events; see the module docstring."""

    def __init__(
        self,
        rbds: bool = False,
        *,
        max_errors: int = 1,
        strict_clock: bool = True,
        ps_confirmations: int = 2,
        rt_confirmations: int = 2,
        rds_memory: RdsMemory | None = None,
    ) -> None:
        self.rbds = rbds
        self.rds_memory = rds_memory
        self.max_errors = max_errors
        self.strict_clock = strict_clock
        self._counters = _Counters()
        self._ps = SegmentedText(4, 2, ps_confirmations, whole_pass=True, doubt=True)
        self._rt_a = SegmentedText(16, 4, rt_confirmations, whole_pass=True)
        self._rt_b = SegmentedText(16, 2, rt_confirmations, whole_pass=True)
        self._af = AfList()
        self._pi = Confirmed[int](2)
        self._pi_change = Confirmed[int](PI_CHANGE_CONFIRMATIONS)
        self._pty = Confirmed[int](2)
        self._tp = Confirmed[bool](2)
        self._ta = Confirmed[bool](2)
        self._music = Confirmed[bool](2)
        self._di = [Confirmed[bool](2) for _ in range(4)]
        self._extras = RdsExtras()
        self.reset()

    # -- public API

    def reset(self) -> None:
        """Forget the station (call on every retune).  Counters are kept."""
        self._ps.clear()
        self._rt_a.clear()
        self._rt_b.clear()
        self._af.clear()
        self._pi.clear()
        self._pi_change.clear()
        self._pty.clear()
        for flag in (self._tp, self._ta, self._music, *self._di):
            flag.clear()
        self._ps_text: str | None = None
        self._rt_text: str | None = None
        self._rt_kind: tuple[int, int] | None = None
        self._rt_pending: tuple[tuple[int, int], int, bytes] | None = None
        self._rt_last_segment = -1
        self._rt_clean_wraps = 0
        self._rt_gap = False
        self._rt_hinted = False
        self._di_value: DecoderInfo | None = None
        self._clock: ClockTime | None = None
        self._extras.clear()

    @property
    def state(self) -> RdsState:
        """A frozen snapshot of everything known about the current station."""
        pty, x = self._pty.value, self._extras
        return RdsState(
            pi=self._pi.value,
            ps=self._ps_text,
            radiotext=self._rt_text,
            pty=pty,
            pty_name=None if pty is None else pty_name(pty, self.rbds),
            tp=self._tp.value,
            ta=self._ta.value,
            music=self._music.value,
            di=self._di_value,
            af_khz=self._af.published,
            clock=self._clock,
            ecc=x.ecc,
            country=None if x.ecc is None else country(x.ecc, self._pi.value),
            language=x.language,
            ptyn=x.ptyn,
            rt_artist=x.artist,
            rt_title=x.title,
        )

    @property
    def stats(self) -> RdsStats:
        """Counters: groups seen and used, and why the others were not."""
        return RdsStats(**self._counters.values)

    def feed(
        self,
        a: int,
        b: int,
        c: int,
        d: int,
        errors: Sequence[int | None] | None = None,
    ) -> list[RdsChange]:
        """Take one group; return the changes it caused (often none).

        `errors` holds the chip's grade (0-3) for blocks A-D, None where the chip does
        not say; omitted means all unknown.
        """
        count = self._counters.bump
        count("groups")
        a, b, c, d = a & 0xFFFF, b & 0xFFFF, c & 0xFFFF, d & 0xFFFF
        grades = self._grades(errors)
        ok = [self._usable(g) for g in grades]
        for usable in ok:
            if not usable:
                count("blocks_unusable")
        if not ok[1]:
            count("groups_bad_b")
            self._rt_gap = True  # it may have been a radiotext group
            return []
        events: list[RdsChange] = []
        group = b >> 12
        version_b = bool(b & 0x0800)
        if ok[0] and not self._observe_pi(a, events):
            count("groups_other_pi")
            return events
        if version_b and ok[2] and self._pi.value is not None and c not in (self._pi.value, 0):
            count("groups_other_pi")  # block C repeats the PI (or 0: see the docstring)
            return events
        count("groups_used")
        traffic_before = (self._tp.value, self._ta.value)
        self._common(b, events)
        if group == GROUP_0:
            self._group_0(b, c, d, ok, version_b, events)
        elif group == GROUP_2:
            self._group_2(b, c, d, ok, version_b, events)
        elif group == GROUP_4 and not version_b:
            self._group_4a(b, c, d, ok, grades, events)
        elif group == GROUP_15 and version_b:
            self._ta.put(bool(b & 0x0010))
        elif group not in (GROUP_0, GROUP_2, GROUP_4):
            events += self._extras.feed(b, c, d, ok, self._pi.value)
        traffic = (self._tp.value, self._ta.value)
        if traffic != traffic_before and self._tp.value is not None:
            events.append(TrafficChanged(self._tp.value, self._ta.value))
        return events

    # -- gating

    @staticmethod
    def _grades(errors: Sequence[int | None] | None) -> list[int | None]:
        if errors is None:
            return [None] * 4
        grades: list[int | None] = []
        for e in list(errors)[:4]:
            if e is None:
                grades.append(None)
            elif isinstance(e, int) and not isinstance(e, bool) and 0 <= e <= 3:
                grades.append(e)
            else:
                grades.append(3)  # nonsense from the driver: treat as uncorrectable
        return grades + [None] * (4 - len(grades))

    def _usable(self, grade: int | None) -> bool:
        return grade is None or grade <= self.max_errors

    # -- fields in every group

    def _observe_pi(self, pi: int, events: list[RdsChange]) -> bool:
        """Record a block-A PI sighting; False when the group belongs to another PI."""
        current = self._pi.value
        if current is None:
            if self._pi.put(pi):
                events.append(PiChanged(pi))
                self._recall_ps(pi, events)
                self._recall_rt(events)
            return True
        if pi == current:
            self._pi_change.clear()
            return True
        if self._pi_change.put(pi):
            self.reset()
            self._pi.set(pi)
            events.append(RdsCleared("pi_changed"))
            events.append(PiChanged(pi))
            self._recall_ps(pi, events)
            self._recall_rt(events)
            return True
        return False

    def _common(self, b: int, events: list[RdsChange]) -> None:
        pty = (b >> 5) & 0x1F
        if self._pty.put(pty):
            events.append(PtyChanged(pty, pty_name(pty, self.rbds)))
        self._tp.put(bool(b & 0x0400))

    # -- group 0: basic tuning and switching (PS, TA, M/S, DI, AF)

    def _group_0(
        self,
        b: int,
        c: int,
        d: int,
        ok: list[bool],
        version_b: bool,
        events: list[RdsChange],
    ) -> None:
        segment = b & 0x3
        self._ta.put(bool(b & 0x0010))
        if self._music.put(bool(b & 0x0008)):
            events.append(MusicSpeechChanged(bool(self._music.value)))
        self._di[segment].put(bool(b & 0x0004))
        self._update_di(events)
        if not version_b and ok[2] and self._af.put(c >> 8, c & 0xFF):
            events.append(AfListChanged(self._af.published))
        if ok[3]:
            chars = _blocks_pair(d)
            if any(charset.is_control(ch) for ch in chars):
                self._counters.bump("segments_rejected")
                return
            self._ps.put(segment, chars)
            self._check_ps(events)

    def _recall_ps(self, pi: int, events: list[RdsChange]) -> None:
        """The PI is confirmed: a remembered PS counts as one sighting of each segment."""
        raw = None if self.rds_memory is None else self.rds_memory.get(pi, PS)
        if raw is None:
            return
        self._ps.hint_text(raw)
        self._check_ps(events)

    def _check_ps(self, events: list[RdsChange]) -> None:
        text = self._ps.complete()
        if text is None:
            return
        pi = self._pi.value
        if self.rds_memory is not None and pi is not None and self._ps.need > 1:
            self.rds_memory.put(pi, text, PS)
        ps = charset.decode(text)
        if ps != self._ps_text:
            self._ps_text = ps
            events.append(PsChanged(ps))

    def _update_di(self, events: list[RdsChange]) -> None:
        bits = [c.value for c in self._di]
        if any(bit is None for bit in bits):
            return
        info = DecoderInfo(*(bool(bit) for bit in bits))
        if info != self._di_value:
            self._di_value = info
            events.append(DecoderInfoChanged(info))

    # -- group 2: radiotext

    def _group_2(
        self,
        b: int,
        c: int,
        d: int,
        ok: list[bool],
        version_b: bool,
        events: list[RdsChange],
    ) -> None:
        if not ok[3] or (not version_b and not ok[2]):
            self._rt_gap = True  # a radiotext segment went missing
            return
        segment = b & 0xF
        chars = text_up_to_end(_blocks_pair(d) if version_b else _blocks_pair(c) + _blocks_pair(d))
        if any(charset.is_control(ch) and ch not in _RT_ALLOWED_CONTROLS for ch in chars):
            self._counters.bump("segments_rejected")
            self._rt_gap = True
            return
        kind = ((b >> 4) & 1, int(version_b))
        if kind != self._rt_kind:
            if self._rt_kind is not None and self._rt_pending is None:
                # A new A/B flag (or 2A/2B switch) clears the text, but one corrupt
                # block B must not: wait for a second group that agrees.
                self._rt_pending = (kind, segment, chars)
                return
            if self._rt_kind is not None:
                assert self._rt_pending is not None
                pending_kind, pending_segment, pending_chars = self._rt_pending
                self._rt_pending = None
                if pending_kind != kind:
                    self._rt_pending = (kind, segment, chars)
                    return
                self._clear_radiotext_buffers()
                self._rt_kind = kind
                self._put_rt(pending_segment, pending_chars, version_b)
            self._rt_kind = kind
        self._rt_pending = None
        self._recall_rt(events)
        self._rt_complete(self._put_rt(segment, chars, version_b), version_b, events)

    def _rt_complete(self, whole: bytes | None, version_b: bool, events: list[RdsChange]) -> None:
        """Publish (and remember) a complete radiotext: `whole` segments, 0x0D included."""
        if whole is None:
            return
        pi = self._pi.value
        if self.rds_memory is not None and pi is not None and self._rt_a.need > 1:
            self.rds_memory.put(pi, whole, RT_2B if version_b else RT_2A)
        if CR in whole:
            whole = whole[: whole.index(CR)]
        text = charset.decode(whole).rstrip(" ")
        if text != self._rt_text:
            self._rt_text = text
            events.append(RadioTextChanged(text))
            events += self._extras.radiotext_changed(text)

    def _recall_rt(self, events: list[RdsChange]) -> None:
        """PI and radiotext kind known: a remembered radiotext counts as one sighting (once per buffer)."""
        if self.rds_memory is None or self._rt_hinted or self._rt_kind is None or self._pi.value is None:
            return
        self._rt_hinted = True
        version_b = bool(self._rt_kind[1])
        raw = self.rds_memory.get(self._pi.value, RT_2B if version_b else RT_2A)
        if raw is None:
            return
        texts = self._rt_b if version_b else self._rt_a
        texts.hint_text(raw)
        self._rt_complete(texts.whole(terminator=CR), version_b, events)

    def _clear_radiotext_buffers(self) -> None:
        self._rt_a.clear()
        self._rt_b.clear()
        self._rt_last_segment = -1
        self._rt_clean_wraps = 0
        self._rt_gap = False
        self._rt_hinted = False

    def _put_rt(self, segment: int, chars: bytes, version_b: bool) -> bytes | None:
        """Store one segment; the complete text's whole segments when there is one."""
        texts = self._rt_b if version_b else self._rt_a
        top = texts.highest_received()
        if segment == 0 and self._rt_last_segment == top > 0 and not self._rt_gap:
            self._rt_clean_wraps += 1  # straight from the highest segment back to 0
        self._rt_last_segment = segment
        self._rt_gap = False
        texts.put(segment, chars)
        raw = texts.whole(terminator=CR)
        if raw is None and self._rt_clean_wraps >= RT_WRAPS_FOR_SHORT_TEXT:
            top = texts.highest_received()
            if top < texts.count - 1:
                raw = texts.whole(terminator=CR, upto=top)
        return raw

    # -- group 4A: clock time

    def _group_4a(
        self,
        b: int,
        c: int,
        d: int,
        ok: list[bool],
        grades: list[int | None],
        events: list[RdsChange],
    ) -> None:
        if not (ok[2] and ok[3]):
            return
        if self.strict_clock and any(g not in (None, 0) for g in grades[1:]):
            self._counters.bump("clock_rejected")
            return
        clock = decode_4a(b, c, d)
        if clock is None:
            self._counters.bump("clock_rejected")
            return
        self._clock = clock
        events.append(ClockTimeReceived(clock))

