"""What the daemon keeps across restarts in its state directory.

Sequence numbers: each entity's `seq` goes up by one per published reading and
continues across restarts. Writing the counter on every reading would cost a
file write per reading, so the store *reserves* blocks: the file records, per
entity, a number no seq has reached yet (`reserved`). A clean shutdown records
the exact next value, so the next run continues without a gap; after a crash
the next run starts at the reserved mark — a gap, never a reused number.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

log = logging.getLogger("pi2mqtt.state")

BLOCK = 1000


def resolve_state_dir(configured: Path | None) -> Path:
    """The state directory: config, else $STATE_DIRECTORY (systemd), else XDG state home."""
    if configured is not None:
        return configured.expanduser()
    env = os.environ.get("STATE_DIRECTORY")
    if env:
        return Path(env.split(":")[0])
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "state"
    return base / "pi2mqtt"


def atomic_write(path: Path, text: str) -> None:
    """Write a file so that a crash leaves either the old or the new content."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class SeqStore:
    """Per-entity sequence numbers that never go back, even after a crash."""

    def __init__(self, path: Path | None, block: int = BLOCK) -> None:
        self.path = path
        self.block = block
        self._lock = threading.Lock()
        self._next: dict[str, int] = {}
        self._reserved: dict[str, int] = {}
        if path is not None:
            self._load(path)

    def _load(self, path: Path) -> None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as e:
            log.warning("%s unreadable (%s); sequence numbers restart from a fresh block", path, e)
            return
        for entity, rec in data.get("entities", {}).items():
            if isinstance(rec, dict) and isinstance(rec.get("next"), int):
                # A clean shutdown wrote "next" == "reserved"; after a crash only "reserved" holds.
                self._next[entity] = int(rec["next"])

    def next(self, entity: str) -> int:
        """The seq for the entity's next reading (starting at 1)."""
        with self._lock:
            n = self._next.get(entity, 1)
            self._next[entity] = n + 1
            if n + 1 > self._reserved.get(entity, 0):
                self._reserved[entity] = n + self.block
                self._persist(reserved=True)
            return n

    def _persist(self, reserved: bool) -> None:
        if self.path is None:
            return
        marks = self._reserved if reserved else self._next
        entities = {e: {"next": marks.get(e, self._next[e])} for e in self._next}
        try:
            atomic_write(self.path, json.dumps({"version": 1, "entities": entities}))
        except OSError as e:
            log.warning("cannot save sequence numbers to %s: %s", self.path, e)

    def close(self) -> None:
        """Record the exact next values (a clean shutdown leaves no gap)."""
        with self._lock:
            self._persist(reserved=False)
