"""No gpiozero chatter (issue 15): a config without GPIO devices loads no GPIO backend and
prints no fallback warning; one with GPIO devices on a machine without GPIO gets one clear
error line that names why each backend was skipped."""

from __future__ import annotations

import os
import platform
import subprocess
import threading
from pathlib import Path

import pytest
from gpiozero import CPUTemperature, Device

from device.app.pinfactory import (
    NoGpioFactory,
    configured_pins,
    load_pin_factory,
    release_pin_factory,
)
from device.config import load_config
from tests.mosquitto import Mosquitto
from tests.mqttwait import Subscriber
from tests.procs import PI2MQTT, ROOT, write_config

NOT_A_PI = pytest.mark.skipif(platform.machine() in ("aarch64", "armv7l", "armv6l"),
                              reason="needs a machine where no gpiozero backend loads")


def clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GPIOZERO_PIN_FACTORY", "NOTIFY_SOCKET")}
    env["STATE_DIRECTORY"] = str(tmp_path / "state")
    env["PYTHONUNBUFFERED"] = "1"
    return env


@NOT_A_PI
def test_run_without_gpio_devices_loads_no_backend_and_warns_nothing(tmp_path: Path, broker: Mosquitto) -> None:
    temp = tmp_path / "cpu_temp"
    temp.write_text("45000\n")
    cfg = write_config(tmp_path / "c.toml", "nogpio", f"mqtt://127.0.0.1:{broker.port}", tmp_path / "state",
                       entities=f'[[cpu_temperature]]\nname = "cpu"\ninterval = "50ms"\nsensor_file = "{temp}"\n')
    sub = Subscriber(broker.port)
    sub.connect()
    log = tmp_path / "run.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([*PI2MQTT, "run", "--config", str(cfg)], cwd=ROOT, env=clean_env(tmp_path),
                                stdout=out, stderr=subprocess.STDOUT)
        try:
            sub.subscribe("pi2mqtt/nogpio/cpu")
            assert sub.wait_topic("pi2mqtt/nogpio/cpu", timeout=30).json()["value"] == 45.0
        finally:
            proc.terminate()
            proc.wait(30)
            sub.close()
    text = log.read_text()
    assert "Fallback" not in text and "warnings.warn" not in text, text


@NOT_A_PI
def test_run_with_a_gpio_device_and_no_backend_is_one_clear_line(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[device]\nid = "t"\n[mqtt]\nurl = "mqtt://127.0.0.1:1"\n[[button]]\nname = "b"\npin = 17\n')
    r = subprocess.run([*PI2MQTT, "run", "--config", str(cfg)], cwd=ROOT, env=clean_env(tmp_path),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    lines = [ln for ln in r.stderr.splitlines() if "pi2mqtt:" in ln or "Fallback" in ln or "warn" in ln]
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("pi2mqtt: no GPIO backend works here (")
    assert "lgpio" in lines[0] and "--sim" in lines[0] and "docs/hardware.md" in lines[0]


def test_no_gpio_factory_serves_internal_devices_and_refuses_pins(tmp_path: Path) -> None:
    temp = tmp_path / "t"
    temp.write_text("51234\n")
    factory = load_pin_factory(None, needs_gpio=False) if not os.environ.get("GPIOZERO_PIN_FACTORY") else None
    if factory is None:
        pytest.skip("GPIOZERO_PIN_FACTORY is set in this environment")
    try:
        assert isinstance(factory, NoGpioFactory) and Device.pin_factory is factory
        with CPUTemperature(sensor_file=str(temp)) as cpu:
            assert cpu.temperature == pytest.approx(51.234)
        with pytest.raises(Exception, match="no GPIO device is configured"):
            factory.pin(17)
    finally:
        release_pin_factory()


def test_the_factory_is_released_only_after_the_devices_closed() -> None:
    """Closing the pins under a device still sampling them (gpiozero's queue threads of a
    light or distance sensor) ended those threads with a traceback at shutdown."""
    factory = load_pin_factory(None, needs_gpio=False) if not os.environ.get("GPIOZERO_PIN_FACTORY") else None
    if factory is None:
        pytest.skip("GPIOZERO_PIN_FACTORY is set in this environment")
    closed = threading.Event()
    releaser = threading.Thread(target=release_pin_factory, args=(closed,), daemon=True)
    try:
        releaser.start()
        releaser.join(0.3)
        assert releaser.is_alive() and Device.pin_factory is factory
        closed.set()
        releaser.join(10)
        assert not releaser.is_alive() and Device.pin_factory is None
    finally:
        release_pin_factory()


def test_configured_pins_cover_every_gpio_user(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[[button]]\nname = "b"\npin = 17\n[[distance]]\nname = "d"\necho = 24\ntrigger = 23\n'
                    '[[mcp3008]]\nname = "m"\nchannel = 0\n[status_led]\npin = 25\n'
                    '[[cpu_temperature]]\nname = "c"\n')
    pins = configured_pins(load_config(path))
    assert sorted(pins) == [8, 9, 10, 11, 17, 23, 24, 25]
    path.write_text('[[cpu_temperature]]\nname = "c"\n')
    assert configured_pins(load_config(path)) == {}
