"""The station names (PS) the radio has confirmed before, by PI code.

Theory of operation
-------------------
The RDS decoder publishes a PS only when every segment has been received
twice (see `device.radio.rds_text`): one sighting could be a block the noise
damaged without the chip noticing. That costs eight 0A groups, at least 0.7 s
and usually 0.9 s, and on the RDA5807M, which grades only blocks A and B,
there is no error-free shortcut.

A station heard before has already been received twice. `PsMemory` keeps the
last PS the confirming decoder completed for each PI it confirmed; when the
decoder next confirms that PI, every remembered segment counts as one earlier
sighting (`SegmentedText.hint`), so the first sighting on air of the same two
characters confirms the segment. A PS the station still sends is then complete
after four 0A groups, the RDS minimum; a segment the station changed, or a
damaged block, does not match the memory and needs its two sightings on air as
before. Nothing is published from memory alone: every character shown was
received in this visit.

A scan fills the memory for the whole band. It holds `capacity` stations (the
least recently heard is dropped first) and is saved by the radio service as
`<name>_ps.json` in the state directory: hexadecimal PI and the eight raw bytes,
plus the decoded name for people reading the file.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Final

from device.radio import charset

PS_BYTES: Final = 8
DEFAULT_CAPACITY: Final = 256


class PsMemory:
    """PI -> the eight raw bytes of the station's last confirmed PS (least recently used dropped)."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = max(1, capacity)
        self._names: OrderedDict[int, bytes] = OrderedDict()
        self.changed = False  # set on every change; the owner clears it after saving

    def __len__(self) -> int:
        return len(self._names)

    def get(self, pi: int) -> bytes | None:
        """The remembered raw PS of `pi`, None if the station was never confirmed."""
        return self._names.get(pi)

    def put(self, pi: int, raw: bytes) -> bool:
        """Remember `raw` (8 bytes) as the PS of `pi`; True when that changed the memory."""
        if len(raw) != PS_BYTES or not 0 <= pi <= 0xFFFF:
            return False
        old = self._names.get(pi)
        if old == raw:
            self._names.move_to_end(pi)
            return False
        self._names[pi] = raw
        self._names.move_to_end(pi)
        while len(self._names) > self.capacity:
            self._names.popitem(last=False)
        self.changed = True
        return True

    def forget(self) -> None:
        """Drop every name."""
        if self._names:
            self._names.clear()
            self.changed = True

    def to_json(self) -> list[dict[str, str]]:
        """Oldest first, so that loading keeps the order."""
        return [{"pi": f"{pi:04X}", "raw": raw.hex(), "ps": charset.decode(raw).strip()}
                for pi, raw in self._names.items()]

    @classmethod
    def from_json(cls, doc: Any, capacity: int = DEFAULT_CAPACITY) -> PsMemory:
        """The memory a `to_json()` list describes; entries that make no sense are skipped."""
        mem = cls(capacity)
        if isinstance(doc, list):
            for item in doc:
                entry = _entry(item)
                if entry is not None:
                    mem.put(*entry)
        mem.changed = False
        return mem


def _entry(item: Any) -> tuple[int, bytes] | None:
    if not isinstance(item, dict):
        return None
    pi, raw = item.get("pi"), item.get("raw")
    if not isinstance(pi, str) or not isinstance(raw, str) or len(pi) != 4:
        return None
    try:
        code, data = int(pi, 16), bytes.fromhex(raw)
    except ValueError:
        return None
    if len(data) != PS_BYTES or any(charset.is_control(b) for b in data):
        return None
    return code, data
