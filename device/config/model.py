"""The configuration file's shape: one dataclass per section; `Config` the whole file.

The device kinds' schemas live with their kinds (device/components/<kind>.py,
listed in `device.components.registry.KINDS`), built from the shared fragments
of `device.config.fragments`; `Config` has one section per kind, in the table's
order (tests/config checks that they agree). Every section forbids unknown keys; `device.config` validates
a file with pydantic and turns its errors into `FILE: key.path: message` lines with "did you mean"
hints. Importing this module does not import pydantic (device/config/fragments.py).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from device.components.bme280 import Bme280Config
from device.components.button import ButtonConfig
from device.components.cpu_temperature import CpuTemperatureConfig
from device.components.distance import DistanceConfig
from device.components.door import DoorConfig
from device.components.led import LedConfig
from device.components.light import LightConfig
from device.components.mcp3008 import Mcp3008Config
from device.components.motion import MotionConfig
from device.components.pwm_led import PwmLedConfig
from device.components.registry import KINDS
from device.components.relay import RelayConfig
from device.components.status_led import StatusLedConfig
from device.config.durations import Duration, parse_duration
from device.config.fragments import BcmPin, Binary, Entity, Name, OutputConfig, Polled, Section
from device.config.radio_schema import RadioConfig
from device.config.rules import After, Before, Range
from device.mqtt.brokers import parse_broker_list

__all__ = ["DEVICE_KINDS", "Binary", "Config", "Entity", "OutputConfig", "Polled", "Section"]


def default_device_id() -> str:
    """The hostname, lower-cased, with anything but [a-z0-9_-] replaced by `_`."""
    # os.uname().nodename is what socket.gethostname() returns, without importing socket.
    host = os.uname().nodename.split(".")[0].lower() or "pi2mqtt"
    return re.sub(r"[^a-z0-9_-]", "_", host)


def parse_url_list(value: str | list[str]) -> list[str]:
    """The URLs of `mqtt.url` (one, a list, or comma-separated), each checked."""
    return [b.url for b in parse_broker_list(value)]


# -- top-level sections ----------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class DeviceSection(Section):
    id: Name = field(default_factory=default_device_id)
    name: str | None = None
    state_dir: Path | None = None


@dataclass(frozen=True, kw_only=True)
class TlsSection(Section):
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    insecure: bool = False

    def check(self) -> None:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together (client certificate and its key)")


def _urls(v: object) -> str:
    if isinstance(v, list | tuple) and all(isinstance(u, str) for u in v):
        return ",".join(parse_url_list(list(v)))
    if isinstance(v, str):
        return ",".join(parse_url_list(v))
    raise ValueError("give one broker URL, or a list of URLs for failover")


def _session_expiry(v: float) -> float:
    if v > 0xFFFFFFFE:
        raise ValueError("session_expiry must be at most 4294967294s (about 136 years)")
    return v


def _keepalive(v: float) -> float:
    if not 5 <= v <= 65535:
        raise ValueError("keepalive must be between 5s and 65535s")
    return v


def _prefix(v: str) -> str:
    if not v or any(c in v for c in "+#") or v.startswith("/") or v.endswith("/"):
        raise ValueError("a topic prefix without +, # or leading/trailing /")
    return v


@dataclass(frozen=True, kw_only=True)
class MqttSection(Section):
    # One URL, or several (a list, or one string with commas) for failover: see docs/fleet.md.
    # Kept as one comma-separated string; `urls` gives the list.
    url: Annotated[str, Before(_urls)] = "mqtt://localhost:1883"
    username: str | None = None
    password: str | None = None
    password_file: Path | None = None
    client_id: str | None = None
    keepalive: Annotated[Duration, After(_keepalive)] = 60.0
    protocol: Literal["3.1.1", "5"] = "5"
    session_expiry: Annotated[Duration, After(_session_expiry)] = 86400.0
    qos: Literal[0, 1, 2] = 1
    retain: bool = True
    prefix: Annotated[str, After(_prefix)] = "pi2mqtt"
    clean_session: bool = True
    tls: TlsSection = field(default_factory=TlsSection)

    @property
    def urls(self) -> list[str]:
        """The broker URLs, in the order they are tried."""
        return self.url.split(",")

    def check(self) -> None:
        if self.password is not None and self.password_file is not None:
            raise ValueError("give password or password_file, not both")


@dataclass(frozen=True, kw_only=True)
class OutboxSection(Section):
    """The durable outbox (docs/reliability.md)."""

    durability: Literal["batch", "reading", "memory"] = "batch"
    max_rows: Annotated[int, Range(ge=100)] = 50_000
    max_bytes: Annotated[int, Range(ge=100_000)] = 50_000_000
    max_age: Duration = 7 * 86400.0
    spill_after: Annotated[float, Range(ge=0.0, le=60.0), Before(parse_duration)] = 1.0
    disk_retry: Annotated[float, Range(ge=0.1, le=3600.0), Before(parse_duration)] = 30.0


@dataclass(frozen=True, kw_only=True)
class HomeAssistantSection(Section):
    """Home Assistant MQTT discovery (docs/home-assistant.md)."""

    enabled: bool = True
    prefix: str = "homeassistant"
    per_entity: bool = False


@dataclass(frozen=True, kw_only=True)
class GpioSection(Section):
    pin_factory: str | None = None


@dataclass(frozen=True, kw_only=True)
class LogSection(Section):
    level: Literal["debug", "info", "warning", "error"] = "info"


@dataclass(frozen=True, kw_only=True)
class DiagnosticsSection(Section):
    interval: Duration = 60.0


@dataclass(frozen=True, kw_only=True)
class CoprocessorConfig(Section):
    """The microcontroller behind the serial link (FM tuner, BME280)."""

    port: str = "/dev/ttyACM0"
    baud: Annotated[int, Range(ge=1200, le=4_000_000)] = 115200
    reset_pin: BcmPin | None = None


# Device kinds by their table name in the file (`[[button]]`, …); the order is the publishing order.
# Each kind's schema, builder and simulator wiring live in its module in device/components.
DEVICE_KINDS: dict[str, type[Entity]] = {
    k.key: k.schema for k in KINDS if k.many and issubclass(k.schema, Entity)
}


@dataclass(frozen=True, kw_only=True)
class Config(Section):
    """The whole file."""

    device: DeviceSection = field(default_factory=DeviceSection)
    mqtt: MqttSection = field(default_factory=MqttSection)
    gpio: GpioSection = field(default_factory=GpioSection)
    log: LogSection = field(default_factory=LogSection)
    diagnostics: DiagnosticsSection = field(default_factory=DiagnosticsSection)
    outbox: OutboxSection = field(default_factory=OutboxSection)
    homeassistant: HomeAssistantSection = field(default_factory=HomeAssistantSection)
    status_led: StatusLedConfig | None = None
    button: list[ButtonConfig] = field(default_factory=list)
    door: list[DoorConfig] = field(default_factory=list)
    motion: list[MotionConfig] = field(default_factory=list)
    light: list[LightConfig] = field(default_factory=list)
    distance: list[DistanceConfig] = field(default_factory=list)
    mcp3008: list[Mcp3008Config] = field(default_factory=list)
    cpu_temperature: list[CpuTemperatureConfig] = field(default_factory=list)
    led: list[LedConfig] = field(default_factory=list)
    pwm_led: list[PwmLedConfig] = field(default_factory=list)
    relay: list[RelayConfig] = field(default_factory=list)
    bme280: list[Bme280Config] = field(default_factory=list)
    coprocessor: CoprocessorConfig | None = None
    radio: RadioConfig | None = None

    def entities(self) -> list[tuple[str, Entity]]:
        """Every configured device as (kind, config), in a stable order."""
        out: list[tuple[str, Entity]] = []
        for kind in DEVICE_KINDS:
            out.extend((kind, e) for e in getattr(self, kind))
        return out
