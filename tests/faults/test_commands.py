"""Hostile commands: 10 000 malformed ones (hypothesis) are each answered with an error and
change nothing; size limit, rate limit, own topics only (issue 5, §3 and §5d)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from device.config import parse_config
from device.core.daemon import Daemon
from device.core.ratelimit import TokenBucket
from device.mqtt.payloads import MAX_COMMAND_BYTES
from tests.mosquitto import Mosquitto
from tests.mqttwait import Subscriber

pytestmark = pytest.mark.broker

BASE = "pi2mqtt/ctest"
SWITCHES = ("lamp", "fan")  # led, relay
DIMMER = "dimmer"  # pwm_led
SENSOR = "cpu"
KNOWN = {*SWITCHES, DIMMER, SENSOR}
PER_EXAMPLE = 100
EXAMPLES = 100  # 100 x 100 = 10 000 commands


@pytest.fixture
def rig(broker: Mosquitto, mock_factory: MockFactory, tmp_path: Path) -> Iterator[tuple[Daemon, Subscriber, MockFactory]]:
    cpu = tmp_path / "cpu_temp"
    cpu.write_text("45000\n")
    cfg = parse_config({
        "device": {"id": "ctest"}, "mqtt": {"url": broker.url}, "homeassistant": {"enabled": False},
        "cpu_temperature": [{"name": SENSOR, "sensor_file": str(cpu), "interval": "10s"}],
        "led": [{"name": "lamp", "pin": 17}],
        "relay": [{"name": "fan", "pin": 27}],
        "pwm_led": [{"name": DIMMER, "pin": 18, "initial": 0.25}],
    })
    (tmp_path / "state").mkdir()
    d = Daemon(cfg, pin_factory=mock_factory, state_dir=tmp_path / "state")
    d.start()
    sub = Subscriber(broker.port).connect()
    sub.subscribe(f"{BASE}/+/set/reply")
    sub.subscribe(f"{BASE}/+/set/+/set/reply")
    assert d.client.wait_connected(10)
    yield d, sub, mock_factory
    sub.close()
    d.stop()


def pin_states(factory: MockFactory) -> dict[int, Any]:
    return {n: factory.pin(n).state for n in (17, 18, 27)}


# -- what a malformed command looks like ---------------------------------------------------
_VALID_WORDS = {"on", "off", "true", "false", "toggle", "1", "0"}


def _not_a_valid_word(text: str) -> bool:
    v = text.strip().lower()
    if v in _VALID_WORDS:
        return False
    try:
        float(v)
        return False  # a number in words may be a valid brightness
    except ValueError:
        return True


def _dump(doc: Any) -> bytes:
    return json.dumps(doc).encode()


json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_any = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=10)

junk_bytes = st.binary(max_size=200).map(lambda b: b"\xff" + b)  # never UTF-8
empty = st.sampled_from([b"", b" ", b"\n", b"\t \r\n"])
huge = st.integers(MAX_COMMAND_BYTES + 1, 3 * MAX_COMMAND_BYTES).map(lambda n: b"{" + b"x" * (n - 1))
broken_json = st.text(max_size=60).map(lambda t: "{" + t).filter(lambda t: not _parses(t)).map(str.encode)
unknown_field = st.tuples(json_any, st.text(min_size=1, max_size=10).filter(lambda k: k not in ("value", "id")),
                          json_any).map(lambda t: _dump({"value": t[0], t[1]: t[2]}))
missing_value = st.dictionaries(st.just("id"), st.text(max_size=5) | st.integers(), max_size=1).map(_dump)
bad_id = st.tuples(st.booleans(), st.floats(allow_nan=False).filter(lambda f: f != int(f) if math.isfinite(f) else True)
                   | st.lists(st.integers(), max_size=3) | st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)
                   ).map(lambda t: _dump({"value": t[0], "id": t[1]}))
wrong_type = (st.lists(json_any, max_size=3) | st.dictionaries(st.text(max_size=5), json_any, max_size=3)
              ).map(lambda v: _dump({"value": v}))
bad_word = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,20}", fullmatch=True).filter(_not_a_valid_word).map(str.encode)
bad_string = st.text(max_size=30).filter(_not_a_valid_word).map(lambda t: _dump({"value": t}))
out_of_range = (st.floats(min_value=1.0001, allow_infinity=False) | st.floats(max_value=-0.0001, allow_infinity=False)
                | st.integers(min_value=2) | st.integers(max_value=-1)).map(lambda v: _dump({"value": v, "id": "r"}))


def _parses(text: str) -> bool:
    try:
        json.loads(text)
        return True
    except ValueError:
        return False


malformed = junk_bytes | empty | huge | broken_json | unknown_field | missing_value | bad_id | wrong_type \
    | bad_word | bad_string | out_of_range
# To a sensor or an unknown entity, even a well-formed command is an error.
anything = malformed | st.sampled_from([b"on", b"off", b"toggle", b"0.5", b'{"value": true}'])
unknown_entity = st.from_regex(r"[a-z0-9_-]{1,24}", fullmatch=True).filter(lambda n: n not in KNOWN)

command = st.one_of(
    st.tuples(st.sampled_from([*SWITCHES, DIMMER]), malformed),
    st.tuples(st.just(SENSOR), anything),
    st.tuples(unknown_entity, anything),
)


@pytest.mark.timeout(900)  # a volume test: 17 s on an idle machine, minutes on a loaded one
def test_commands_10000_malformed_each_answered_with_an_error_state_unchanged(
    rig: tuple[Daemon, Subscriber, MockFactory],
) -> None:
    d, sub, factory = rig
    d.commands.rate = TokenBucket(rate=1e9, burst=10**9)  # the limit has its own test below
    before = pin_states(factory)
    states = {name: comp.state() for name, comp in d.outputs.items()}
    sent = [0]

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                     HealthCheck.data_too_large])
    @given(batch=st.lists(command, min_size=PER_EXAMPLE, max_size=PER_EXAMPLE))
    def check(batch: list[tuple[str, bytes]]) -> None:
        with sub._cond:
            sub.messages.clear()
        for entity, payload in batch:
            sub.client.publish(f"{BASE}/{entity}/set", payload, qos=1)
        sent[0] += len(batch)
        replies = sub.wait_count(lambda m: m.topic.endswith("/set/reply"), len(batch), timeout=20)
        docs = [m.json() for m in replies]
        bad = [(m.topic, doc) for m, doc in zip(replies, docs, strict=True) if doc.get("ok") is not False]
        assert not bad, bad[:3]
        expected: dict[str, int] = {}
        for entity, _ in batch:
            expected[f"{BASE}/{entity}/set/reply"] = expected.get(f"{BASE}/{entity}/set/reply", 0) + 1
        got: dict[str, int] = {}
        for m in replies:
            got[m.topic] = got.get(m.topic, 0) + 1
        assert got == expected

    check()
    assert sent[0] == EXAMPLES * PER_EXAMPLE
    assert pin_states(factory) == before
    assert {name: comp.state() for name, comp in d.outputs.items()} == states
    assert d.client.callback_errors == 0
    assert d.commands.ok == 0 and d.commands.refused > 0  # none applied
    # Still works afterwards.
    with sub._cond:
        sub.messages.clear()
    sub.publish(f"{BASE}/lamp/set", b"on")
    reply = sub.wait_topic(f"{BASE}/lamp/set/reply", timeout=10)
    assert reply.json()["ok"] is True


def test_commands_over_the_size_limit_are_refused(rig: tuple[Daemon, Subscriber, MockFactory]) -> None:
    _, sub, factory = rig
    before = pin_states(factory)
    sub.publish(f"{BASE}/lamp/set", b'{"value": true, "id": "' + b"x" * MAX_COMMAND_BYTES + b'"}')
    doc = sub.wait_topic(f"{BASE}/lamp/set/reply", timeout=10).json()
    assert doc["ok"] is False and doc["code"] == "TOO_LARGE"
    assert pin_states(factory) == before


def test_commands_beyond_the_rate_limit_are_answered_rate_limited(
    rig: tuple[Daemon, Subscriber, MockFactory],
) -> None:
    d, sub, _ = rig
    n = 120  # burst 50, 20/s: a quick volley of 120 must hit the limit
    for i in range(n):
        sub.client.publish(f"{BASE}/fan/set", _dump({"value": i % 2 == 0, "id": i}), qos=1)
    replies = sub.wait_count(lambda m: m.topic == f"{BASE}/fan/set/reply", n, timeout=20)
    codes = [m.json().get("code") for m in replies]
    limited = codes.count("RATE_LIMITED")
    assert limited > 0 and codes.count(None) >= 50
    assert d.diagnostics()["commands"]["rate_limited"] == limited


def test_commands_only_on_the_devices_own_topics(
    rig: tuple[Daemon, Subscriber, MockFactory], broker: Mosquitto,
) -> None:
    d, sub, factory = rig
    before = pin_states(factory)
    other = Subscriber(broker.port).connect()
    try:
        other.subscribe("#")
        sub.publish("pi2mqtt/other-device/lamp/set", b"on")
        sub.publish(f"{BASE}/lamp/extra/set", b"on")
        sub.publish(f"{BASE}/lamp", b"on")
        # A marker command after them: once its reply is here, the others were seen too.
        sub.publish(f"{BASE}/cpu/set", b"on")
        other.wait_topic(f"{BASE}/cpu/set/reply", timeout=10)
    finally:
        other.close()
    assert pin_states(factory) == before
    assert not [m for m in other.messages if m.topic.startswith("pi2mqtt/other-device/") and "reply" in m.topic]
    assert not [m for m in other.messages if m.topic.startswith(f"{BASE}/lamp/extra") and "reply" in m.topic]
    assert d.commands.ok == 0

