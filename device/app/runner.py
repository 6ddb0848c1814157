"""`pi2mqtt run`: the process around the daemon — config, secrets, outbox, signals, systemd.

Theory of operation
-------------------
`run()` has the config validated in a short-lived child process
(device/config/child.py: pydantic is never loaded in the daemon), imports the daemon's
modules meanwhile, opens the outbox the config asks for (`[outbox]`), starts the
daemon and tells systemd `READY=1` at once (the broker may still be away: the
daemon queues readings meanwhile). The main thread then runs `Daemon.run()`,
whose per-tick callback (`Supervisor.tick`) sends `STATUS=` lines when the state
changes (connected / reconnecting / error, entities failing, the last reload's
result) and `WATCHDOG=1` every `WATCHDOG_USEC/2` — only while that loop advances
and the MQTT connection machinery (`MqttClient.network_alive()`) is alive, never
tied to the broker being reachable.

Signals set flags and wake the loop; the work happens on the main thread.
SIGTERM/SIGINT: `STOPPING=1`, stop the daemon (offline published, disconnect,
outbox committed), exit 0 within 2 s even when a device read is stuck.
SIGHUP: re-read the config file (validated in a child, as at start). Invalid → keep running on the old one, log the
problems and say so in `STATUS=`. Valid → `RELOADING=1` + `MONOTONIC_USEC`, stop
the old daemon (bounded), start a new one, `READY=1`. If the new one cannot be
started the old config is started again.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from device.app import sdnotify
from device.app.configload import begin, validated
from device.app.startup import EXIT_OK, default_config_path, setup_logging, sim_environment
from device.errors import ConfigError, Pi2MqttError

if TYPE_CHECKING:  # imported when used: start-up loads only what the config needs
    from device.config import Config
    from device.core.daemon import Daemon
    from device.outbox.types import Outbox

log = logging.getLogger("pi2mqtt")


def read_password(cfg: Config) -> str | None:
    """The MQTT password: mqtt.password_file, a systemd credential, or (discouraged) mqtt.password."""
    from device.app.credentials import resolve_secret

    m = cfg.mqtt
    return resolve_secret(value=m.password, file=m.password_file, default_credential="mqtt-password")


def open_configured_outbox(cfg: Config, state_dir: Path) -> Outbox:
    """The outbox `[outbox]` asks for: SQLite in the state directory, or RAM only."""
    from device.outbox import MemoryOutbox, open_outbox

    o = cfg.outbox
    if o.durability == "memory":
        return MemoryOutbox(max_rows=o.max_rows)
    return open_outbox(state_dir, max_rows=o.max_rows, max_bytes=o.max_bytes, max_age_s=o.max_age,
                       durability=o.durability, spill_after=o.spill_after, disk_retry=o.disk_retry)


def uses_tls(cfg: Config) -> bool:
    from device.mqtt.brokers import parse_broker_list

    return any(b.tls for b in parse_broker_list(cfg.mqtt.urls))


def tls_in_file(path: Path, overrides: dict[str, object]) -> bool | None:
    """Whether the file (or `--broker`) asks for TLS, read before it is validated; None when
    it cannot tell (the validation says why). The validated `mqtt.url` is the same text."""
    import tomllib

    from device.mqtt.brokers import parse_broker_list

    url = overrides.get("mqtt.url")
    if url is None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return None
        mqtt = data.get("mqtt", {})
        url = mqtt.get("url", "mqtt://localhost:1883") if isinstance(mqtt, dict) else None
    if not isinstance(url, str | list):
        return None
    try:
        return any(b.tls for b in parse_broker_list(url))
    except (ValueError, TypeError, AttributeError):
        return None


def warm_up() -> None:
    """Import what every daemon runs on (paho, gpiozero, sqlite3, the core), as `start_daemon` would."""
    import device.app.pinfactory
    import device.core.daemon  # noqa: F401


def start_daemon(cfg: Config, state_dir: Path) -> Daemon:
    """Pick the pin factory, open the outbox, build and start the daemon; returns it running."""
    from device.app.pinfactory import configured_pins, load_pin_factory
    from device.core.daemon import Daemon

    password = read_password(cfg)
    factory = load_pin_factory(cfg.gpio.pin_factory, needs_gpio=bool(configured_pins(cfg)))
    outbox = open_configured_outbox(cfg, state_dir)
    try:
        daemon = Daemon(cfg, pin_factory=factory, state_dir=state_dir, outbox=outbox, password=password)
    except BaseException:
        outbox.close()
        raise
    daemon.start()
    # Once the first readings are out, give back what start-up used and no longer needs.
    from device.app.memtrim import release_startup_memory

    trim = threading.Timer(2.0, release_startup_memory)
    trim.daemon = True
    trim.start()
    return daemon


def status_line(daemon: Daemon, note: str | None = None) -> str:
    """One line for `systemctl status`: connection, failing entities, the last reload's result."""
    c = daemon.client
    state = c.state
    if state == "connected":
        text = f"connected to {c.broker.display}"
    elif c.last_error:
        text = f"{state}: {c.last_error}"
    else:
        text = f"{state} to {c.broker.display}"
    failing = sorted(name for name, h in daemon.health.items() if h.error)
    total = len(daemon.health)
    text += f"; {total - len(failing)}/{total} entities ok"
    if failing:
        text += " (failing: " + ", ".join(failing[:5]) + (", …" if len(failing) > 5 else "") + ")"
    pending = daemon.outbox.pending()
    if pending:
        text += f"; {pending} queued"
    if note:
        text += f"; {note}"
    return text


