"""`pi2mqtt doctor` against hwsim, with faults injected (issue 10, "What to build" 7).

Each fault a new Pi can have gets its line and its exit status: the MCU unplugged, the
wrong firmware, a chip missing, the broker down, no pin factory; and the healthy run.
The simulated co-processor runs the real firmware on a pty; the brokers are real
Mosquittos started here.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from gpiozero import Factory
from gpiozero.exc import GPIOPinInUse

from device.app.doctor import run_doctor
from device.app.doctor_link import FIRMWARE_VERSION
from device.app.doctor_local import check_clock, check_pins
from device.config import Config, load_config
from hwsim.chips.bme280 import BME280Model
from hwsim.i2c import SimI2C
from hwsim.mcu import SimMcu
from tests.hwsim import Rig
from tests.mosquitto import Mosquitto, free_port, wait_port

ROOT = Path(__file__).resolve().parents[2]

PI = """
[device]
id = "doc"
[mqtt]
url = "{url}"
[gpio]
pin_factory = "hwsim"
[[button]]
name = "doorbell"
pin = 17
[coprocessor]
port = "{port}"
[[bme280]]
name = "room"
[radio]
chip = "rda5807m"
"""


def write_config(tmp_path: Path, body: str, **fmt: object) -> tuple[Config, Path]:
    path = tmp_path / "doctor.toml"
    path.write_text(body.format(**fmt))
    return load_config(path), path


def doctor(cfg: Config, path: Path, factory: Factory | None = None, synced: bool | None = True) -> tuple[int, str]:
    out = io.StringIO()
    rc = run_doctor(cfg, str(path), out=out, factory=factory, clock=lambda: synced, link_timeout=3.0,
                    broker_timeout=5.0)
    return rc, out.getvalue()


def line(report: str, status: str, topic: str) -> str:
    """The one report line with this status and topic (fails when there is none)."""
    found = [ln for ln in report.splitlines() if ln.startswith(f"{status:<4} {topic:<9} ")]
    assert found, f"no '{status} {topic}' line in:\n{report}"
    return found[0]


@pytest.fixture
def pi(tmp_path: Path, broker: Mosquitto) -> Iterator[tuple[Rig, Config, Path]]:
    """hwsim wired from a Pi config: a button, the co-processor with a BME280 and an RDA5807M."""
    link = tmp_path / "hwsim" / "ttyACM0"
    body = PI.replace("{url}", f"mqtt://127.0.0.1:{broker.port}").replace("{port}", str(link))
    rig = Rig(tmp_path, config=body)
    cfg = load_config(tmp_path / "pi2mqtt.toml")
    yield rig, cfg, tmp_path / "pi2mqtt.toml"
    rig.close()


def test_doctor_healthy_pi_is_all_ok(pi: tuple[Rig, Config, Path]) -> None:
    rig, cfg, path = pi
    rc, report = doctor(cfg, path, rig.factory)
    assert rc == 0, report
    assert "pin factory hwsim" in line(report, "ok", "gpio")
    line(report, "ok", "pins")
    line(report, "ok", "serial")
    assert "protocol 1." in line(report, "ok", "link")
    assert f"version {FIRMWARE_VERSION}" in line(report, "ok", "firmware")
    assert "BME280 at 0x76: chip id 0x60" in report
    assert "rda5807m tuner: chip id 0x5804" in report
    assert "connected" in line(report, "ok", "broker")
    line(report, "ok", "clock")
    assert report.rstrip().endswith("0 failed, 0 warnings, 9 ok")


def test_doctor_mcu_unplugged(pi: tuple[Rig, Config, Path]) -> None:
    rig, cfg, path = pi
    rig.sim.control.dispatch("mcu/unplug")
    rc, report = doctor(cfg, path, rig.factory)
    assert rc == 1
    assert "no such device" in line(report, "fail", "serial")
    assert "plug the Pico in" in report
    line(report, "ok", "broker")  # the other checks still run


def test_doctor_bme280_missing(pi: tuple[Rig, Config, Path]) -> None:
    rig, cfg, path = pi
    rig.sim.control.dispatch("room/nack", "on")  # the chip stops answering its address
    rc, report = doctor(cfg, path, rig.factory)
    assert rc == 1
    assert "no BME280 answers at 0x76" in line(report, "fail", "i2c")
    assert "rda5807m tuner: chip id 0x5804" in line(report, "ok", "i2c")


@pytest.fixture
def bare_mcu(tmp_path: Path) -> Iterator[Callable[..., SimMcu]]:
    made: list[SimMcu] = []

    def make(fw_version: str = FIRMWARE_VERSION, *, bme280: bool = True) -> SimMcu:
        bus = SimI2C()
        if bme280:
            bus.attach(0x76, BME280Model())
        mcu = SimMcu(tmp_path / f"tty{len(made)}", 115200, i2c=bus, fw_version=fw_version)
        made.append(mcu)
        assert mcu.wait_booted()
        return mcu

    yield make
    for m in made:
        m.close()


LINK_ONLY = """
[device]
id = "doc"
[mqtt]
url = "{url}"
[coprocessor]
port = "{port}"
[[bme280]]
name = "room"
"""


def test_doctor_wrong_firmware_prints_the_mpremote_update(tmp_path: Path, broker: Mosquitto,
                                                           bare_mcu: Callable[..., SimMcu]) -> None:
    mcu = bare_mcu("0.0.9")
    cfg, path = write_config(tmp_path, LINK_ONLY, url=f"mqtt://127.0.0.1:{broker.port}", port=mcu.link_path)
    rc, report = doctor(cfg, path)
    assert rc == 1
    assert f"firmware 0.0.9; this pi2mqtt expects {FIRMWARE_VERSION}" in line(report, "fail", "firmware")
    for cmd in ("mpremote cp -r firmware/p2mfw :lib/", "mpremote cp firmware/p2mfw/main.py :main.py",
                "mpremote reset"):
        assert f"       {cmd}" in report.splitlines()
    assert "no GPIO devices configured" in line(report, "ok", "gpio")


def test_doctor_tuner_missing(tmp_path: Path, broker: Mosquitto, bare_mcu: Callable[..., SimMcu]) -> None:
    mcu = bare_mcu()  # a BME280 on the bus, no tuner
    cfg, path = write_config(tmp_path, LINK_ONLY + '[radio]\nchip = "auto"\n',
                             url=f"mqtt://127.0.0.1:{broker.port}", port=mcu.link_path)
    rc, report = doctor(cfg, path)
    assert rc == 1
    assert "no FM tuner answers at 0x10/0x11" in line(report, "fail", "i2c")
    line(report, "ok", "firmware")


def test_doctor_broker_down(tmp_path: Path, bare_mcu: Callable[..., SimMcu]) -> None:
    mcu = bare_mcu()
    cfg, path = write_config(tmp_path, LINK_ONLY, url=f"mqtt://127.0.0.1:{free_port()}", port=mcu.link_path)
    rc, report = doctor(cfg, path)
    assert rc == 1
    assert "unreachable" in line(report, "fail", "broker")
    line(report, "ok", "i2c")


def test_doctor_no_pin_factory_is_one_line_and_exit_1(tmp_path: Path) -> None:
    cfg = tmp_path / "nopf.toml"
    cfg.write_text(f'[device]\nid = "t"\n[mqtt]\nurl = "mqtt://127.0.0.1:{free_port()}"\n'
                   '[[button]]\nname = "b"\npin = 17\n')
    env = {k: v for k, v in os.environ.items() if k != "GPIOZERO_PIN_FACTORY"}
    r = subprocess.run([sys.executable, "-m", "device", "doctor", "--config", str(cfg)], cwd=ROOT,
                       capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 1
    assert "Traceback" not in r.stdout + r.stderr
    assert r.stderr == "", r.stderr  # no gpiozero fallback chatter, no systemctl noise: only the report
    gpio = line(r.stdout, "fail", "gpio")
    assert "no pin factory" in gpio and "fix:" in gpio


class _BusyFactory(Factory):  # type: ignore[misc]
    """A backend whose GPIO27 is held by another process (lgpio raises "GPIO busy")."""

    def __init__(self) -> None:
        super().__init__()
        self.claimed: list[int] = []

    def pin(self, spec: object) -> object:
        if spec == 27:
            raise GPIOPinInUse("GPIO busy")
        self.claimed.append(int(str(spec)))
        factory = self

        class _Pin:
            def close(self) -> None:
                factory.claimed.remove(int(str(spec)))

        return _Pin()


def test_doctor_names_a_busy_pin_and_releases_the_others(tmp_path: Path) -> None:
    cfg, _ = write_config(tmp_path, '[[button]]\nname = "b"\npin = 17\n[[door]]\nname = "d"\npin = 27\n')
    factory = _BusyFactory()
    found = list(check_pins(cfg, factory))
    assert [f.status for f in found] == ["fail"]
    assert "GPIO27 (door 'd') cannot be claimed: GPIO busy" in found[0].text
    assert "systemctl stop pi2mqtt" in found[0].fix
    assert factory.claimed == []


def test_doctor_clock_ok_warn_fail() -> None:
    assert check_clock(lambda: True).status == "ok"
    assert check_clock(lambda: None).status == "warn"
    bad = check_clock(lambda: False)
    assert bad.status == "fail" and "NTP" in bad.fix


def test_doctor_tls_verified_and_untrusted(tmp_path: Path, mosquitto_factory: Callable[..., Mosquitto]) -> None:
    from tests.certs import find_openssl, make_pki

    if find_openssl() is None:
        pytest.skip("openssl is not installed")
    pki = make_pki(tmp_path / "pki")
    good = mosquitto_factory("good", extra=pki.mosquitto_tls())
    cfg, path = write_config(tmp_path, f'[mqtt]\nurl = "mqtts://127.0.0.1:{good.port}"\n'
                             f'[mqtt.tls]\nca_file = "{pki.ca.cert}"\n')
    rc, report = doctor(cfg, path)
    assert rc == 0, report
    assert "TLS certificate verified" in line(report, "ok", "broker")
    bad = mosquitto_factory("untrusted", extra=pki.mosquitto_tls(pki.untrusted_server))
    cfg, path = write_config(tmp_path, f'[mqtt]\nurl = "mqtts://127.0.0.1:{bad.port}"\n'
                             f'[mqtt.tls]\nca_file = "{pki.ca.cert}"\n')
    rc, report = doctor(cfg, path)
    assert rc == 1
    assert "not trusted" in line(report, "fail", "broker")


def test_doctor_on_the_demo_config(broker: Mosquitto) -> None:
    r = subprocess.run([sys.executable, "-m", "device", "doctor", "--config", str(ROOT / "examples" / "demo.toml"),
                        "--sim", "--broker", f"mqtt://127.0.0.1:{broker.port}"],
                       cwd=ROOT, capture_output=True, text=True, timeout=90)
    assert "Traceback" not in r.stdout + r.stderr
    for topic in ("gpio", "pins", "serial", "link", "firmware", "i2c", "broker"):
        line(r.stdout, "ok", topic)
    # Only the clock is this machine's own: it decides between 0 and 1.
    clock = [ln for ln in r.stdout.splitlines() if ln[5:].startswith("clock")]
    assert len(clock) == 1
    assert r.returncode == (1 if clock[0].startswith("fail") else 0), r.stdout


def test_doctor_expects_the_firmware_of_its_release() -> None:
    from p2mfw.main import FW_VERSION

    assert FIRMWARE_VERSION == FW_VERSION


def test_doctor_leaves_the_spi_pins_to_the_kernel_with_hardware_spi(tmp_path: Path) -> None:
    cfg, _ = write_config(tmp_path, '[[button]]\nname = "b"\npin = 17\n[[mcp3008]]\nname = "m"\nchannel = 0\n')
    factory = _BusyFactory()
    found = list(check_pins(cfg, factory, spi_dir=tmp_path))  # no spidev: software SPI on GPIO 8-11
    assert [(f.status, f.topic) for f in found] == [("ok", "pins"), ("warn", "spi")]
    assert "GPIO8, GPIO9, GPIO10, GPIO11, GPIO17" in found[0].text
    (tmp_path / "spidev0.0").touch()  # SPI enabled: the kernel's SPI driver owns those pins
    found = list(check_pins(cfg, factory, spi_dir=tmp_path))
    assert [(f.status, f.topic) for f in found] == [("ok", "pins"), ("ok", "spi")]
    assert found[0].text == "1 configured, all free: GPIO17"


@pytest.fixture
def amqtt_broker(tmp_path: Path) -> Iterator[object]:
    """amqtt (the dev and demo extras): an MQTT 3.1.1-only broker, as some users run."""
    from device.app.amqttbroker import AmqttBroker, amqtt_available

    if not amqtt_available():
        if os.environ.get("CI") == "true":
            pytest.fail("amqtt (the dev and demo extras) is required under CI=true")
        pytest.skip("amqtt is not installed (pip install 'pi2mqtt[demo]')")
    b = AmqttBroker(tmp_path / "amqtt")
    b.start()
    yield b
    b.stop()


def test_doctor_falls_back_to_mqtt_311_as_the_daemon_does(broker: Mosquitto, amqtt_broker: Any) -> None:
    from device.app.doctor_link import check_broker
    from device.config import parse_config

    cfg = parse_config({"device": {"id": "d"}, "mqtt": {"url": f"{broker.url},{amqtt_broker.url}"}})
    on_mosquitto, on_amqtt = check_broker(cfg, timeout=10)
    assert on_mosquitto.status == "ok" and "3.1.1" not in on_mosquitto.text, on_mosquitto
    assert on_amqtt.status == "ok", on_amqtt
    assert "MQTT 3.1.1, as the broker refuses MQTT 5" in on_amqtt.text, on_amqtt
    # Configured for 3.1.1, nothing falls back and nothing says so.
    cfg = parse_config({"device": {"id": "d"}, "mqtt": {"url": amqtt_broker.url, "protocol": "3.1.1"}})
    [plain] = check_broker(cfg, timeout=10)
    assert plain.status == "ok" and "refuses" not in plain.text, plain


def test_doctor_connects_over_websocket_as_the_daemon_would(mosquitto_factory: Callable[..., Mosquitto]) -> None:
    from device.app.doctor_link import check_broker
    from device.config import parse_config

    ws_port = free_port()
    mosquitto_factory("ws", extra=f"listener {ws_port} 127.0.0.1\nprotocol websockets\n")
    wait_port(ws_port)  # Mosquitto opens its WebSocket listener after the TCP one
    url = f"ws://127.0.0.1:{ws_port}/mqtt"
    [found] = check_broker(parse_config({"device": {"id": "d"}, "mqtt": {"url": url}}), timeout=10)
    assert (found.status, found.text) == ("ok", f"{url}: connected (loopback, no TLS needed)"), found
