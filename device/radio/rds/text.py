"""Assemblers for the RDS fields that arrive in pieces: PS, radiotext, AF lists.

Theory of operation
-------------------
Noise corrupts RDS blocks, and now and then a corrupted block passes the receiver's
check (the chip reports 0 or 1 errors for a block that is wrong).  Every assembler
here therefore publishes a value only after it has been received *consistently*:

``Confirmed``
    A single value (PI, PTY, TP, TA, music/speech, one DI bit) is accepted once
    the same value has been seen ``need`` times in a row.

``SegmentedText``
    A text sent in numbered segments (PS: 4 x 2 characters; radiotext 2A:
    16 x 4; 2B: 16 x 2).  Each segment has a confirmed value and one candidate;
    the candidate becomes the confirmed value once it has been received ``need``
    times in a row (for that segment; a sighting of anything else restarts the
    count, so a corrupt block, even one that lands on the wrong segment because
    block B's address bits were hit, is confirmed only if the identical
    corruption repeats).  When a segment's confirmed value is *replaced* by
    another, the station has changed its text, at the latest when the new value
    was first seen: every other segment not received since that moment must be
    received again (its confirmed value seen once more, or a new value
    confirmed) before the text counts as whole.  A corrupt segment is never
    published unless the identical corruption arrives ``need`` times, and corrupt
    blocks only cost time.

    Two more rules keep a published text from being a mix of an old and a new
    one (a station may rename itself every few seconds, change its radiotext
    without flipping the A/B flag, and a retune can land just before it does).
    With ``whole_pass`` (PS and radiotext) the text is whole only when every
    segment was seen after every other segment's value first appeared on air:
    this catches a change whose old segments were never confirmed (a segment
    lost to noise after the change would otherwise keep its old value).  With
    ``doubt`` (PS only) a sighting of a different value puts a confirmed segment
    in doubt until the confirmed value is seen again or the new one is
    confirmed; for radiotext on the RDA5807M, which cannot tell a damaged block
    C or D, that would seldom let all sixteen segments agree at once.
    ``hint()`` counts a remembered value (``device.radio.rds.memory``) as one
    sighting; a text confirmed wholly from hints is the remembered text itself
    and needs no second pass.

``AfList``
    Method-A alternative-frequency lists from group 0A block C: a count code
    (225-249 = "n AFs follow") starts a list, codes 1-204 are VHF frequencies
    (87.5 + 0.1 n MHz), 205 is filler, 224 "no AF", 250 announces an LF/MF
    frequency (counted, not kept).  A list is complete when n frequencies have
    arrived; it is published when two successive complete lists are identical.
    Method B lists (pairs with the tuned frequency) come out as the union of
    their frequencies.
"""

from __future__ import annotations

from typing import Generic, TypeVar

T = TypeVar("T")


class Confirmed(Generic[T]):
    """A value accepted after `need` identical observations in a row."""

    def __init__(self, need: int = 2) -> None:
        self.need = max(1, need)
        self.value: T | None = None
        self._candidate: T | None = None
        self._count = 0

    def put(self, value: T) -> bool:
        """Observe `value`; True when the accepted value changed."""
        if value == self._candidate:
            self._count += 1
        else:
            self._candidate, self._count = value, 1
        if self._count >= self.need and value != self.value:
            self.value = value
            return True
        return False

    def clear(self) -> None:
        """Forget everything."""
        self.value = self._candidate = None
        self._count = 0

    def set(self, value: T) -> None:
        """Accept `value` outright (as if seen `need` times)."""
        self.value = self._candidate = value
        self._count = self.need


