"""The decoder on RDS groups recorded off air (tests/vectors/rds/, sources in
tests/vectors/README.md): every field the source states comes out as it says.

Each capture is a few groups; a station repeats them, so they are fed looped
(as hwsim's radio/add with groups_file broadcasts them), with the grades a
clean signal gives (0 for graded blocks) for both chips' grading.
"""

from __future__ import annotations

from typing import Any

import pytest

from device.radio.rds.decoder import RdsDecoder
from tests.radio.rds.captures import expected, groups, score

SI = (0, 0, 0, 0)
RDA = (0, 0, None, None)  # the RDA5807M grades blocks A and B only
LOOPS = 8


def decode(name: str, grades: tuple[int | None, ...]) -> dict[str, Any]:
    dec = RdsDecoder()
    for _ in range(LOOPS):
        for a, b, c, d in groups(name):
            assert None not in (a, b, c, d)
            dec.feed(a or 0, b or 0, c or 0, d or 0, errors=grades)
    doc = dec.state.as_dict()
    doc["af"] = doc.pop("af_mhz")
    return doc


@pytest.mark.parametrize("grades", [SI, RDA], ids=["si4703", "rda5807m"])
def test_rds_captures_decode_as_their_source_says(grades: tuple[int | None, ...]) -> None:
    results = {name: score(want, decode(name, grades)) for name, want in expected().items()}
    fields = [ok for per in results.values() for ok in per.values()]
    print(f"\n{sum(fields)} of {len(fields)} fields of {len(results)} captures decode as published")
    wrong = {name: [f for f, ok in per.items() if not ok] for name, per in results.items()}
    assert not {n: f for n, f in wrong.items() if f}, wrong


def test_rds_captures_nothing_before_it_is_confirmed() -> None:
    """One pass of a capture is a single sighting: no PS, radiotext, PTYN or RT+ yet."""
    for name in ("yle_x3m_6204", "radio_krka_9423", "ptyn_3abc", "rtplus_d318"):
        dec = RdsDecoder()
        for a, b, c, d in groups(name):
            dec.feed(a or 0, b or 0, c or 0, d or 0, errors=SI)
        st = dec.state
        assert (st.ps, st.ptyn, st.rt_artist, st.rt_title) == (None, None, None, None), name
