"""gpiozero input devices on SimFactory, used as the daemon uses them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from gpiozero import Button, DigitalInputDevice, MotionSensor

from device.errors import ConfigError
from hwsim.gpio import Bench, SimFactory, SimPin
from tests.hwsim import Edges, Rig


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    r = Rig(tmp_path)
    yield r
    r.close()


def test_button_press_bounce_reaches_the_pin(rig: Rig) -> None:
    button = rig.add(Button(17, pull_up=True))
    edges = Edges(button)
    assert not button.is_pressed
    rig.sim.device("doorbell").press()
    n = rig.sim.device("doorbell").contact.last_edges
    events = edges.wait_count(n)
    assert n >= 3  # the first touch plus at least one bounce (open, close again)
    assert [active for _, active in events] == [i % 2 == 0 for i in range(n)]
    assert button.is_pressed and rig.sim.device("doorbell").pressed


def test_button_release_bounces_too(rig: Rig) -> None:
    button = rig.add(Button(17))
    edges = Edges(button)
    doorbell = rig.sim.device("doorbell")
    doorbell.press()
    pressed = doorbell.contact.last_edges
    edges.wait_count(pressed)
    doorbell.release()
    released = doorbell.contact.last_edges
    events = edges.wait_count(pressed + released)
    assert released >= 3
    assert [a for _, a in events[pressed:]] == [i % 2 == 1 for i in range(released)]
    assert not button.is_pressed


def test_button_pin_edges_carry_pin_history(rig: Rig) -> None:
    button = rig.add(Button(17))
    edges = Edges(button)
    rig.sim.device("doorbell").click(0.05)
    press_edges = rig.sim.device("doorbell").contact.last_edges
    edges.wait_count(press_edges + 3, timeout=3.0)  # press bounce + release (>= 3 edges)
    pin = rig.factory.pin(17)
    assert isinstance(pin, SimPin)
    assert len(pin.states) >= 1 + press_edges + 3


def test_door_open_and_close_drive_the_reed_pin(rig: Rig) -> None:
    door = rig.add(DigitalInputDevice(27, pull_up=True))  # closed door: contact closed, LOW
    edges = Edges(door)
    assert door.is_active  # active low: contact closed
    rig.sim.device("front_door").open()
    events = edges.wait_count(1)
    rig.sim.device("front_door").close()
    events = edges.wait_count(len(events) + 1)
    assert events[-1][1] is True or door.is_active
    assert not rig.sim.device("front_door").is_open


def test_motion_sensor_goes_active_and_back_after_the_hold(rig: Rig) -> None:
    pir = rig.add(MotionSensor(22))
    assert not pir.motion_detected
    rig.sim.device("hall_motion").trigger(hold=0.3)
    assert pir.wait_for_motion(timeout=2.0)
    assert rig.sim.device("hall_motion").active
    assert pir.wait_for_no_motion(timeout=2.0)
    assert not rig.sim.device("hall_motion").active


def test_motion_retrigger_extends_the_hold(rig: Rig) -> None:
    pir = rig.add(MotionSensor(22))
    pin = rig.factory.pin(22)
    pin.clear_states()
    motion = rig.sim.device("hall_motion")
    motion.trigger(hold=0.3)
    assert pir.wait_for_motion(timeout=2.0)
    motion.trigger(hold=0.3)
    assert pir.wait_for_no_motion(timeout=2.0)
    levels = [s.state for s in pin.states]
    assert levels == [False, True, False]  # one long pulse, not two
    assert sum(s.timestamp for s in list(pin.states)[2:]) >= 0.3


def test_plain_factory_without_config_idles_at_the_pull(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("HWSIM_BROKER", "HWSIM_AUTO"):
        monkeypatch.delenv(var, raising=False)
    factory = SimFactory(directory=tmp_path)
    try:
        up = Button(4, pull_up=True, pin_factory=factory)
        down = Button(16, pull_up=False, pin_factory=factory)
        assert not up.is_pressed and up.pin.state is True
        assert not down.is_pressed and down.pin.state is False
        factory.pin(4).drive_low()
        assert up.is_pressed
        assert (tmp_path / "cpu_temp").exists()  # the Pi's SoC temperature is always there
        assert set(factory.sim.devices()) == {"cpu_temperature"}
        up.close()
        down.close()
    finally:
        factory.close()


def test_factory_reads_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HWSIM_ID", "envpi")
    monkeypatch.setenv("HWSIM_DIR", str(tmp_path / "d"))
    monkeypatch.delenv("HWSIM_BROKER", raising=False)
    monkeypatch.setenv("HWSIM_SPEED", "600")
    monkeypatch.setenv("HWSIM_HOUR", "13.5")
    factory = SimFactory(place=lambda bench: bench.button(20, "b1"))
    try:
        assert factory.sim.id == "envpi"
        assert factory.sim.speed == 600 and factory.sim.start_hour == 13.5
        assert (tmp_path / "d" / "cpu_temp").exists()
        assert factory.sim.device("b1").pressed is False
    finally:
        factory.close()


def test_factory_is_placed_from_the_validated_config_under_sim(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """`--sim`: the app makes hwsim's factory through its entry point and each kind places its device."""
    from device.app import startup
    from device.app.pinfactory import load_pin_factory, release_pin_factory
    from device.config import parse_config

    monkeypatch.setattr(startup, "_simulated", None)  # restored after the test, as the variables
    for var in ("GPIOZERO_PIN_FACTORY", "HWSIM_ID", "HWSIM_BROKER", "HWSIM_DIR", "HWSIM_AUTO", "HWSIM_SPEED"):
        monkeypatch.setenv(var, "")
        monkeypatch.delenv(var)
    cfg = parse_config({"device": {"id": "simpi"}, "button": [{"name": "b1", "pin": 20}],
                        "cpu_temperature": [{"name": "soc"}], "relay": [{"name": "pump", "pin": 6}]})
    cfg = startup.sim_environment(cfg, tmp_path / "unused.toml", tmp_path / "sim")
    monkeypatch.delenv("HWSIM_BROKER")  # no MQTT control in this test
    factory = load_pin_factory(cfg.gpio.pin_factory)
    try:
        sim = factory.sim  # type: ignore[attr-defined]
        assert sim.id == "simpi"
        assert set(sim.devices()) == {"b1", "soc"} and set(sim.outputs()) == {"pump"}
        assert cfg.cpu_temperature[0].sensor_file == tmp_path / "sim" / "cpu_temp"
        assert cfg.cpu_temperature[0].sensor_file.exists()
    finally:
        release_pin_factory()


def test_factory_rejects_a_pin_placed_twice(tmp_path: Path) -> None:
    def place(bench: Bench) -> None:
        bench.button(17, "a")
        bench.motion(17, "b")

    with pytest.raises(ConfigError) as err:
        SimFactory(place=place, directory=tmp_path)
    assert "motion 'b': GPIO17 is already used by button 'a'" in str(err.value)


def test_factory_rejects_a_bad_speed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HWSIM_SPEED", "fast")
    with pytest.raises(ConfigError, match="HWSIM_SPEED"):
        SimFactory(directory=tmp_path)
