"""Drift-free schedule and change-only publishing."""

from __future__ import annotations

from device.core.schedule import ChangeFilter, next_slot


def test_schedule_deadlines_come_from_the_start_not_from_now() -> None:
    start, interval = 1000.0, 0.1
    index, due = 0, start
    # Reads that finish at varying times never shift later deadlines.
    for k in range(1, 100_000):
        slot = next_slot(start, interval, due + 0.003 * (k % 7), index)
        index, due = slot.index, slot.due
        assert slot.skipped == 0
    assert index == 99_999
    assert abs(due - (start + 99_999 * interval)) < 1e-6


def test_schedule_overrun_skips_missed_slots() -> None:
    slot = next_slot(0.0, 1.0, 3.5, 0)
    assert (slot.index, slot.due, slot.skipped) == (4, 4.0, 3)  # slots 1, 2 and 3 passed


def test_schedule_exact_deadline_is_not_skipped() -> None:
    slot = next_slot(0.0, 1.0, 1.0, 0)
    assert (slot.index, slot.skipped) == (1, 0)


def test_change_filter_without_deadband_publishes_everything() -> None:
    f = ChangeFilter(None, None)
    assert all(f.should_publish(1.0, t) for t in range(5))


def test_change_filter_deadband_and_heartbeat() -> None:
    f = ChangeFilter(0.5, 10.0)
    assert f.should_publish(20.0, 0)
    assert not f.should_publish(20.4, 1)
    assert not f.should_publish(19.6, 2)
    assert f.should_publish(20.5, 3)       # moved by the deadband from the last published
    assert not f.should_publish(20.6, 4)
    assert f.should_publish(20.6, 13)      # heartbeat
    assert f.should_publish(None, 14)      # a failure always goes out
    assert f.should_publish(20.6, 15)      # and the recovery too
