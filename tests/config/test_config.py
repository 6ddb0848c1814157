"""Config: every problem named with file and key, durations, defaults, overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from device.config import ConfigError, load_config, parse_config, parse_duration
from device.config.durations import format_duration

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "c.toml"
    p.write_text(text)
    return p


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as ei:
        load_config(write(tmp_path, text))
    return ei.value.problems


def test_config_demo_example_is_valid() -> None:
    cfg = load_config(ROOT / "examples" / "demo.toml")
    kinds = {kind for kind, _ in cfg.entities()}
    assert kinds == {"button", "door", "motion", "light", "distance", "mcp3008",
                     "cpu_temperature", "led", "pwm_led", "relay", "bme280"}
    assert cfg.status_led is not None


def test_config_empty_file_gets_defaults(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, ""))
    assert cfg.mqtt.url == "mqtt://localhost:1883"
    assert cfg.mqtt.keepalive == 60.0
    assert cfg.mqtt.protocol == "5"  # MQTT 5 by default (falls back to 3.1.1 per broker)
    assert cfg.mqtt.prefix == "pi2mqtt"
    assert cfg.device.id  # the hostname


def test_config_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    out = problems(tmp_path, '[mqtt]\nkepalive = "10s"\n')
    assert len(out) == 1
    assert str(tmp_path / "c.toml") in out[0]
    assert "mqtt.kepalive" in out[0] and "did you mean 'keepalive'" in out[0]


def test_config_unknown_section_suggests(tmp_path: Path) -> None:
    out = problems(tmp_path, '[[buton]]\nname = "b"\npin = 4\n')
    assert "buton" in out[0] and "did you mean 'button'" in out[0]


def test_config_unknown_key_in_device_list_names_the_index(tmp_path: Path) -> None:
    out = problems(tmp_path, '[[button]]\nname = "a"\npin = 4\n[[button]]\nname = "b"\npin = 5\npul_up = true\n')
    assert any("button[1].pul_up" in p and "pull_up" in p for p in out)


def test_config_toml_syntax_error_has_line(tmp_path: Path) -> None:
    out = problems(tmp_path, '[mqtt]\nurl = "mqtt://x\n')
    assert "TOML syntax error" in out[0] and "line 2" in out[0]


def test_config_wrong_type_is_named(tmp_path: Path) -> None:
    out = problems(tmp_path, '[[button]]\nname = "b"\npin = "seventeen"\n')
    assert "button[0].pin" in out[0] and "integer" in out[0]


def test_config_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as ei:
        load_config(tmp_path / "nope.toml")
    assert ei.value.problems == [f"{tmp_path / 'nope.toml'}: no such file"]


def test_config_every_problem_at_once(tmp_path: Path) -> None:
    out = problems(tmp_path, '[mqtt]\nurl = "http://x"\nqos = 3\n[[led]]\nname = "Bad Name"\npin = 99\n')
    text = "\n".join(out)
    assert "mqtt.url" in text and "mqtt.qos" in text and "led[0].name" in text and "led[0].pin" in text


def test_config_duplicate_names_and_pins(tmp_path: Path) -> None:
    out = problems(tmp_path, '[[led]]\nname = "x"\npin = 5\n[[relay]]\nname = "x"\npin = 5\n')
    text = "\n".join(out)
    assert "relay[0].name: 'x' is already the name of led[0]" in text
    assert "relay[0].pin: GPIO5 is already wired to led[0] ('x')" in text


def test_config_duration_forms() -> None:
    assert parse_duration("500ms") == 0.5
    assert parse_duration("10s") == 10.0
    assert parse_duration("5m") == 300.0
    assert parse_duration("1h") == 3600.0
    assert parse_duration(2) == 2.0
    for bad in ("fast", "-1s", "1 day", True, None, float("inf")):
        with pytest.raises(ValueError):
            parse_duration(bad)
    assert format_duration(0.5) == "500ms" and format_duration(300) == "5m"


def test_config_interval_floor_and_heartbeat(tmp_path: Path) -> None:
    out = problems(tmp_path, '[[light]]\nname = "l"\npin = 4\ninterval = "1ms"\n')
    assert "light[0].interval" in out[0] and "10ms" in out[0]
    out = problems(tmp_path, '[[light]]\nname = "l"\npin = 4\ninterval = "10s"\nheartbeat = "5s"\n')
    assert "heartbeat must be at least the interval" in out[0]


def test_config_overrides_win(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, '[mqtt]\nurl = "mqtt://a:1"\n'), {"mqtt.url": "mqtt://b:2"})
    assert cfg.mqtt.url == "mqtt://b:2"


def test_config_tls_cert_needs_key() -> None:
    with pytest.raises(ConfigError) as ei:
        parse_config({"mqtt": {"tls": {"cert_file": "/x.pem"}}})
    assert "cert_file and key_file go together" in ei.value.problems[0]


def test_config_tls_file_that_is_not_a_path_is_one_problem() -> None:
    with pytest.raises(ConfigError) as ei:
        parse_config({"mqtt": {"tls": {"ca_file": 5}}}, source="F")
    assert ei.value.problems == ["F: mqtt.tls.ca_file: Input is not a valid path for <class 'pathlib.Path'> (got 5)"]


def test_config_password_and_file_exclusive() -> None:
    with pytest.raises(ConfigError) as ei:
        parse_config({"mqtt": {"password": "a", "password_file": "/p"}})
    assert "password or password_file" in ei.value.problems[0]