class SegmentedText:
    """A text received in `count` numbered segments of `size` bytes each."""

    def __init__(self, count: int, size: int, need: int = 2, whole_pass: bool = False,
                 doubt: bool = False) -> None:
        self.count = count
        self.size = size
        self.need = max(1, need)
        self.whole_pass = whole_pass and self.need > 1
        self.doubt = doubt and self.need > 1
        self.clear()

    def clear(self) -> None:
        """Forget every segment."""
        self._now = 0
        self._confirmed: list[bytes | None] = [None] * self.count
        self._fresh = [False] * self.count
        self._last_seen = [0] * self.count
        self._first_seen = [0] * self.count  # when the confirmed value was first sighted
        self._candidate: list[bytes | None] = [None] * self.count
        self._candidate_count = [0] * self.count
        self._candidate_since = [0] * self.count
        self._received = [False] * self.count
        self._hinted = [False] * self.count  # the pending value came from a hint, not from air
        self._via_hint = [False] * self.count  # the confirmed value is a hint seen once on air

    def put(self, index: int, data: bytes) -> None:
        """Store one sighting of segment `index` (its `size` bytes)."""
        self._now += 1
        self._received[index] = True
        if data == self._confirmed[index]:
            self._fresh[index] = True
            self._last_seen[index] = self._now
            self._candidate[index] = None
            return
        if self.doubt and self._confirmed[index] is not None:
            # A different value where one is confirmed: the station may have changed
            # its text, or the block is damaged. Either way the confirmed value is in
            # doubt until it is seen again or the new one is confirmed.
            self._fresh[index] = False
        via_hint = False
        if data == self._candidate[index]:
            self._candidate_count[index] += 1
            if self._hinted[index]:  # the first sighting on air of a remembered value
                self._candidate_since[index] = self._now
                via_hint = True
        else:
            self._candidate[index] = data
            self._candidate_count[index] = 1
            self._candidate_since[index] = self._now
        self._hinted[index] = False
        if self._candidate_count[index] < self.need:
            return
        self._accept(index, data, via_hint)

    def hint(self, index: int, data: bytes) -> None:
        """Count `data` as one earlier sighting of segment `index` (a value remembered
        from an earlier visit, see `device.radio.rds.memory`).

        Ignored when the segment is confirmed, when another value is pending (what
        arrived on air wins), when `need` is 1, and when the pending value is itself
        a hint: hints alone never confirm a segment, and never mark it received.
        """
        if self.need < 2 or self._confirmed[index] is not None:
            return
        pending = self._candidate[index]
        if pending is None:
            self._candidate[index] = data
            self._candidate_count[index] = 1
            self._candidate_since[index] = self._now
            self._hinted[index] = True
        elif pending == data and not self._hinted[index]:
            self._candidate_count[index] += 1
            if self._candidate_count[index] >= self.need:
                self._accept(index, data, True)

    def hint_text(self, raw: bytes) -> None:
        """`hint()` every whole segment of a remembered text, from segment 0."""
        for i in range(min(len(raw) // self.size, self.count)):
            self.hint(i, raw[i * self.size:(i + 1) * self.size])

    def _accept(self, index: int, data: bytes, via_hint: bool = False) -> None:
        self._via_hint[index] = via_hint
        previous = self._confirmed[index]
        self._confirmed[index] = data
        self._fresh[index] = True
        self._last_seen[index] = self._now
        self._first_seen[index] = self._candidate_since[index]
        self._candidate[index] = None
        if previous is not None:
            # The text changed, at the latest when this value was first seen: any
            # other segment not received since then may still hold the old text.
            since = self._candidate_since[index]
            for j in range(self.count):
                if j != index and self._last_seen[j] < since:
                    self._fresh[j] = False

    def confirmed(self, index: int) -> bool:
        """True when segment `index` is confirmed and received since the last change."""
        return self._confirmed[index] is not None and self._fresh[index]

    def received(self, index: int) -> bool:
        """True when segment `index` has been received at all since the last clear."""
        return self._received[index]

    def complete(self, terminator: int | None = None, upto: int | None = None) -> bytes | None:
        """The whole text when every segment it needs is confirmed, else None.

        With `terminator`, the text ends at the first confirmed segment holding that
        byte (the terminator itself and what follows are dropped).  With `upto`,
        only segments 0..upto are needed.
        """
        raw = self.whole(terminator, upto)
        if raw is None or terminator is None or terminator not in raw:
            return raw
        return raw[: raw.index(terminator)]

    def whole(self, terminator: int | None = None, upto: int | None = None) -> bytes | None:
        """As `complete()`, but whole segments: the one holding the terminator is kept entire."""
        out = bytearray()
        last = self.count - 1 if upto is None else upto
        first_seen = last_seen = 0
        remembered = True
        for i in range(last + 1):
            data = self._confirmed[i]
            if data is None or not self._fresh[i]:
                return None
            remembered = remembered and self._via_hint[i]
            first_seen = max(first_seen, self._first_seen[i])
            last_seen = self._last_seen[i] if i == 0 else min(last_seen, self._last_seen[i])
            out += data
            if terminator is not None and terminator in data:
                break
        # `whole_pass`: one text, not a mix: every segment was seen after every other
        # segment's value first appeared on air (a segment not received since another
        # one changed may still hold the old text). A text confirmed wholly from
        # memory is the remembered text itself, a whole one: one sighting each suffices.
        if self.whole_pass and not remembered and last_seen < first_seen:
            return None
        return bytes(out)

    def highest_received(self) -> int:
        """The highest segment index received since the last clear (-1 for none)."""
        for i in range(self.count - 1, -1, -1):
            if self._received[i]:
                return i
        return -1


AF_FILLER = 205
AF_NONE = 224
AF_COUNT_FIRST = 225
AF_COUNT_LAST = 249
AF_LFMF_FOLLOWS = 250


def af_code_to_khz(code: int) -> int | None:
    """A VHF AF code (1-204) as kHz; None for any other code."""
    if 1 <= code <= 204:
        return 87_500 + 100 * code
    return None


class AfList:
    """Collects method-A alternative-frequency lists from 0A block C."""

    def __init__(self) -> None:
        self.published: tuple[int, ...] = ()
        self._expected: int | None = None
        self._vhf: set[int] = set()
        self._lfmf: set[int] = set()
        self._lfmf_next = False
        self._last_complete: tuple[int, ...] | None = None

    def clear(self) -> None:
        """Forget everything."""
        self.published = ()
        self._expected = None
        self._vhf, self._lfmf = set(), set()
        self._lfmf_next = False
        self._last_complete = None

    def put(self, first: int, second: int) -> bool:
        """Take the two codes of one block C; True when the published list changed."""
        changed = False
        for code in (first, second):
            changed = self._code(code) or changed
        return changed

    def _code(self, code: int) -> bool:
        if self._lfmf_next:
            self._lfmf_next = False
            if self._expected is not None:
                self._lfmf.add(code)
                return self._check()
            return False
        if AF_COUNT_FIRST <= code <= AF_COUNT_LAST:
            self._expected = code - AF_NONE
            self._vhf, self._lfmf = set(), set()
            return False
        if code == AF_LFMF_FOLLOWS:
            self._lfmf_next = True
            return False
        if code == AF_NONE:
            self._expected = 0
            self._vhf, self._lfmf = set(), set()
            return self._check()
        khz = af_code_to_khz(code)
        if khz is None or self._expected is None:
            return False  # filler, unassigned code, or not inside a list
        self._vhf.add(khz)
        return self._check()

    def _check(self) -> bool:
        assert self._expected is not None
        if len(self._vhf) + len(self._lfmf) < self._expected:
            return False
        complete = tuple(sorted(self._vhf))
        self._expected = None
        confirmed = complete == self._last_complete
        self._last_complete = complete
        if confirmed and complete != self.published:
            self.published = complete
            return True
        return False