class Supervisor:
    """Owns the running daemon: ticks (status, watchdog), reloads, stop."""

    def __init__(self, load: Callable[[], Config], state_dir: Path) -> None:
        self._load = load  # raises ConfigError
        self.state_dir = state_dir
        self.stop_requested = threading.Event()
        self.reload_requested = threading.Event()
        self.wake = threading.Event()
        self.note: str | None = None
        self._last_status = ""
        self._last_queue_report = 0.0
        self._last_status_check = 0.0
        self._notify = bool(os.environ.get("NOTIFY_SOCKET"))
        self._watchdog = sdnotify.watchdog_interval()
        self._last_ping = 0.0
        self._starved = False
        self.daemon: Daemon | None = None

    # -- signals (handlers only set flags) --------------------------------------------------
    def on_stop_signal(self, signum: int, frame: object) -> None:
        log.info("received %s; stopping", signal.Signals(signum).name)
        self.stop_requested.set()
        self.wake.set()

    def on_reload_signal(self, signum: int, frame: object) -> None:
        log.info("received SIGHUP; reloading the configuration")
        self.reload_requested.set()
        self.wake.set()

    # -- the loop ---------------------------------------------------------------------------
    def tick(self) -> None:
        """Called by Daemon.run() every tick: status changes and the watchdog."""
        d = self.daemon
        if d is None:
            return
        now = time.monotonic()
        if not self._notify or now - self._last_status_check < 1.0:
            text = self._last_status  # not under systemd, or checked less than 1 s ago
        else:
            self._last_status_check = now
            text = status_line(d, self.note)
        # The queue length changes all the time: report it at most every 5 s.
        if text != self._last_status and (text.split("; ")[:2] != self._last_status.split("; ")[:2]
                                          or now - self._last_queue_report >= 5.0):
            self._last_status = text
            self._last_queue_report = now
            sdnotify.status(text)
        if self._watchdog is not None and now - self._last_ping >= self._watchdog:
            if d.client.network_alive():
                sdnotify.watchdog()
                self._last_ping = now
                self._starved = False
            elif not self._starved:
                self._starved = True
                log.error("the MQTT connection thread is dead: not pinging the watchdog (systemd will restart us)")

    def serve(self, cfg: Config) -> None:
        """Run until a stop signal: start, loop, reload on SIGHUP, stop."""
        self.daemon = start_daemon(cfg, self.state_dir)
        self._last_status = status_line(self.daemon)
        sdnotify.ready(self._last_status)
        self.tick()
        try:
            while not self.stop_requested.is_set():
                self.wake.clear()
                if self.stop_requested.is_set():
                    break
                if not self.reload_requested.is_set():
                    self.daemon.run(self.wake, on_tick=self.tick)
                if self.reload_requested.is_set() and not self.stop_requested.is_set():
                    self.reload_requested.clear()
                    self.reload()
        finally:
            sdnotify.stopping()
            self.daemon.stop()
            from device.app.pinfactory import release_pin_factory

            threading.Thread(target=release_pin_factory, args=(self.daemon.devices_closed,), daemon=True).start()

    @property
    def running(self) -> Daemon:
        """The daemon `serve` started (reloads only happen while it serves)."""
        if self.daemon is None:
            raise RuntimeError("the supervisor is not serving")
        return self.daemon

    def _reload_in_place(self, new: Config) -> None:
        """Same [mqtt], [outbox], device id and pin factory: rebuild devices, services, discovery."""
        old_cfg = self.running.cfg
        try:
            self.running.reconfigure(new)
            self.note = f"reloaded at {time.strftime('%H:%M:%S')}"
            log.info("configuration reloaded (in place: same connection, same outbox)")
        except (Pi2MqttError, OSError) as e:
            log.error("the new configuration cannot start (%s); back to the previous one", e)
            self.note = f"reload failed, still running the previous config: {e}"
            self.running.reconfigure(old_cfg)

    def _reload_restart(self, new: Config) -> None:
        """[mqtt] (or the outbox, id, pin factory) changed: a new daemon, but no `offline`."""
        old = self.running
        old_cfg = old.cfg
        old.stop(offline=False)
        from device.app.pinfactory import release_pin_factory

        old.devices_closed.wait(5.0)  # its sampling threads stop reading before the pins close
        release_pin_factory()
        try:
            self.daemon = start_daemon(new, self.state_dir)
            self.note = f"reloaded at {time.strftime('%H:%M:%S')}"
            log.info("configuration reloaded (new connection)")
        except (Pi2MqttError, OSError) as e:
            log.error("the new configuration cannot start (%s); starting the previous one again", e)
            self.note = f"reload failed, still running the previous config: {e}"
            self.daemon = start_daemon(old_cfg, self.state_dir)

    def reload(self) -> None:
        """Validate the config file again; apply it if valid, else keep the old one and say so."""
        try:
            new = self._load()
        except ConfigError as e:
            problems = list(e.problems)
            for line in problems:
                log.error("reload refused: %s", line)
            first = problems[0] if problems else "invalid configuration"
            self.note = f"reload failed, still running the previous config: {first}"
            sdnotify.status(status_line(self.running, self.note))
            return
        sdnotify.reloading()
        try:
            same_secret = read_password(new) == self.running.mqtt_password
        except (Pi2MqttError, OSError):
            same_secret = False  # the restart path reports it and keeps the old config
        if same_secret and in_place(self.running.cfg, new):
            self._reload_in_place(new)
        else:
            self._reload_restart(new)
        self._last_status = status_line(self.running, self.note)
        sdnotify.ready(self._last_status)


