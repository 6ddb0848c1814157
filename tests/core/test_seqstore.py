"""SeqStore with a durable outbox's marks: where a run starts (docs/reliability.md, "seq after a crash")."""

from __future__ import annotations

import threading
from pathlib import Path

from device.core.statedir import SeqStore
from device.outbox import SeqMarks


def test_seq_exact_marks_continue_at_once(tmp_path: Path) -> None:
    s = SeqStore(tmp_path / "seq.json", marks=SeqMarks({"a": 41}, exact=True))
    assert s.exact and s.next("a") == 42 and s.next("b") == 1
    assert not (tmp_path / "seq.json").exists()  # nothing written per reading


def test_seq_after_a_crash_while_connected_waits_for_the_broker(tmp_path: Path) -> None:
    s = SeqStore(None, marks=SeqMarks({"a": 10, "b": 5}, exact=False))
    assert not s.exact
    s.hold()
    got: list[int] = []
    t = threading.Thread(target=lambda: got.append(s.next("a")))
    t.start()
    t.join(0.2)
    assert got == []  # no number before the broker has answered
    s.release({"a": 17, "c": 3})  # the broker's retained readings
    t.join(5)
    assert got == [18] and s.next("b") == 6 and s.next("c") == 4


def test_seq_broker_unreachable_after_a_crash_jumps_a_block(tmp_path: Path) -> None:
    s = SeqStore(None, block=1000, marks=SeqMarks({"a": 10}, exact=False))
    s.hold()
    s.release(None)
    assert s.next("a") == 1011  # a gap, never a reused number
    assert s.next("new") == 1011  # an entity never seen starts above every known number


def test_seq_legacy_file_is_a_lower_bound(tmp_path: Path) -> None:
    p = tmp_path / "seq.json"
    p.write_text('{"version": 1, "entities": {"a": {"next": 2000}}}')
    s = SeqStore(p, marks=SeqMarks({"a": 50}, exact=True))
    assert s.next("a") == 2000
    s.close()  # one write at a clean stop, so a later memory-mode run cannot go back
    assert SeqStore(p).next("a") == 2001
