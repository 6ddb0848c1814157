"""The configuration file's shape: one pydantic model per section; `Config` the whole file.

The device kinds' schemas live with their kinds (device/components/<kind>.py,
listed in `device.components.registry.KINDS`), built from the shared fragments
of `device.config.fragments`; `Config` has one section per kind, in the table's
order (tests/config checks that they agree). Every model forbids unknown keys; `device.config.load` turns pydantic's errors
into `FILE: key.path: message` lines with "did you mean" hints.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

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
from device.config.durations import Duration
from device.config.fragments import NAME_RE, BcmPin, Binary, Entity, OutputConfig, Polled, Section
from device.config.radio_schema import RadioConfig
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


class DeviceSection(Section):
    id: str = Field(default_factory=default_device_id)
    name: str | None = None
    state_dir: Path | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not NAME_RE.match(v):
            raise ValueError("use 1-64 characters from a-z, 0-9, _ and -, starting with a letter or digit")
        return v


class TlsSection(Section):
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    insecure: bool = False

    @model_validator(mode="after")
    def _pair(self) -> TlsSection:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together (client certificate and its key)")
        return self


class MqttSection(Section):
    # One URL, or several (a list, or one string with commas) for failover: see docs/fleet.md.
    # Kept as one comma-separated string; `urls` gives the list.
    url: str = "mqtt://localhost:1883"
    username: str | None = None
    password: str | None = None
    password_file: Path | None = None
    client_id: str | None = None
    keepalive: Duration = 60.0
    protocol: Literal["3.1.1", "5"] = "5"
    session_expiry: Duration = 86400.0
    qos: Literal[0, 1, 2] = 1
    retain: bool = True
    prefix: str = "pi2mqtt"
    clean_session: bool = True
    tls: TlsSection = TlsSection()

    @field_validator("url", mode="before")
    @classmethod
    def _url(cls, v: object) -> str:
        if isinstance(v, list | tuple) and all(isinstance(u, str) for u in v):
            return ",".join(parse_url_list(list(v)))
        if isinstance(v, str):
            return ",".join(parse_url_list(v))
        raise ValueError("give one broker URL, or a list of URLs for failover")

    @property
    def urls(self) -> list[str]:
        """The broker URLs, in the order they are tried."""
        return self.url.split(",")

    @field_validator("session_expiry")
    @classmethod
    def _session_expiry(cls, v: float) -> float:
        if v > 0xFFFFFFFE:
            raise ValueError("session_expiry must be at most 4294967294s (about 136 years)")
        return v

    @field_validator("keepalive")
    @classmethod
    def _keepalive(cls, v: float) -> float:
        if not 5 <= v <= 65535:
            raise ValueError("keepalive must be between 5s and 65535s")
        return v

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, v: str) -> str:
        if not v or any(c in v for c in "+#") or v.startswith("/") or v.endswith("/"):
            raise ValueError("a topic prefix without +, # or leading/trailing /")
        return v

    @model_validator(mode="after")
    def _password(self) -> MqttSection:
        if self.password is not None and self.password_file is not None:
            raise ValueError("give password or password_file, not both")
        return self


class OutboxSection(Section):
    """The durable outbox (docs/reliability.md)."""

    durability: Literal["batch", "reading", "memory"] = "batch"
    max_rows: int = Field(default=50_000, ge=100)
    max_bytes: int = Field(default=50_000_000, ge=100_000)
    max_age: Duration = 7 * 86400.0
    spill_after: Duration = Field(default=1.0, ge=0.0, le=60.0)
    disk_retry: Duration = Field(default=30.0, ge=0.1, le=3600.0)


class HomeAssistantSection(Section):
    """Home Assistant MQTT discovery (docs/home-assistant.md)."""

    enabled: bool = True
    prefix: str = "homeassistant"
    per_entity: bool = False


class GpioSection(Section):
    pin_factory: str | None = None


class LogSection(Section):
    level: Literal["debug", "info", "warning", "error"] = "info"


class DiagnosticsSection(Section):
    interval: Duration = 60.0


class CoprocessorConfig(Section):
    """The microcontroller behind the serial link (FM tuner, BME280)."""

    port: str = "/dev/ttyACM0"
    baud: int = Field(default=115200, ge=1200, le=4_000_000)
    reset_pin: BcmPin | None = None


# Device kinds by their table name in the file (`[[button]]`, …); the order is the publishing order.
# Each kind's schema, builder and simulator wiring live in its module in device/components.
DEVICE_KINDS: dict[str, type[Entity]] = {
    k.key: k.schema for k in KINDS if k.many and issubclass(k.schema, Entity)
}


class Config(Section):
    """The whole file."""

    device: DeviceSection = DeviceSection()
    mqtt: MqttSection = MqttSection()
    gpio: GpioSection = GpioSection()
    log: LogSection = LogSection()
    diagnostics: DiagnosticsSection = DiagnosticsSection()
    outbox: OutboxSection = OutboxSection()
    homeassistant: HomeAssistantSection = HomeAssistantSection()
    status_led: StatusLedConfig | None = None
    button: list[ButtonConfig] = []
    door: list[DoorConfig] = []
    motion: list[MotionConfig] = []
    light: list[LightConfig] = []
    distance: list[DistanceConfig] = []
    mcp3008: list[Mcp3008Config] = []
    cpu_temperature: list[CpuTemperatureConfig] = []
    led: list[LedConfig] = []
    pwm_led: list[PwmLedConfig] = []
    relay: list[RelayConfig] = []
    bme280: list[Bme280Config] = []
    coprocessor: CoprocessorConfig | None = None
    radio: RadioConfig | None = None

    def entities(self) -> list[tuple[str, Entity]]:
        """Every configured device as (kind, config), in a stable order."""
        out: list[tuple[str, Entity]] = []
        for kind in DEVICE_KINDS:
            out.extend((kind, e) for e in getattr(self, kind))
        return out
