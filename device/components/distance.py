"""The `[[distance]]` kind: an HC-SR04 ultrasonic ranger (echo + trigger); published in metres."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from device.components.base import PolledComponent, close_quietly
from device.components.kind import kind
from device.components.polled import require_sample
from device.config.fragments import BcmPin, Interval, Polled
from device.config.rules import Range

if TYPE_CHECKING:
    from gpiozero import DistanceSensor, Factory

    from device.components.seams import Assembly, SimBench


@dataclass(frozen=True, kw_only=True)
class DistanceConfig(Polled):
    echo: BcmPin
    trigger: BcmPin
    max_distance: Annotated[float, Range(gt=0, le=10)] = 2.0
    interval: Interval = 1.0


class Distance(PolledComponent):
    """HC-SR04 ultrasonic ranger; published in metres (mm resolution)."""

    kind = "distance"
    unit = "m"
    device_class = "distance"

    def __init__(self, cfg: DistanceConfig, pin_factory: Factory | None = None) -> None:
        super().__init__(cfg, pin_factory)
        self.dcfg = cfg
        self._dev: DistanceSensor | None = None

    def open(self) -> None:
        import warnings

        from gpiozero import DistanceSensor

        with warnings.catch_warnings():
            # Software PWM fallback is expected for the trigger pin; not a user problem.
            warnings.simplefilter("ignore")
            self._dev = DistanceSensor(
                echo=self.dcfg.echo,
                trigger=self.dcfg.trigger,
                max_distance=self.dcfg.max_distance,
                queue_len=3,
                partial=True,
                pin_factory=self.pin_factory,
            )

    def read(self) -> float:
        assert self._dev is not None
        require_sample(self._dev)
        return round(float(self._dev.distance), 3)

    def close(self) -> None:
        dev, self._dev = self._dev, None
        # gpiozero 2.0's DistanceSensor.close() drops its trigger pin before it stops the
        # sampling thread, which may then ping through None ("'NoneType' object has no
        # attribute 'pin'" at shutdown): stop the sampling first.
        sampler = getattr(dev, "_queue", None)
        stop = getattr(sampler, "stop", None)
        if stop is not None:
            try:
                stop()
            except RuntimeError:  # never started
                pass
        close_quietly(dev)


def build(cfg: DistanceConfig, parts: Assembly) -> None:
    parts.add_component(Distance(cfg, parts.pin_factory))


def place(cfg: DistanceConfig, bench: SimBench) -> None:
    bench.distance(cfg.echo, cfg.trigger, cfg.name)


KIND = kind("distance", DistanceConfig, build=build, place=place)
