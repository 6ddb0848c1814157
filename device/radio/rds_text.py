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
    16 x 4; 2B: 16 x 2).  A segment counts as confirmed when its value has been
    received ``need`` times in a row.  When a segment arrives with a value that
    differs from the one held, the text has changed (or the block was corrupt): that
    segment starts again at one sighting, and every *other* segment must be
    received at least once more before it counts again.  So a published text is
    never a mix of an old and a new text, and a single corrupted segment cannot
    be published unless the identical corruption arrives ``need`` times in a row.

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


class SegmentedText:
    """A text received in `count` numbered segments of `size` bytes each."""

    def __init__(self, count: int, size: int, need: int = 2) -> None:
        self.count = count
        self.size = size
        self.need = max(1, need)
        self._values: list[bytes | None] = [None] * count
        self._seen = [0] * count

    def clear(self) -> None:
        """Forget every segment."""
        self._values = [None] * self.count
        self._seen = [0] * self.count

    def put(self, index: int, data: bytes) -> None:
        """Store segment `index` (its `size` bytes)."""
        if self._values[index] == data:
            self._seen[index] = min(self._seen[index] + 1, self.need)
            return
        changed = self._values[index] is not None
        self._values[index] = data
        self._seen[index] = 1
        if changed:
            cap = self.need - 1
            for j in range(self.count):
                if j != index and self._seen[j] > cap:
                    self._seen[j] = cap

    def confirmed(self, index: int) -> bool:
        """True when segment `index` has been received consistently."""
        return self._seen[index] >= self.need

    def received(self, index: int) -> bool:
        """True when segment `index` has been received at all since the last clear."""
        return self._values[index] is not None

    def complete(self, terminator: int | None = None, upto: int | None = None) -> bytes | None:
        """The whole text when every segment it needs is confirmed, else None.

        With `terminator`, the text ends at the first confirmed segment holding that
        byte (the terminator itself and what follows are dropped).  With `upto`,
        only segments 0..upto are needed.
        """
        out = bytearray()
        last = self.count - 1 if upto is None else upto
        for i in range(last + 1):
            data = self._values[i]
            if data is None or not self.confirmed(i):
                return None
            if terminator is not None and terminator in data:
                out += data[: data.index(terminator)]
                return bytes(out)
            out += data
        return bytes(out)

    def highest_received(self) -> int:
        """The highest segment index received since the last clear (-1 for none)."""
        for i in range(self.count - 1, -1, -1):
            if self._values[i] is not None:
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
