"""`pi2mqtt run`: the process around the daemon — config, signals, start and stop.

SIGTERM/SIGINT stop the daemon (offline published, disconnect, exit 0 within
2 s even when a device read is stuck).
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from typing import Any

from device.cli import EXIT_OK, default_config_path, setup_logging, sim_environment, start_daemon
from device.config import ConfigError, load_config

log = logging.getLogger("pi2mqtt")


def run(args: argparse.Namespace) -> int:
    from device.state import resolve_state_dir

    path = args.config or default_config_path()
    overrides: dict[str, Any] = {}
    if args.broker:
        overrides["mqtt.url"] = args.broker
    cfg = load_config(path, overrides)
    setup_logging(args.log_level or cfg.log.level)
    state_dir = resolve_state_dir(cfg.device.state_dir)
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError([f"{path}: device.state_dir: cannot create {state_dir}: {e.strerror}"]) from None
    if args.sim:
        cfg = sim_environment(cfg, path.resolve(), state_dir / "hwsim")

    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        log.info("received %s; stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    daemon = start_daemon(cfg, state_dir)
    try:
        daemon.run(stop)
    finally:
        daemon.stop()
        from device.gpio import release_pin_factory

        threading.Thread(target=release_pin_factory, daemon=True).start()
    return EXIT_OK
