"""The co-processor through the daemon: BME280 readings over the firmware and the pty link,
and recovery from what a serial line does — unplug, reboot, garbage, a NACKing chip."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from tests.e2e.conftest import DaemonProcess, write_config
from tests.mqttwait import Msg, Subscriber

COPROC = """
[coprocessor]
port = "/dev/ttyACM0"
baud = 1000000
[[bme280]]
name = "room"
interval = "200ms"
timeout = "1s"
[[cpu_temperature]]
name = "cpu"
interval = "100ms"
"""
T = "pi2mqtt/e2e/room_temperature"


def good(m: Msg) -> bool:
    return m.topic == T and m.json()["value"] is not None


def start(spawn: Callable[..., DaemonProcess], sub: Subscriber, tmp_path: Path) -> None:
    sub.subscribe("pi2mqtt/e2e/#")
    sub.subscribe("hwsim/e2e/reply")
    spawn(write_config(tmp_path, COPROC))
    sub.wait_for(good, timeout=30)


def control(sub: Subscriber, path: str, payload: str = "") -> None:
    n = len(sub.on("hwsim/e2e/reply"))
    sub.publish(f"hwsim/e2e/{path}", payload)
    sub.wait_count(lambda m: m.topic == "hwsim/e2e/reply", n + 1)
    assert sub.on("hwsim/e2e/reply")[-1].json()["ok"] is True


def no_violations(sub: Subscriber) -> None:
    """The simulated chips saw nothing their datasheets leave undefined (hwsim.chips.datasheet)."""
    control(sub, "chips/violations")
    assert sub.on("hwsim/e2e/reply")[-1].json().get("value") == []


def test_e2e_bme280_values_travel_through_firmware_and_link(
    spawn: Callable[..., DaemonProcess], subscriber: Subscriber, tmp_path: Path
) -> None:
    start(spawn, subscriber, tmp_path)
    control(subscriber, "environment/temperature", "23.5")
    control(subscriber, "environment/humidity", "61")
    control(subscriber, "environment/pressure", "1001.5")
    subscriber.wait_topic(T, where=lambda m: abs((m.json()["value"] or 0) - 23.5) < 0.2)
    h = subscriber.wait_topic("pi2mqtt/e2e/room_humidity", where=lambda m: abs((m.json()["value"] or 0) - 61) < 1.5)
    p = subscriber.wait_topic("pi2mqtt/e2e/room_pressure", where=lambda m: abs((m.json()["value"] or 0) - 1001.5) < 0.5)
    assert h.json()["unit"] == "%" and p.json()["unit"] == "hPa"
    no_violations(subscriber)


def test_e2e_unplug_then_replug_resumes_without_restart(
    spawn: Callable[..., DaemonProcess], subscriber: Subscriber, tmp_path: Path
) -> None:
    start(spawn, subscriber, tmp_path)
    control(subscriber, "mcu/unplug")
    # The entities go unavailable (an error reading) while the rest carries on.
    subscriber.wait_topic(T, where=lambda m: m.json()["value"] is None and "error" in m.json(), timeout=10)
    n_cpu = len(subscriber.on("pi2mqtt/e2e/cpu"))
    subscriber.wait_count(lambda m: m.topic == "pi2mqtt/e2e/cpu", n_cpu + 10)
    control(subscriber, "mcu/replug")
    t0 = time.monotonic()
    subscriber.wait_for(lambda m: good(m) and m.received > t0, timeout=10)


def test_e2e_mcu_reboot_is_noticed_and_recovered(
    spawn: Callable[..., DaemonProcess], subscriber: Subscriber, tmp_path: Path
) -> None:
    subscriber.subscribe("pi2mqtt/e2e/diagnostics")
    start(spawn, subscriber, tmp_path)
    control(subscriber, "mcu/reboot")
    t0 = time.monotonic()
    subscriber.wait_for(lambda m: good(m) and m.received > t0 + 0.5, timeout=10)
    no_violations(subscriber)  # the rebooted firmware reset and re-read the BME280 by the book
    # The daemon saw the reboot and shook hands again; the link is up.
    subscriber.wait_topic("pi2mqtt/e2e/diagnostics", timeout=10, where=lambda m: (
        m.json().get("link", {}).get("handshakes", 0) >= 2 and m.json()["link"]["state"] == "up"))


def test_e2e_garbage_on_the_line_is_counted_and_skipped(
    spawn: Callable[..., DaemonProcess], subscriber: Subscriber, tmp_path: Path
) -> None:
    start(spawn, subscriber, tmp_path)
    control(subscriber, "mcu/garbage", "200000")  # 2 s of line time at 1 Mbaud
    diag = subscriber.wait_topic(
        "pi2mqtt/e2e/diagnostics",
        where=lambda m: m.json().get("link", {}).get("garbage_bytes", 0) > 100_000, timeout=20)
    assert diag.json()["link"]["state"] == "up"
    t0 = time.monotonic()
    subscriber.wait_for(lambda m: good(m) and m.received > t0, timeout=10)
    # No reading was ever invented: every temperature is a plausible room value or an error.
    values = [m.json()["value"] for m in subscriber.on(T)]
    assert all(v is None or 10 < v < 35 for v in values)


def test_e2e_nacking_chip_marks_entities_unavailable_then_recovers(
    spawn: Callable[..., DaemonProcess], subscriber: Subscriber, tmp_path: Path
) -> None:
    start(spawn, subscriber, tmp_path)
    control(subscriber, "room/nack", "on")
    m = subscriber.wait_topic(T, where=lambda m: m.json()["value"] is None, timeout=10)
    assert m.json()["error"]
    control(subscriber, "room/nack", "off")
    t0 = time.monotonic()
    subscriber.wait_for(lambda m: good(m) and m.received > t0, timeout=10)
