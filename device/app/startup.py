"""What every command does before it runs: exit codes, config path, logging, `--sim`.

Shared by `device.app.cli` (the parser and dispatch), `device.app.runner` (run)
and `device.app.demo`, which all import from here and never from each other's
modules the other way round (no cli ↔ runner ↔ demo cycle).
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # importing the config waits until a command needs it (device/app/sslgate.py)
    from device.config import Config

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
DEFAULT_CONFIG = Path("/etc/pi2mqtt/pi2mqtt.toml")
REPO_ROOT = Path(__file__).resolve().parents[2]
DEMO_CONFIG = REPO_ROOT / "examples" / "demo.toml"


def default_config_path() -> Path:
    """$CONFIGURATION_DIRECTORY/pi2mqtt.toml under systemd, else /etc/pi2mqtt/pi2mqtt.toml."""
    conf_dir = os.environ.get("CONFIGURATION_DIRECTORY")
    if conf_dir:
        return Path(conf_dir.split(":")[0]) / "pi2mqtt.toml"
    return DEFAULT_CONFIG


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper()),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("pi2mqtt.paho").setLevel(logging.WARNING if level != "debug" else logging.DEBUG)


_simulated: Config | None = None


def simulated_config() -> Config | None:
    """The config `--sim` prepared last (None without `--sim`): what hwsim's factory places."""
    return _simulated


def sim_environment(cfg: Config, config_path: Path, sim_dir: Path, *, auto: bool = False,
                    speed: float | None = None) -> Config:
    """Point the environment and the simulated paths at hwsim; return the adjusted config.

    This is the whole of `--sim`: the pin factory is chosen by name, and when it
    is made (`device.app.pinfactory.load_pin_factory`) each configured kind places
    its simulated device from this validated config. The daemon code is unchanged.
    `config_path` is kept for the callers' sake: hwsim reads no file.
    """
    global _simulated
    sim_dir.mkdir(parents=True, exist_ok=True)
    os.environ["GPIOZERO_PIN_FACTORY"] = "hwsim"
    os.environ["HWSIM_ID"] = cfg.device.id
    os.environ["HWSIM_BROKER"] = cfg.mqtt.url
    os.environ["HWSIM_DIR"] = str(sim_dir)
    if auto:
        os.environ["HWSIM_AUTO"] = "1"
    if speed is not None:
        os.environ["HWSIM_SPEED"] = str(speed)
    cpu = [replace(c, sensor_file=sim_dir / "cpu_temp") for c in cfg.cpu_temperature]
    cfg = replace(cfg, cpu_temperature=cpu, gpio=replace(cfg.gpio, pin_factory="hwsim"))
    if cfg.coprocessor is not None:
        cfg = replace(cfg, coprocessor=replace(cfg.coprocessor, port=str(sim_dir / "ttyACM0")))
    _simulated = cfg
    return cfg
