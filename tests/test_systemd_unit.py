"""The unit passes `systemd-analyze verify` silently and scores ≤ 2.0; install.sh works.

`verify` checks that ExecStart= exists, and /opt/pi2mqtt/venv/bin/pi2mqtt does not on a
build machine: the test verifies a copy whose ExecStart= points at an existing binary
(everything else unchanged), and checks that the only complaint about the real file is
that missing binary. `verify` exits 0 even on "Unknown key" warnings, so any output at
all counts as a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UNIT = ROOT / "systemd" / "pi2mqtt.service"
INSTALL = ROOT / "systemd" / "install.sh"
EXEC = "/opt/pi2mqtt/venv/bin/pi2mqtt"
MAX_EXPOSURE = 2.0


def systemd_analyze() -> str:
    found = shutil.which("systemd-analyze") or ("/usr/bin/systemd-analyze" if os.access("/usr/bin/systemd-analyze", os.X_OK) else None)
    if found is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("systemd-analyze is required under CI=true")
        pytest.skip("systemd-analyze is not installed (package systemd)")
    return found


def analyze(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([systemd_analyze(), *args], capture_output=True, text=True, timeout=60, cwd=cwd)


def unit_copy(tmp_path: Path, text: str | None = None) -> Path:
    text = UNIT.read_text() if text is None else text
    copy = tmp_path / "pi2mqtt.service"
    copy.write_text(text.replace(f"ExecStart={EXEC}", f"ExecStart={sys.executable}"))
    return copy


def directives(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            k, v = line.split("=", 1)
            out.setdefault(k.strip(), []).append(v.strip())
    return out


def test_systemd_unit_verify_is_silent(tmp_path: Path) -> None:
    r = analyze("verify", "--man=no", str(unit_copy(tmp_path)), cwd=tmp_path)
    assert (r.returncode, r.stdout + r.stderr) == (0, "")


def test_systemd_unit_verify_only_misses_the_installed_binary(tmp_path: Path) -> None:
    r = analyze("verify", "--man=no", str(UNIT), cwd=tmp_path)
    lines = [ln for ln in (r.stdout + r.stderr).splitlines() if ln.strip()]
    assert all(EXEC in ln and "not executable" in ln for ln in lines), lines


def test_systemd_unit_verify_catches_unknown_keys(tmp_path: Path) -> None:
    # Proves the silence above means something: keys systemd 252 lacks are reported.
    text = UNIT.read_text().replace("Type=notify\n", "Type=notify\nRestartSteps=3\n")
    r = analyze("verify", "--man=no", str(unit_copy(tmp_path, text)), cwd=tmp_path)
    assert "RestartSteps" in r.stdout + r.stderr


def test_systemd_unit_security_exposure_is_low(tmp_path: Path) -> None:
    r = analyze("security", "--offline=yes", str(UNIT), cwd=tmp_path)
    m = re.search(r"Overall exposure level for pi2mqtt\.service: (\d+\.\d+)", r.stdout + r.stderr)
    assert m, r.stdout + r.stderr
    assert float(m.group(1)) <= MAX_EXPOSURE
    r = analyze("security", "--offline=yes", f"--threshold={int(MAX_EXPOSURE * 10)}", str(UNIT), cwd=tmp_path)
    assert r.returncode == 0


def test_systemd_unit_has_the_contract() -> None:
    d = directives(UNIT.read_text())
    assert d["Type"] == ["notify"]
    assert d["ExecStart"] == [f"{EXEC} run --config /etc/pi2mqtt/pi2mqtt.toml"]
    assert d["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert d["WatchdogSec"] == ["30"] and d["Restart"] == ["on-failure"] and d["RestartSec"] == ["5"]
    assert d["StateDirectory"] == ["pi2mqtt"] and d["ConfigurationDirectory"] == ["pi2mqtt"]
    assert d["WorkingDirectory"] == ["/var/lib/pi2mqtt"]
    assert "LG_WD=/var/lib/pi2mqtt" in d["Environment"][0].split()
    assert d["DynamicUser"] == ["yes"]
    assert d["SupplementaryGroups"] == ["dialout gpio i2c spi"]
    assert d["DevicePolicy"] == ["closed"]
    allowed = {v.split()[0] for v in d["DeviceAllow"]}
    assert {"char-ttyAMA", "char-ttyACM", "char-ttyUSB", "char-gpiochip", "char-spi"} <= allowed
    assert "PrivateDevices" not in d  # it would hide the tty, gpiochip and spidev nodes
    assert any(v.startswith("mqtt-password") for v in d["LoadCredential"])


def test_systemd_unit_avoids_keys_newer_than_252() -> None:
    d = directives(UNIT.read_text())
    assert d["Type"] != ["notify-reload"]
    for key in ("RestartSteps", "RestartMaxDelaySec", "ImportCredential", "OpenFile"):
        assert key not in d


# ---------------------------------------------------------------- install.sh


def run_install(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(INSTALL), *args], capture_output=True, text=True, timeout=60)


def test_install_dry_run_prints_and_changes_nothing(tmp_path: Path) -> None:
    r = run_install("--dry-run", "--root", str(tmp_path))
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert f"+ python3 -m venv --system-site-packages {tmp_path}/opt/pi2mqtt/venv" in out
    assert f"{tmp_path}/opt/pi2mqtt/venv/bin/pip install --quiet --upgrade {ROOT}" in out
    assert f"+ install -m 0644 {UNIT} {tmp_path}/etc/systemd/system/pi2mqtt.service" in out
    assert f"{tmp_path}/etc/pi2mqtt/pi2mqtt.toml" in out
    assert "groups: skipped (--root)" in out and "systemctl: skipped (--root)" in out
    assert list(tmp_path.iterdir()) == []


def test_install_dry_run_on_the_real_root_needs_no_root() -> None:
    r = run_install("--dry-run", "--enable")
    assert r.returncode == 0, r.stderr
    assert "+ systemctl daemon-reload" in r.stdout
    assert "+ systemctl enable --now pi2mqtt.service" in r.stdout
    assert "+ install -d -m 0700 /etc/credstore" in r.stdout or "credential store /etc/credstore: present" in r.stdout
    for g in ("dialout", "gpio", "i2c", "spi"):
        assert f"group {g}: present" in r.stdout or f"+ groupadd --system {g}" in r.stdout


def test_install_dry_run_on_a_pi_installs_the_gpio_backend() -> None:
    # Bookworm and Trixie (Pi 5 included): Debian's lgpio and spidev, seen by the venv,
    # and the `pi` extra (whose markers they satisfy).
    for machine in ("aarch64", "armv7l", "armv6l"):
        r = run_install("--dry-run", "--machine", machine)
        assert r.returncode == 0, r.stderr
        out = r.stdout
        assert ("+ apt-get install --yes --no-install-recommends python3-lgpio python3-spidev" in out
                or "GPIO backend: python3-lgpio python3-spidev present" in out), out
        assert "+ python3 -m venv --system-site-packages /opt/pi2mqtt/venv" in out or "venv /opt/pi2mqtt/venv: present" in out
        assert f"pip install --quiet --upgrade {ROOT}\\[pi\\]" in out, out
        lines = out.splitlines()
        apt = [i for i, ln in enumerate(lines) if ln.startswith("+ apt-get install")]
        pip = [i for i, ln in enumerate(lines) if "[pi" in ln]
        assert not apt or apt[0] < pip[0], "the backend must be there before pip resolves the extra"


def test_install_dry_run_elsewhere_skips_the_gpio_backend() -> None:
    r = run_install("--dry-run", "--machine", "x86_64")
    assert r.returncode == 0, r.stderr
    assert "GPIO backend: skipped (not a Raspberry Pi: x86_64)" in r.stdout
    assert "apt-get" not in r.stdout and "[pi" not in r.stdout
    r = run_install("--dry-run", "--machine", "aarch64", "--no-apt")
    assert "GPIO backend: skipped (--no-apt)" in r.stdout and "apt-get" not in r.stdout


def test_pi_extra_pins_the_gpio_backend_to_pi_machines() -> None:
    import tomllib

    from packaging.requirements import Requirement

    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["pi"]
    reqs = {Requirement(r).name: Requirement(r) for r in extra}
    assert set(reqs) == {"lgpio", "spidev"}
    pi5_bookworm = {"sys_platform": "linux", "platform_machine": "aarch64", "python_version": "3.11"}
    trixie = {**pi5_bookworm, "python_version": "3.13"}
    pc = {**pi5_bookworm, "platform_machine": "x86_64"}
    for name, req in reqs.items():
        assert req.specifier and all(s.operator == ">=" for s in req.specifier), name
        assert req.marker is not None and req.marker.evaluate(pi5_bookworm), name
        assert not req.marker.evaluate(pc), name
    # No lgpio wheel on PyPI for 3.13: Trixie gets Debian's python3-lgpio from install.sh.
    assert reqs["lgpio"].marker is not None and not reqs["lgpio"].marker.evaluate(trixie)


def test_install_rejects_unknown_options() -> None:
    r = run_install("--frobnicate")
    assert r.returncode == 2 and "unknown option" in r.stderr


def test_install_into_root_is_idempotent_and_keeps_config(tmp_path: Path) -> None:
    # A stand-in venv whose pip records its arguments: no network, no real install.
    venv = tmp_path / "opt" / "pi2mqtt" / "venv" / "bin"
    venv.mkdir(parents=True)
    log = tmp_path / "pip.log"
    for name in ("python", "pip"):
        (venv / name).write_text(f'#!/bin/sh\necho "{name} $*" >> {log}\n')
        (venv / name).chmod(0o755)
    # A venv from an older install that cannot see Debian's python3-lgpio is opened up.
    cfg = venv.parent / "pyvenv.cfg"
    cfg.write_text("home = /usr/bin\ninclude-system-site-packages = false\n")
    assert run_install("--root", str(tmp_path)).returncode == 0
    assert "include-system-site-packages = true" in cfg.read_text()
    unit = tmp_path / "etc" / "systemd" / "system" / "pi2mqtt.service"
    config = tmp_path / "etc" / "pi2mqtt" / "pi2mqtt.toml"
    assert unit.read_text() == UNIT.read_text()
    assert "[mqtt]" in config.read_text()
    assert (tmp_path / "etc" / "credstore").stat().st_mode & 0o777 == 0o700
    config.write_text("# mine\n")
    r = run_install("--root", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "present, kept" in r.stdout
    assert config.read_text() == "# mine\n"
    assert log.read_text().count(f"pip install --quiet --upgrade {ROOT}") == 2
