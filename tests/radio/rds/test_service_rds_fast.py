"""StationRds: the fast path takes only error-free groups on a strong signal; never garbage otherwise."""

from __future__ import annotations

from device.radio.rds.decoder import PsChanged
from device.radio.rds.fast import StationRds
from hwsim.chips.rds_groups import ps_groups

GROUPS = ps_groups(0xD311, "ALPHA FM", pty=10)


def feed_all(rds: StationRds, groups: list[tuple[int, int, int, int]], errors: list[int | None],
             rssi: int | None) -> list[object]:
    out: list[object] = []
    for g in groups:
        out.extend(rds.feed(*g, errors=errors, rssi=rssi))
    return out


def test_station_rds_fast_path_needs_every_block_graded_zero_and_a_strong_signal() -> None:
    rds = StationRds()
    events = feed_all(rds, GROUPS, [0, 0, 0, 0], rssi=55)
    assert rds.state.ps == "ALPHA FM" and [e for e in events if isinstance(e, PsChanged)] == [PsChanged("ALPHA FM")]
    assert rds.fast_groups == len(GROUPS)

    weak = StationRds()
    feed_all(weak, GROUPS, [0, 0, 0, 0], rssi=30)
    assert weak.state.ps is None and weak.fast_groups == 0

    ungraded = StationRds()
    feed_all(ungraded, GROUPS, [0, 0, None, None], rssi=60)
    assert ungraded.state.ps is None


def test_station_rds_reports_a_ps_once_when_the_confirmed_decoder_agrees() -> None:
    rds = StationRds()
    first = feed_all(rds, GROUPS, [0, 0, 0, 0], rssi=60)
    second = feed_all(rds, GROUPS, [0, 0, 0, 0], rssi=60)
    assert sum(isinstance(e, PsChanged) for e in first + second) == 1
    assert rds.confirmed.state.ps == "ALPHA FM"


def test_station_rds_corrupt_block_d_with_a_grade_is_never_shown() -> None:
    rds = StationRds()
    bad = [(a, b, c, d ^ 0x0101) for a, b, c, d in GROUPS]
    feed_all(rds, bad, [0, 0, 0, 3], rssi=60)  # the chip says block D is uncorrectable
    assert rds.state.ps is None
    rds.reset()
    assert rds.state.pi is None
