"""What the config's shape cannot say: rules across sections, files that must be there,
values the hardware refuses.

pydantic checks each key on its own; these rules look at the whole file. They run
on every section and device entry that is valid on its own, even when others are
not, so one `pi2mqtt check` lists every problem at once — each as
`key.path: message`, with the key that has to change (`button[1].pin`, not
"(top level)"). `run` and `check` both go through `device.config.load_config`, so
whatever `run` would refuse at start-up, `check` refuses first (exit 2).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from device.config.fragments import Section
from device.config.model import DEVICE_KINDS, Config, CoprocessorConfig, Entity, StatusLedConfig
from device.config.radio_schema import RadioConfig

Problem = tuple[str, str]  # (key path, message)
M = TypeVar("M", bound=Section)


@dataclass(frozen=True)
class Parts:
    """The parts of a config file that are valid on their own, with their key paths."""

    entries: tuple[tuple[str, Entity], ...]  # ("button[1]", ButtonConfig)
    coprocessor: CoprocessorConfig | None
    radio: RadioConfig | None
    status_led: StatusLedConfig | None
    mqtt: dict[str, object]  # the raw [mqtt] table: files are checked even when a key there is bad


def parts_of(cfg: Config) -> Parts:
    """The parts of a valid config."""
    entries = tuple(
        (f"{kind}[{i}]", e) for kind in DEVICE_KINDS for i, e in enumerate(getattr(cfg, kind))
    )
    return Parts(entries, cfg.coprocessor, cfg.radio, cfg.status_led, dataclasses.asdict(cfg.mqtt))


def salvage(data: dict[str, object]) -> Parts:
    """The parts of an invalid document that validate on their own (indexes kept)."""
    entries: list[tuple[str, Entity]] = []
    for kind, model in DEVICE_KINDS.items():
        items = data.get(kind)
        if not isinstance(items, list):
            continue
        for i, item in enumerate(items):
            ok = _valid(model, item)
            if ok is not None:
                entries.append((f"{kind}[{i}]", ok))
    mqtt = data.get("mqtt")
    return Parts(
        tuple(entries),
        _valid(CoprocessorConfig, data.get("coprocessor")),
        _valid(RadioConfig, data.get("radio")),
        _valid(StatusLedConfig, data.get("status_led")),
        mqtt if isinstance(mqtt, dict) else {},
    )


def _valid(model: type[M], value: object) -> M | None:
    if not isinstance(value, dict):
        return None
    from pydantic import ValidationError  # only a file with problems is salvaged

    from device.config import adapter

    try:
        return adapter(model).validate_python(value)
    except ValidationError:
        return None


def problems(parts: Parts) -> list[Problem]:
    """Every cross-section, file and hardware problem of these parts."""
    return [*_names(parts), *_pins(parts), *_coprocessor(parts), *_radio(parts), *_files(parts.mqtt)]


def _label(path: str, e: Entity) -> str:
    return f"{path} ({e.name!r})"


def _names(parts: Parts) -> Iterator[Problem]:
    seen: dict[str, str] = {}
    for path, e in parts.entries:
        if e.name in seen:
            yield f"{path}.name", f"{e.name!r} is already the name of {seen[e.name]}; entity names must differ"
        else:
            seen[e.name] = path


def _wired(parts: Parts) -> Iterator[tuple[str, int, str]]:
    """(key path, BCM pin, what it is) for every pin the file wires, in file order."""
    for path, e in parts.entries:
        for field in ("pin", "echo", "trigger"):
            pin = getattr(e, field, None)
            if pin is not None:
                yield f"{path}.{field}", pin, _label(path, e)
    if parts.coprocessor is not None and parts.coprocessor.reset_pin is not None:
        yield "coprocessor.reset_pin", parts.coprocessor.reset_pin, "the co-processor reset line"
    if parts.radio is not None:
        for key, pin in parts.radio.control_pins().items():
            yield f"radio.{key}", pin, f"radio.{key}"
    if parts.status_led is not None:
        yield "status_led.pin", parts.status_led.pin, "the status LED"


def _pins(parts: Parts) -> Iterator[Problem]:
    owner: dict[int, tuple[str, str]] = {}
    for key, pin, what in _wired(parts):
        if pin in owner and owner[pin][1] != what:
            yield key, f"GPIO{pin} is already wired to {owner[pin][1]}"
        owner.setdefault(pin, (key, what))


def _coprocessor(parts: Parts) -> Iterator[Problem]:
    bmes = [(p, e) for p, e in parts.entries if p.startswith("bme280[")]
    for path, _ in bmes[1:]:
        yield path, "only one [[bme280]] is supported (the co-processor has one, at I2C 0x76)"
    if parts.coprocessor is None:
        for path, _ in bmes:
            yield path, "needs a [coprocessor] section (the serial link to the chip)"
        if parts.radio is not None:
            yield "radio", "needs a [coprocessor] section (the serial link to the tuner)"


def _radio(parts: Parts) -> Iterator[Problem]:
    """The band plan refuses what the tuner chip cannot do: region, spacing, start frequency."""
    radio = parts.radio
    if radio is None:
        return
    from device.errors import CommandError
    from device.radio.band import band_plan, regions_for

    chips = [radio.chip] if radio.chip != "auto" else ["rda5807m", "si4703"]
    chips = [c for c in chips if radio.region in regions_for(c)] or chips
    plans, why = [], ""
    for chip in chips:
        try:
            plans.append(band_plan(chip, radio.region, radio.spacing_khz))
        except CommandError as e:
            why = e.message
    if not plans:
        key = "radio.spacing_khz" if radio.spacing_khz is not None else "radio.region"
        yield key, why
        return
    if radio.frequency is None:
        return
    khz = round(radio.frequency * 1000)
    errors = []
    for plan in plans:
        try:
            plan.check(khz)
            return
        except CommandError as e:
            errors.append(e.message)
    yield "radio.frequency", errors[0]


def _files(mqtt: dict[str, object]) -> Iterator[Problem]:
    """Files the daemon opens at start: they must exist, be readable, and hold what they should."""
    raw = mqtt.get("tls")
    tls: dict[str, object] = raw if isinstance(raw, dict) else {}
    given = {
        "mqtt.password_file": mqtt.get("password_file"),
        "mqtt.tls.ca_file": tls.get("ca_file"),
        "mqtt.tls.cert_file": tls.get("cert_file"),
        "mqtt.tls.key_file": tls.get("key_file"),
    }
    # Absent, or not a path: a type error pydantic reports (and nothing to open here).
    paths: dict[str, str | Path | None] = {k: v if isinstance(v, str | Path) else None for k, v in given.items()}
    bad = set()
    for key, value in paths.items():
        if value is None:
            continue
        why = _unreadable(Path(value))
        if why:
            bad.add(key)
            yield key, f"{value}: {why}"
    yield from _tls_contents(paths, bad)


def _unreadable(p: Path) -> str | None:
    try:
        if p.is_dir():
            return "is a directory, not a file"
        with p.open("rb"):
            return None
    except FileNotFoundError:
        return "no such file"
    except PermissionError:
        return f"not readable by this user (uid {os.getuid()})"
    except OSError as e:
        return f"cannot read: {e.strerror}"


def _tls_contents(paths: Mapping[str, str | Path | None], bad: Iterable[str]) -> Iterator[Problem]:
    """Load the CA and the client certificate as the MQTT client will, so their errors come now."""
    ca, cert, key = paths["mqtt.tls.ca_file"], paths["mqtt.tls.cert_file"], paths["mqtt.tls.key_file"]
    if ca is None and cert is None:
        return
    import ssl  # only when TLS files are configured

    if not hasattr(ssl, "SSLContext"):
        # A reload in a daemon that started without TLS (device/app/sslgate.py): the real
        # ssl is not loaded and cannot be; the runner refuses a reload that turns TLS on.
        return
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca is not None and "mqtt.tls.ca_file" not in bad:
        try:
            ctx.load_verify_locations(cafile=str(ca))
        except (ssl.SSLError, ValueError) as e:
            yield "mqtt.tls.ca_file", f"{ca}: not a PEM CA certificate ({_ssl_reason(e)})"
    if cert is not None and key is not None and not {"mqtt.tls.cert_file", "mqtt.tls.key_file"} & set(bad):
        try:
            ctx.load_cert_chain(str(cert), str(key), password=_no_password)
        except (ssl.SSLError, ValueError) as e:
            yield "mqtt.tls.key_file", (f"{key} with {cert}: not a usable certificate and key "
                                        f"({_ssl_reason(e)}; an encrypted key is not supported)")


def _no_password() -> str:
    # An encrypted key would prompt on the terminal (and hang under systemd): refuse it instead.
    raise ValueError("the key is encrypted")


def _ssl_reason(e: Exception) -> str:
    reason = getattr(e, "reason", None)
    return str(reason or e).lower().replace("_", " ")
