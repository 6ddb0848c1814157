"""`check` refuses everything `run` would refuse, and `run` exits 2 for any config problem
(issue 13.5): files that must be there and readable, rules across sections reported beside
the other errors with their key paths, values the tuner cannot take. Each case runs both
commands; `run` points at a real Mosquitto so that nothing but the config can stop it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.certs import Pki
from tests.mosquitto import Mosquitto
from tests.procs import PI2MQTT, ROOT


def both(config: Path, broker: Mosquitto, tmp_path: Path) -> list[subprocess.CompletedProcess[str]]:
    env = {**os.environ, "STATE_DIRECTORY": str(tmp_path / "state")}
    out = []
    for cmd in (["check"], ["run", "--sim", "--broker", broker.url]):
        out.append(subprocess.run([*PI2MQTT, *cmd, "--config", str(config)], cwd=ROOT, env=env,
                                  capture_output=True, text=True, timeout=60))
    return out


def refused(config: Path, broker: Mosquitto, tmp_path: Path, *expect: str) -> None:
    for r in both(config, broker, tmp_path):
        assert r.returncode == 2, (r.args, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr
        for text in expect:
            assert f"{config}: {text}" in r.stderr, (text, r.stderr)


def write(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "bad.toml"
    p.write_text('[device]\nid = "chk"\n[[cpu_temperature]]\nname = "cpu"\n' + body)
    return p


def test_missing_tls_files_are_refused_by_check_and_run(broker: Mosquitto, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    cfg = write(tmp_path, f'[mqtt.tls]\nca_file = "{missing}/ca.pem"\ncert_file = "{missing}/c.pem"\n'
                          f'key_file = "{missing}/k.pem"\n')
    refused(cfg, broker, tmp_path, f"mqtt.tls.ca_file: {missing}/ca.pem: no such file",
            f"mqtt.tls.cert_file: {missing}/c.pem: no such file", f"mqtt.tls.key_file: {missing}/k.pem: no such file")


def test_missing_password_file_is_refused(broker: Mosquitto, tmp_path: Path) -> None:
    cfg = write(tmp_path, f'[mqtt]\nusername = "u"\npassword_file = "{tmp_path}/pw"\n')
    refused(cfg, broker, tmp_path, f"mqtt.password_file: {tmp_path}/pw: no such file")


def test_tls_files_that_are_not_certificates_are_refused(broker: Mosquitto, pki: Pki, tmp_path: Path) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    cfg = write(tmp_path, f'[mqtt.tls]\nca_file = "{junk}"\ncert_file = "{pki.client.cert}"\n'
                          f'key_file = "{pki.server.key}"\n')
    refused(cfg, broker, tmp_path, f"mqtt.tls.ca_file: {junk}: not a PEM CA certificate",
            f"mqtt.tls.key_file: {pki.server.key} with {pki.client.cert}: not a usable certificate and key")


def test_cross_section_rules_come_with_the_other_errors_and_a_key_path(broker: Mosquitto, tmp_path: Path) -> None:
    cfg = write(tmp_path, '[mqtt]\nqos = 7\n'
                          '[[led]]\nname = "cpu"\npin = 5\n'
                          '[[relay]]\nname = "pump"\npin = 5\n'
                          '[[button]]\nname = "b"\npin = "x"\n'
                          '[radio]\nchip = "rda5807m"\n')
    refused(cfg, broker, tmp_path,
            "mqtt.qos:", "button[0].pin:",  # the shape errors ...
            "led[0].name: 'cpu' is already the name of cpu_temperature[0]",  # ... and beside them the rules
            "relay[0].pin: GPIO5 is already wired to led[0] ('cpu')",
            "radio: needs a [coprocessor] section")
    r = both(cfg, broker, tmp_path)[0]
    assert "(top level)" not in r.stderr


@pytest.mark.parametrize(("radio", "expect"), [
    ('frequency = 150', "radio.frequency: 150.0 MHz is outside the europe band"),
    ('region = "us"\nfrequency = 100.0', "radio.frequency: 100.0 MHz is not on the 200 kHz raster"),
    ('chip = "si4703"\nspacing_khz = 25', "radio.spacing_khz: the si4703 has no 25 kHz spacing"),
])
def test_radio_values_the_tuner_cannot_take_are_refused(broker: Mosquitto, tmp_path: Path, radio: str,
                                                        expect: str) -> None:
    cfg = write(tmp_path, f'[coprocessor]\nport = "/dev/ttyACM0"\n[radio]\n{radio}\n')
    refused(cfg, broker, tmp_path, expect)
