"""The workbench: where each simulated device is placed on its pins, one typed call per kind.

`SimFactory(place=fn)` makes a `Bench` on its simulation and hands it to `fn`
before the simulation starts; `fn` places the devices, with plain arguments::

    def place(bench: Bench) -> None:
        bench.button(17, "doorbell")
        bench.distance(echo=24, trigger=23, name="tank_level")
        bench.coprocessor(baud=115200)
        bench.bme280("climate")

    factory = SimFactory(place=place)

hwsim does not read pi2mqtt's config: under `--sim` the daemon calls each
configured kind's wiring hook (device/components) with the validated entry, and
the hook calls one method here. Each method builds the physics of its device
(hwsim.world) on the factory's pins and registers it with the simulation under
its name (control paths `hwsim/<id>/<name>/…`). A pin placed twice is a
`ConfigError`. `finish()` adds what a Pi always has (the SoC temperature) and
builds the co-processor board with the chips placed on its I2C bus.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, TypeVar

from device.errors import ConfigError
from hwsim.devices import (
    AdcChannelDevice,
    ButtonDevice,
    CpuTempDevice,
    DistanceDevice,
    LightDevice,
    MotionDevice,
    SimDevice,
)
from hwsim.pins import (
    SPI0_CLOCK,
    SPI0_MISO,
    SPI0_MOSI,
    SPI0_SELECT,
    ChargingWatcher,
    EchoWatcher,
    SimPin,
)
from hwsim.sim import Simulation, host_load
from hwsim.world import (
    BUTTON_BOUNCE,
    REED_BOUNCE,
    Contact,
    Daylight,
    Mcp3008,
    OutputRecord,
    Pir,
    RangeTarget,
    ThermalModel,
)

D = TypeVar("D", bound=SimDevice)
RADIO_BUTTONS = ("seek_up", "seek_down", "preset_next", "preset_prev", "mute")


class PinSource(Protocol):
    """What the bench needs of the pin factory: its pins and its SPI chips."""

    def pin(self, name: int) -> SimPin: ...

    def add_mcp3008(self, select: int, vref: float = 3.3) -> Mcp3008: ...


class Bench:
    """Places simulated devices on a factory's pins (see the module docstring)."""

    def __init__(self, factory: PinSource, sim: Simulation) -> None:
        self.factory = factory
        self.sim = sim
        self.used: dict[int, str] = {}
        self._thermal: ThermalModel | None = None  # one SoC for every cpu_temperature entity
        self._coprocessor: tuple[int, int | None] | None = None  # baud, reset pin
        self._bme280: str | None = None
        self._tuner: str | None = None

    def _claim(self, pin: int, user: str) -> SimPin:
        if pin in self.used:
            if self.used[pin] == user:
                return self.factory.pin(pin)
            raise ConfigError([f"hwsim: {user}: GPIO{pin} is already used by {self.used[pin]}"])
        self.used[pin] = user
        return self.factory.pin(pin)

    # -- GPIO inputs
    def button(self, pin: int, name: str, *, pull_up: bool = True) -> ButtonDevice:
        """A push button from the pin to ground (pull_up) or to 3.3 V; it bounces 1-3 times."""
        contact = Contact(self._claim(pin, f"button {name!r}"), self.sim.scheduler, self.sim.rng(name),
                          closed_level=not pull_up, bounce=BUTTON_BOUNCE)
        return self._add(ButtonDevice(name, contact, "button"))

    def door(self, pin: int, name: str, *, pull_up: bool = True) -> ButtonDevice:
        """A reed switch held closed by the door's magnet; it bounces briefly."""
        contact = Contact(self._claim(pin, f"door {name!r}"), self.sim.scheduler, self.sim.rng(name),
                          closed_level=not pull_up, bounce=REED_BOUNCE, closed=True)
        return self._add(ButtonDevice(name, contact, "door"))

    def motion(self, pin: int, name: str) -> MotionDevice:
        """A PIR module (HC-SR501 style): a high pulse while it sees motion."""
        return self._add(MotionDevice(name, Pir(self._claim(pin, f"motion {name!r}"), self.sim.scheduler)))

    def light(self, pin: int, name: str) -> LightDevice:
        """An LDR charging a capacitor on the pin, lit by the simulated day."""
        sim = self.sim
        light = Daylight(sim.scheduler, sim.rng(name), speed=sim.speed, start_hour=sim.start_hour)
        p = self._claim(pin, f"light {name!r}")
        p.watchers.append(ChargingWatcher(light, sim.scheduler))
        p.set_external(False)
        return self._add(LightDevice(name, light))

    def distance(self, echo: int, trigger: int, name: str) -> DistanceDevice:
        """An HC-SR04: a trigger pulse on `trigger` answers with an echo pulse on `echo`."""
        target = RangeTarget(self.sim.scheduler, self.sim.rng(name))
        echo_pin = self._claim(echo, f"distance {name!r} echo")
        echo_pin.set_external(False)
        trigger_pin = self._claim(trigger, f"distance {name!r} trigger")
        trigger_pin.watchers.append(EchoWatcher(target, echo_pin, self.sim.scheduler))
        return self._add(DistanceDevice(name, target))

    def mcp3008(self, name: str, channel: int, *, select: int = 0, vref: float = 3.3) -> AdcChannelDevice:
        """Channel `channel` (0-7) of the MCP3008 on SPI0, chip select CE`select` (0 or 1)."""
        if not 0 <= channel <= 7 or select not in (0, 1):
            raise ValueError(f"mcp3008 {name!r}: channel 0-7 and select 0 or 1, not {channel}, {select}")
        for pin, role in ((SPI0_CLOCK, "SCLK"), (SPI0_MOSI, "MOSI"), (SPI0_MISO, "MISO")):
            self._claim(pin, f"mcp3008 (SPI0 {role})")
        cs = SPI0_SELECT[select]
        self._claim(cs, f"mcp3008 (SPI0 CE{select})")
        return self._add(AdcChannelDevice(name, self.factory.add_mcp3008(cs, vref), channel))

    def cpu_temperature(self, name: str) -> CpuTempDevice:
        """The SoC temperature, written to `<dir>/cpu_temp` like sysfs (one SoC, however many names)."""
        if self._thermal is None:
            self._thermal = ThermalModel(self.sim.scheduler, self.sim.rng("cpu"), host_load)
        return self._add(CpuTempDevice(name, self._thermal, self.sim.dir / "cpu_temp"))

    # -- GPIO outputs
    def output(self, name: str, kind: str, pin: int, *, active_high: bool = True) -> OutputRecord:
        """An output the daemon drives (`kind`: led, pwm_led, relay, status_led): its level is recorded."""
        record = OutputRecord(name, kind, pin, active_high=active_high)
        self._claim(pin, f"{kind} {name!r}").output_record = record
        return self.sim.add_output(record)

    # -- the co-processor and its I2C bus
    def coprocessor(self, *, baud: int = 115200, reset_pin: int | None = None) -> None:
        """A Pico running the firmware on `<dir>/ttyACM0`; its RUN pin on GPIO `reset_pin`."""
        if reset_pin is not None:
            self._claim(reset_pin, "the co-processor reset line")
        self._coprocessor = (baud, reset_pin)

    def bme280(self, name: str) -> None:
        """A BME280 at 0x76 on the co-processor's bus, in the simulated room."""
        if self._bme280 is None:  # one chip at 0x76: the first name is its control path
            self._bme280 = name

    def radio(self, name: str, *, chip: str = "auto", buttons: Mapping[str, int] | None = None,
              encoder: tuple[int, int] | None = None, pull_up: bool = True) -> None:
        """An FM tuner on the co-processor's bus (`chip` si4703, else an RDA5807M) and its panel:
        push buttons (`RADIO_BUTTONS` -> GPIO) named `<name>_<button>`, and a rotary encoder
        (A, B) named `<name>_encoder`."""
        from hwsim.encoder import EncoderDevice, QuadratureEncoder

        self._tuner = chip
        for control, pin in (buttons or {}).items():
            if control not in RADIO_BUTTONS:
                raise ValueError(f"radio {name!r}: no button {control!r}; have {', '.join(RADIO_BUTTONS)}")
            dev = f"{name}_{control}"
            contact = Contact(self._claim(pin, f"radio.{control}_pin"), self.sim.scheduler, self.sim.rng(dev),
                              closed_level=not pull_up, bounce=BUTTON_BOUNCE)
            self._add(ButtonDevice(dev, contact, "panel"))  # the autonomous world leaves it alone
        if encoder is not None:
            a, b = (self._claim(p, f"radio.encoder_{ab}_pin") for p, ab in zip(encoder, "ab", strict=True))
            self._add(EncoderDevice(f"{name}_encoder", QuadratureEncoder(a, b, self.sim.scheduler)))

    def finish(self) -> None:
        """What every Pi has (the SoC temperature), then the co-processor board if one was placed."""
        if self._thermal is None:
            self.cpu_temperature("cpu_temperature")
        if self._coprocessor is not None:
            from hwsim.coproc import wire_coprocessor

            baud, reset_pin = self._coprocessor
            reset = self.factory.pin(reset_pin) if reset_pin is not None else None
            wire_coprocessor(self.sim, baud=baud, reset=reset, reset_pin=reset_pin,
                             bme280=self._bme280, tuner=self._tuner)

    def _add(self, device: D) -> D:
        self.sim.add_device(device)
        return device
