"""Off-air RDS captures end to end: hwsim radio/add with groups_file → chip model →
firmware → link → daemon → MQTT `radio_rds`, for both chips.

The captures and what their source says they decode to are in tests/vectors/rds/
(sources in tests/vectors/README.md). Each station is tuned in turn; every field
the source states must come out as it says. Run with `-s` for the count.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e_radio.radiohost import BASE, RadioHost
from tests.radio.rds.captures import capture_path, expected, score

FIRST_MHZ = 89.0
STEP_MHZ = 0.2
TIMEOUT_S = 15.0


def _last_rds(host: RadioHost, after: int) -> dict[str, Any]:
    docs = [m.json() for m in host.sub.messages[after:] if m.topic == f"{BASE}/radio_rds"]
    return dict(docs[-1]) if docs else {}


def _decode(host: RadioHost, mhz: float, want: dict[str, Any]) -> dict[str, bool]:
    mark = host.mark()
    assert host.cmd({"cmd": "tune", "mhz": mhz})["ok"]
    try:
        doc = host.wait_rds(lambda d: all(score(want, d).values()), timeout=TIMEOUT_S, after=mark)
    except AssertionError:
        doc = _last_rds(host, mark)
    return score(want, doc)


@pytest.mark.parametrize("chip", ["rda5807m", "si4703"])
def test_radio_captures_decode_end_to_end(radio_host: Callable[..., RadioHost], chip: str) -> None:
    host = radio_host(chip=chip)
    host.control("radio/time_scale", "0.05")
    stations = list(expected().items())
    for i, (name, _) in enumerate(stations):
        mhz = round(FIRST_MHZ + STEP_MHZ * i, 1)
        host.control("radio/add", {"mhz": mhz, "groups_file": str(capture_path(name)), "rssi": 60})
    results = {name: _decode(host, round(FIRST_MHZ + STEP_MHZ * i, 1), want)
               for i, (name, want) in enumerate(stations)}
    fields = [ok for per in results.values() for ok in per.values()]
    print(f"\n{chip}: {sum(fields)} of {len(fields)} fields of {len(results)} captures decode as published")
    wrong = {n: [f for f, ok in per.items() if not ok] for n, per in results.items()}
    assert not {n: f for n, f in wrong.items() if f}, wrong


def test_radio_state_carries_the_rds_block_error_rate(radio_host: Callable[..., RadioHost]) -> None:
    """`rds_bler` in the radio state: 0 on a clean station, up when blocks are damaged; `snr` null."""
    host = radio_host()
    clean = host.wait_state(lambda s: s.get("rds_bler") == 0.0, timeout=TIMEOUT_S)
    assert clean["snr"] is None  # neither chip reports an SNR
    mark = host.mark()
    host.control("radio/error_rate", {"rate": 0.6, "mhz": 88.4})
    noisy = host.wait_state(lambda s: (s.get("rds_bler") or 0) >= 10, timeout=TIMEOUT_S, after=mark)
    assert noisy["value"] == 88.4
