"""examples/pi2mqtt.toml — the config install.sh puts on a real Pi — validates, as shipped
and with every commented-out device switched on (so the comments stay true)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "pi2mqtt.toml"


def check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "device", "check", "--config", str(path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_example_pi_config_checks_ok() -> None:
    r = check(EXAMPLE)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"{EXAMPLE}: ok")


def test_example_pi_config_with_everything_uncommented_checks_ok(tmp_path: Path) -> None:
    text = re.sub(r"(?m)^# (\[|[a-z_0-9]+ = )", r"\1", EXAMPLE.read_text())
    assert text.count("[[") >= 8 and "[radio]" in text and "[coprocessor]" in text
    # check opens the CA file a config names; there is none here
    text = re.sub(r"(?m)^ca_file = ", "# ca_file = ", text)
    full = tmp_path / "pi2mqtt.toml"
    full.write_text(text)
    r = check(full)
    assert r.returncode == 0, r.stderr


def test_example_pi_config_is_what_install_sh_ships() -> None:
    install = (ROOT / "systemd" / "install.sh").read_text()
    assert '"$SRC/examples/pi2mqtt.toml"' in install
    # No password in the file: it comes from the systemd credential (docs/security.md).
    assert not re.search(r"(?m)^password\s*=", EXAMPLE.read_text())
