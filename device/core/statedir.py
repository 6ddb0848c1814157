"""What the daemon keeps across restarts in its state directory.

Sequence numbers (docs/topics.md, "seq"): each entity's `seq` goes up by one per
reading and continues across restarts, and a gap means a reading really lost.

With a durable outbox (the default) nothing is written per reading: the outbox stores
each waiting reading with its seq and, in every transaction it makes anyway, each
entity's highest seq (`SeqMarks`). A run continues from those marks when they are
*exact* (the last run stopped cleanly or was disconnected when it died). When they
are not (it died while connected: readings may have reached the broker without ever
touching the disk), the broker is asked: `device.core.seqsync` reads the entity's
retained reading, which carries the newest seq published, before the first seq is
handed out.

Without one (`durability = "memory"`, or a database that cannot be opened) the store
falls back to *reserving* blocks in `seq.json`: the file records, per entity, a number
no seq has reached yet; a clean shutdown records the exact next value. After a crash
the next run starts at the reserved mark — a gap, never a reused number.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Mapping
from pathlib import Path

from device.outbox.types import SeqMarks

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

    def __init__(self, path: Path | None, block: int = BLOCK, marks: SeqMarks | None = None) -> None:
        self.path = path
        self.block = block
        self._lock = threading.Lock()
        self._next: dict[str, int] = {}
        self._reserved: dict[str, int] = {}
        self._durable = marks is not None  # the outbox keeps the marks: never write seq.json
        self._ready = threading.Event()
        self._ready_flag = True
        if path is not None:
            self._load(path)  # from a memory-mode run or an older version: a lower bound
        if marks is not None:
            for entity, seq in marks.marks.items():
                self._next[entity] = max(self._next.get(entity, 1), seq + 1)
            self.exact = marks.exact
        else:
            self.exact = True
        self._ready.set()

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

    # -- after a crash while connected --------------------------------------------------
    def hold(self) -> None:
        """Hand out no seq until `release()`: the broker must be asked first."""
        self._ready_flag = False
        self._ready.clear()

    def release(self, published: Mapping[str, int] | None) -> None:
        """Continue above what the broker holds (`published`: entity -> newest seq there).

        None: the broker could not be asked; every entity then jumps one block ahead of
        what is known (a gap with no loss, logged), so no published seq is reused.
        """
        with self._lock:
            if published is None:
                known = max(self._next.values(), default=1)
                log.warning("after a crash the broker could not be asked for the last seq; "
                            "seq continues %d above the last one stored (a gap, no reading lost)",
                            self.block)
                self._next = {e: n + self.block for e, n in self._next.items()}
                self._floor = known + self.block
            else:
                for entity, seq in published.items():
                    self._next[entity] = max(self._next.get(entity, 1), seq + 1)
            self.exact = True
        self._ready_flag = True
        self._ready.set()

    _floor = 1  # where an entity never seen starts

    def next(self, entity: str) -> int:
        """The seq for the entity's next reading (starting at 1)."""
        if not self._ready_flag:
            self._ready.wait()
        with self._lock:
            n = self._next.get(entity, self._floor)
            self._next[entity] = n + 1
            if not self._durable and n + 1 > self._reserved.get(entity, 0):
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
        """Record the exact next values (a clean shutdown leaves no gap).

        With a durable outbox its own marks are what counts; the file is still written
        (once, at stop) so that a later run in memory mode cannot go back.
        """
        with self._lock:
            self._persist(reserved=False)
