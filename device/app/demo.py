"""`pi2mqtt demo`: a broker, the daemon on hwsim, and the live view, on one machine.

The broker is the one given with `--broker`, else a private Mosquitto on a free
port when the `mosquitto` binary is installed, else amqtt (the `demo` extra, a
maintained broker library) in a child process; `--local-broker` picks one. The daemon runs in this process with every device on hwsim (the world
acts by itself: motion, doorbell, a day curve sped up 600 times), using
examples/demo.toml. The daemon's log goes to `demo.log` in the state directory
($STATE_DIRECTORY, else ~/.local/state/pi2mqtt), kept after the demo ends, so the
view stays clean and the log can be read afterwards.
`--duration` stops it after that many seconds and prints what was published.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from device.app.amqttbroker import AmqttBroker, amqtt_available
from device.app.configload import load_config_in_child
from device.app.localbroker import Mosquitto, find_mosquitto
from device.app.runner import start_daemon
from device.app.startup import DEMO_CONFIG, sim_environment
from device.config import Config
from device.core.daemon import Daemon
from device.errors import ConfigError

if TYPE_CHECKING:
    from device.web.webserver import WebThread

log = logging.getLogger("pi2mqtt.demo")


class _Broker:
    """Whichever broker the demo runs: given, private Mosquitto, or amqtt."""

    def __init__(self, url: str | None, workdir: Path, local: str = "auto") -> None:
        self._local: Mosquitto | AmqttBroker | None = None
        if url:
            self.url, self.kind = url, "given"
            return
        binary = find_mosquitto() if local in ("auto", "mosquitto") else None
        if binary:
            self._local = Mosquitto(workdir / "mosquitto", binary=binary)
            self.kind = "mosquitto"
        elif local in ("auto", "amqtt") and amqtt_available():
            self._local = AmqttBroker(workdir / "amqtt")
            self.kind = "amqtt"
        else:
            wanted = {"auto": "Mosquitto or amqtt", "mosquitto": "Mosquitto", "amqtt": "amqtt"}[local]
            raise ConfigError([
                f"demo: no broker: {wanted} is not installed — apt-get install mosquitto, "
                "or pip install 'pi2mqtt[demo]' (amqtt), or pass --broker URL"
            ])
        self._local.start()
        self.url = self._local.url

    def stop(self) -> None:
        if self._local is not None:
            self._local.stop()


def run_demo(args: argparse.Namespace) -> int:
    from device.view import watch

    config_path = Path(args.config or DEMO_CONFIG).resolve()
    if not config_path.exists():
        raise ConfigError([f"{config_path}: no such file (run from a checkout, or pass --config)"])
    with tempfile.TemporaryDirectory(prefix="pi2mqtt-demo-") as tmp:
        work = Path(tmp)
        log_file = demo_log_file(work)
        logging.basicConfig(level=logging.INFO, filename=str(log_file), filemode="w",
                            format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
        broker = _Broker(args.broker, work, getattr(args, "local_broker", "auto"))
        daemon = None
        web: WebThread | None = None
        stop = threading.Event()
        try:
            cfg = load_config_in_child(config_path, {"mqtt.url": broker.url})  # no pydantic in the demo
            os.environ.setdefault("HWSIM_HOUR", "7")  # dawn: the sped-up day curve visibly rises
            cfg = sim_environment(cfg, config_path, work / "hwsim", auto=True, speed=600.0)
            print(f"pi2mqtt demo: broker {broker.url} ({broker.kind}), device {cfg.device.id!r}, "
                  f"{device_count(cfg)}; log in {log_file}", file=sys.stderr)
            print(f"  try: mosquitto_pub -L {broker.url}/pi2mqtt/{cfg.device.id}/porch_light/set -m toggle",
                  file=sys.stderr)
            daemon = start_daemon(cfg, work / "state")
            runner = threading.Thread(target=daemon.run, args=(stop,), name="daemon-main", daemon=True)
            runner.start()
            web = _start_web(broker.url, cfg.mqtt.prefix)

            def on_term(signum: int, frame: FrameType | None) -> None:
                raise KeyboardInterrupt

            signal.signal(signal.SIGTERM, on_term)
            started = time.monotonic()
            rc = watch(broker.url, prefix=cfg.mqtt.prefix, duration=args.duration,
                       plain=True if args.plain else None)
            elapsed = time.monotonic() - started
        except KeyboardInterrupt:
            rc, elapsed = 0, 0.0
        finally:
            stop.set()
            if web is not None:
                web.stop()
            if daemon is not None:
                daemon.stop()
                from device.app.pinfactory import release_pin_factory

                threading.Thread(target=release_pin_factory, args=(daemon.devices_closed,), daemon=True).start()
            broker.stop()
        if daemon is not None:
            print_summary(daemon, elapsed)
        return int(rc)


def _start_web(broker: str, prefix: str) -> WebThread | None:
    """`pi2mqtt web` beside the terminal view (docs/web.md); None without the `web` extra."""
    try:
        from device.web.webserver import start_beside
    except ImportError:
        print("  web page: not started (pip install 'pi2mqtt[web]')", file=sys.stderr)
        return None
    web = start_beside(broker, prefix)
    print(f"  web page: {web.url}", file=sys.stderr)
    return web


def demo_log_file(work: Path) -> Path:
    """Where the demo's log goes: `demo.log` in the state directory, kept after the demo ends
    (each run starts it afresh); the temporary folder only when that cannot be created."""
    from device.core.statedir import resolve_state_dir

    state = resolve_state_dir(None)
    try:
        state.mkdir(parents=True, exist_ok=True)
        path = state / "demo.log"
        path.touch()
        return path
    except OSError:
        return work / "pi2mqtt.log"


def device_count(cfg: Config) -> str:
    """"12 simulated devices: 14 entities and the radio" — the entities are what the view lists
    (a BME280 is one device and three entities); the radio has a panel of its own."""
    entities = sum(3 if kind == "bme280" else 1 for kind, _ in cfg.entities())
    radio = " and the radio" if cfg.radio is not None else ""
    return f"{len(cfg.entities())} simulated devices: {entities} entities{radio}"


def print_summary(daemon: Daemon, elapsed: float) -> None:
    """What was published, in counts that add up (docs/watch.md, "The demo's summary").

    A *reading* is one message on an entity's or the radio's topic, queued in the outbox;
    *acknowledged* counts the readings the broker confirmed. Every reading is acknowledged,
    waiting in the outbox or dropped (counted); status, discovery, diagnostics and command
    replies are not readings.
    """
    health, box = daemon.health, daemon.outbox.stats()
    from_entities = sum(h.published for h in health.values())
    waiting = box.get("pending", 0) + box.get("inflight", 0)
    dropped = box.get("dropped", 0)
    acked = daemon.client.sender.published
    total = acked + waiting + dropped
    names = {c.name: [n for n, _ in c.entities()] for c in daemon.components}
    n_entities = sum(len(v) for v in names.values())
    radio = total - from_entities
    print(f"\npi2mqtt demo summary: {total} readings in {elapsed:.1f}s — {from_entities} from "
          f"{n_entities} entities, {radio} from the radio; {acked} acknowledged by the broker, "
          f"{waiting} waiting in the outbox, {dropped} dropped")
    for name, h in health.items():
        state = "failed" if name in daemon.failed else ("error" if h.error else "ok")
        state = state if state == "ok" else f"{state}: {h.error or ''}"
        shown = names.get(name, [name])
        extra = f"  ({', '.join(shown)})" if shown != [name] else ""
        print(f"  {name:<16} {h.published:>6} published  {state}{extra}")
