"""The station names (PS) and radiotexts the radio has confirmed before, by PI code.

Theory of operation
-------------------
The RDS decoder publishes a PS or a radiotext only when every segment has been
received twice (see `device.radio.rds.text`): one sighting could be a block the
noise damaged without the chip noticing. For a PS that costs eight 0A groups, at
least 0.7 s and usually 0.9 s, and on the RDA5807M, which grades only blocks A
and B, there is no error-free shortcut; a radiotext takes two passes of its
2A groups, seconds.

A station heard before has already been received twice. `RdsMemory` keeps, for
each PI the decoder confirmed, the last PS and the last radiotext (2A and 2B
apart) it completed. When the decoder next confirms that PI, every remembered
segment counts as one earlier sighting (`SegmentedText.hint`), so the first
sighting on air of the same characters confirms the segment: a PS the station
still sends is complete after four 0A groups, the RDS minimum, and an unchanged
radiotext after one pass. A segment the station changed, or a damaged block, does
not match the memory and needs its two sightings on air as before. Nothing is
published from memory alone: every character shown was received in this visit.

A scan fills the memory for the whole band. It holds `capacity` entries (a PS or
a radiotext each; the least recently heard is dropped first) and is saved by the
radio service as `<name>_rds_memory.json` in the state directory: hexadecimal PI,
the kind, the raw bytes in hexadecimal, and the decoded text for people reading
the file.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Final

from device.radio.rds import charset

PS: Final = "ps"
RT_2A: Final = "rt2a"
RT_2B: Final = "rt2b"
# kind -> (segment size in bytes, largest number of segments)
KINDS: Final = {PS: (2, 4), RT_2A: (4, 16), RT_2B: (2, 16)}
_ALLOWED_CONTROLS: Final = frozenset((0x0A, 0x0B, 0x0D, 0x1F))  # as in a radiotext
DEFAULT_CAPACITY: Final = 512


def valid(kind: str, raw: bytes) -> bool:
    """True when `raw` can be a `kind` text: whole segments, and for a PS exactly four."""
    if kind not in KINDS:
        return False
    size, most = KINDS[kind]
    n, rest = divmod(len(raw), size)
    if rest or not 1 <= n <= most or (kind == PS and n != most):
        return False
    allowed = frozenset() if kind == PS else _ALLOWED_CONTROLS
    return not any(charset.is_control(b) and b not in allowed for b in raw)


class RdsMemory:
    """(PI, kind) -> the raw bytes last confirmed (least recently used dropped); see the module docstring."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = max(1, capacity)
        self._texts: OrderedDict[tuple[int, str], bytes] = OrderedDict()
        self.changed = False  # set on every change; the owner clears it after saving

    def __len__(self) -> int:
        return len(self._texts)

    def names(self) -> int:
        """How many stations have a remembered PS."""
        return sum(1 for _, kind in self._texts if kind == PS)

    def get(self, pi: int, kind: str = PS) -> bytes | None:
        """The remembered raw text of `pi`, None if there is none."""
        return self._texts.get((pi, kind))

    def put(self, pi: int, raw: bytes, kind: str = PS) -> bool:
        """Remember `raw` as the `kind` text of `pi`; True when that changed the memory.

        Called for every group that completes a text; the common case (the text is
        already remembered) costs one lookup.
        """
        key = (pi, kind)
        if self._texts.get(key) == raw:
            self._texts.move_to_end(key)
            return False
        if not 0 <= pi <= 0xFFFF or not valid(kind, raw):
            return False
        self._texts[key] = raw
        self._texts.move_to_end(key)
        while len(self._texts) > self.capacity:
            self._texts.popitem(last=False)
        self.changed = True
        return True

    def to_json(self) -> list[dict[str, str]]:
        """Oldest first, so that loading keeps the order."""
        return [{"pi": f"{pi:04X}", "kind": kind, "raw": raw.hex(),
                 "text": charset.decode(raw.split(b"\r")[0]).rstrip(" ")}
                for (pi, kind), raw in self._texts.items()]

    @classmethod
    def from_json(cls, doc: object, capacity: int = DEFAULT_CAPACITY) -> RdsMemory:
        """The memory a `to_json()` list describes; entries that make no sense are skipped."""
        mem = cls(capacity)
        if isinstance(doc, list):
            for item in doc:
                entry = _entry(item)
                if entry is not None:
                    mem.put(entry[0], entry[2], entry[1])
        mem.changed = False
        return mem


def _entry(item: object) -> tuple[int, str, bytes] | None:
    if not isinstance(item, dict):
        return None
    pi, kind, raw = item.get("pi"), item.get("kind", PS), item.get("raw")
    if not isinstance(pi, str) or not isinstance(kind, str) or not isinstance(raw, str) or len(pi) != 4:
        return None
    try:
        return int(pi, 16), kind, bytes.fromhex(raw)
    except ValueError:
        return None
