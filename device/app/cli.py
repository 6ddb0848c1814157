"""The `pi2mqtt` command line: run, check, doctor, demo, watch, web.

Every failure a user can cause (bad config, missing file, unreachable broker
on `watch`) ends with one clear message and an exit status — never a traceback.
Exit status 2 means "your input is wrong" (bad config or arguments).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from device import __version__
from device.app.startup import (
    DEFAULT_CONFIG,
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    default_config_path,
    sim_environment,
)
from device.errors import ConfigError, Pi2MqttError, StateDirInUse

log = logging.getLogger("pi2mqtt")

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="pi2mqtt", description="Sensors and an FM tuner on a Raspberry Pi, over MQTT.")
    p.add_argument("--version", action="version", version=f"pi2mqtt {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    run = sub.add_parser("run", help="run the daemon")
    run.add_argument("--config", type=Path, help=f"config file (default {DEFAULT_CONFIG})")
    run.add_argument("--broker", metavar="URL[,URL…]",
                     help="broker URL, or several separated by commas for failover; overrides mqtt.url "
                          "(mqtt://host:port, mqtts://, ws://host:port/path, wss://)")
    run.add_argument("--sim", action="store_true", help="put every device on the hardware simulator (hwsim)")
    run.add_argument("--log-level", choices=["debug", "info", "warning", "error"], help="overrides log.level")

    check = sub.add_parser("check", help="validate a config file and exit (0 ok, 2 invalid)")
    check.add_argument("--config", type=Path, help=f"config file (default {DEFAULT_CONFIG})")

    doctor = sub.add_parser("doctor", help="check the hardware, the firmware and the broker, one line each "
                            "(exit 0, or 1 when anything fails)")
    doctor.add_argument("--config", type=Path, help=f"config file (default {DEFAULT_CONFIG})")
    doctor.add_argument("--broker", metavar="URL", help="broker URL, overrides mqtt.url")
    doctor.add_argument("--sim", action="store_true", help="check against the hardware simulator (hwsim)")

    demo = sub.add_parser("demo", help="everything on this machine: broker, simulated devices, live view")
    demo.add_argument("--broker", metavar="URL", help="use this broker instead of starting one")
    demo.add_argument("--duration", type=float, metavar="SECONDS", help="stop after this long and print a summary")
    demo.add_argument("--config", type=Path, help="demo config (default examples/demo.toml)")
    demo.add_argument("--plain", action="store_true", help="plain lines instead of the live view")
    demo.add_argument("--local-broker", choices=("auto", "mosquitto", "amqtt"), default="auto",
                      help="without --broker: start this broker (auto: Mosquitto if installed, else amqtt)")

    watch = sub.add_parser("watch", help="live view of every pi2mqtt device on a broker")
    watch.add_argument("--broker", metavar="URL[,URL…]", default="mqtt://localhost:1883",
                       help="broker URL, or several separated by commas: the first that answers, then the "
                            "next when it goes")
    watch.add_argument("--prefix", default="pi2mqtt", help="topic prefix (default pi2mqtt)")
    watch.add_argument("--duration", type=float, metavar="SECONDS", help="stop after this long")
    watch.add_argument("--plain", action="store_true", help="plain lines instead of the live view")

    webp = sub.add_parser("web", help="live web page of every pi2mqtt device on a broker (extra: web)")
    webp.add_argument("--broker", metavar="URL[,URL…]", default="mqtt://localhost:1883",
                      help="broker URL, or several separated by commas: the first that answers, then the "
                           "next when it goes")
    webp.add_argument("--prefix", default="pi2mqtt", help="topic prefix (default pi2mqtt)")
    webp.add_argument("--bind", default="127.0.0.1", metavar="ADDR",
                      help="address to listen on (default 127.0.0.1; any other needs --password-file)")
    webp.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
    webp.add_argument("--password-file", type=Path, metavar="FILE",
                      help="file holding the password (also accepted as a Bearer token)")
    webp.add_argument("--cert", type=Path, metavar="FILE", help="TLS certificate (PEM): serve HTTPS")
    webp.add_argument("--key", type=Path, metavar="FILE", help="TLS private key (PEM)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "run":
        from device.app.sslgate import use_builtin_hashes

        use_builtin_hashes()  # before anything imports hashlib (paho does)
    try:
        if args.command == "check":
            return cmd_check(args)
        if args.command == "run":
            return cmd_run(args)
        if args.command == "doctor":
            return cmd_doctor(args)
        if args.command == "demo":
            from device.app.demo import run_demo

            return run_demo(args)
        if args.command == "watch":
            from device.view import watch

            return watch(args.broker, prefix=args.prefix, duration=args.duration, plain=args.plain or None)
        if args.command == "web":
            return cmd_web(args)
    except ConfigError as e:
        for line in e.problems:
            print(line, file=sys.stderr)
        return EXIT_USAGE
    except StateDirInUse as e:
        print(f"pi2mqtt: {e}", file=sys.stderr)
        return EXIT_USAGE
    except Pi2MqttError as e:
        print(f"pi2mqtt: {e}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_OK
    return EXIT_USAGE


def cmd_web(args: argparse.Namespace) -> int:
    try:
        from device.web.webserver import WebOptions, serve
    except ImportError as e:
        raise ConfigError([f"pi2mqtt web needs the `web` extra ({e.name} is missing): "
                           "pip install 'pi2mqtt[web]'"]) from None
    secret = None
    if args.password_file is not None:
        from device.app.credentials import read_secret

        secret = read_secret(args.password_file, key="--password-file")
        if not secret:
            raise ConfigError([f"--password-file {args.password_file}: the file is empty"])
    opts = WebOptions(broker=args.broker, prefix=args.prefix, bind=args.bind, port=args.port,
                      secret=secret, cert=args.cert, key=args.key)

    def ready(url: str) -> None:
        print(f"pi2mqtt web: {url} (broker {args.broker})", file=sys.stderr, flush=True)

    return serve(opts, ready=ready)


def cmd_check(args: argparse.Namespace) -> int:
    from device.config import load_config

    path = args.config or default_config_path()
    cfg = load_config(path)
    print(f"{path}: ok — device {cfg.device.id!r}, {len(cfg.entities())} entities, broker {cfg.mqtt.url}")
    return EXIT_OK


def cmd_doctor(args: argparse.Namespace) -> int:
    import shutil
    import tempfile

    from device.app.credentials import resolve_secret
    from device.app.doctor import run_doctor
    from device.config import load_config

    path = args.config or default_config_path()
    cfg = load_config(path, {"mqtt.url": args.broker} if args.broker else None)
    m = cfg.mqtt
    password = resolve_secret(value=m.password, file=m.password_file, default_credential="mqtt-password")
    if not args.sim:
        return run_doctor(cfg, str(path), password=password)
    sim_dir = Path(tempfile.mkdtemp(prefix="pi2mqtt-doctor-"))
    try:
        return run_doctor(sim_environment(cfg, path.resolve(), sim_dir), str(path), password=password)
    finally:
        shutil.rmtree(sim_dir, ignore_errors=True)


def cmd_run(args: argparse.Namespace) -> int:
    from device.app.runner import run

    return run(args)
