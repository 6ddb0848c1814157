"""The `[[bme280]]` kind, the BME280 on the co-processor: one link request per reading, three entities.

The firmware does the chip work (forced measurement, Bosch integer
compensation) and answers `bme280.read` with integers: temperature in 0.01 °C,
pressure in Pa·256 (Bosch's Q24.8), humidity in %RH·1024. Here they become
°C (0.01), hPa (0.01) and %RH (0.1). A link that is down, a chip that NACKs or
answers reset values all surface as a failed read: the entities show the error
and the rest of the daemon carries on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from device.components.base import PolledComponent
from device.components.kind import kind
from device.config.fragments import Interval, Polled
from device.errors import CommandError, DeviceError, LinkError

if TYPE_CHECKING:  # the link's types only: validating a config does not load the link
    from device.link import LinkClient, LinkMap

if TYPE_CHECKING:
    from device.components.seams import Assembly, SimBench


@dataclass(frozen=True, kw_only=True)
class Bme280Config(Polled):
    """The BME280 (I2C 0x76) on the co-processor: entities <name>_temperature/_humidity/_pressure."""

    interval: Interval = 10.0


class Bme280Sensor(PolledComponent):
    kind = "bme280"
    channels = {
        "temperature": ("°C", "temperature"),
        "humidity": ("%", "humidity"),
        "pressure": ("hPa", "atmospheric_pressure"),
    }

    def __init__(self, cfg: Bme280Config, link: LinkClient | None) -> None:
        super().__init__(cfg)
        self.bcfg = cfg
        self.link = link

    def read(self) -> dict[str, float | None]:
        if self.link is None:
            raise DeviceError("no co-processor link")
        try:
            r = self.link.request("bme280.read", {}, timeout=max(0.2, self.bcfg.timeout / 4), retries=2)
        except CommandError as e:
            raise DeviceError(f"co-processor: {e.code}: {e.message}") from None
        except LinkError as e:
            raise DeviceError(f"co-processor link: {e}") from None
        t, p, h = _raw(r, "t"), _raw(r, "p"), _raw(r, "h")
        return {
            "temperature": None if t is None else round(t / 100.0, 2),
            "humidity": None if h is None else round(h / 1024.0, 1),
            "pressure": None if p is None else round(p / 25600.0, 2),
        }


def _raw(reply: LinkMap, key: str) -> int | float | None:
    """One number of a `bme280.read` reply (None: not measured); DeviceError if not a number."""
    v = reply.get(key)
    if v is None or (isinstance(v, int | float) and not isinstance(v, bool)):
        return v
    raise DeviceError(f"co-processor: bme280.read sent {key}={v!r}, not a number")


def build(cfg: Bme280Config, parts: Assembly) -> None:
    parts.add_component(Bme280Sensor(cfg, parts.link))


def place(cfg: Bme280Config, bench: SimBench) -> None:
    bench.bme280(cfg.name)


KIND = kind("bme280", Bme280Config, build=build, place=place)