def in_place(old: Config, new: Config) -> bool:
    """A reload keeps the MQTT client, its session and the outbox when nothing they use changed."""
    return (old.mqtt == new.mqtt and old.device.id == new.device.id and old.outbox == new.outbox
            and old.gpio == new.gpio)


def run(args: argparse.Namespace) -> int:
    from device.core.statedir import resolve_state_dir

    path = args.config or default_config_path()
    overrides: dict[str, object] = {}
    if args.broker:
        overrides["mqtt.url"] = args.broker
    # First of all: the validated config from the cache, or a child validating it (pydantic
    # stays out of the daemon) while this process imports the rest on the other core.
    # The cache lives only in a state directory given to the process ($STATE_DIRECTORY:
    # systemd's StateDirectory=, or a test's): the state directory the config may name is
    # not known before the config is read, and a user's own home gets nothing unasked.
    cache_dir = resolve_state_dir(None) if os.environ.get("STATE_DIRECTORY") else None
    loading = begin(path, overrides, cache_dir)
    from device.app.memtrim import limit_malloc_arenas

    limit_malloc_arenas()
    from device.app.sslgate import keep_ssl_out, ssl_refused

    def meanwhile() -> None:  # on this core, while the child validates on the other
        tls = tls_in_file(path, overrides)
        if tls is not None:
            keep_ssl_out(tls)
            warm_up()

    cfg = loading.result(meanwhile)
    setup_logging(args.log_level or cfg.log.level)
    keep_ssl_out(uses_tls(cfg))
    if uses_tls(cfg) and ssl_refused():  # cannot be: the file's URLs are the config's
        raise Pi2MqttError(f"{path}: mqtt.url: TLS was not expected; run again")
    state_dir = resolve_state_dir(cfg.device.state_dir)
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError([f"{path}: device.state_dir: cannot create {state_dir}: {e.strerror}"]) from None
    from device.app.statelock import StateDirLock

    lock = StateDirLock(state_dir)  # before anything opens the outbox or the seq file

    def prepare(c: Config) -> Config:
        return sim_environment(c, path.resolve(), state_dir / "hwsim") if args.sim else c

    def load() -> Config:
        new = validated(path, overrides, cache_dir)
        if resolve_state_dir(new.device.state_dir) != state_dir:
            raise ConfigError([f"{path}: device.state_dir: changing it needs a restart, not a reload"])
        if uses_tls(new) and ssl_refused():
            raise ConfigError([f"{path}: mqtt.url: turning TLS on (mqtts://, wss://) needs a restart, not a reload"])
        return prepare(new)

    sup = Supervisor(load, state_dir)
    signal.signal(signal.SIGTERM, sup.on_stop_signal)
    signal.signal(signal.SIGINT, sup.on_stop_signal)
    signal.signal(signal.SIGHUP, sup.on_reload_signal)
    try:
        sup.serve(prepare(cfg))
    finally:
        lock.release()
    return EXIT_OK
