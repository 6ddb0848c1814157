"""The simulated co-processor board: a Pico running the real firmware, its I2C chips, the world.

`wire_coprocessor` is called by `hwsim.bench.Bench.finish` when a co-processor
was placed (`Bench.coprocessor`). It builds the I2C bus with a BME280 model fed by the
simulated room (`hwsim.environment`) and, with a radio placed, its FM
chip model tuned into a `RadioWorld` (its RST on the Pico's GP6 line, SDIO on
the bus's SDA, as on the board: docs/hardware.md); starts `SimMcu` (the firmware on a pty)
at `<HWSIM_DIR>/ttyACM0`; wires the co-processor reset line (a GPIO output
pulsed low) to a reboot of the simulated MCU; and registers control paths:

    mcu/unplug | replug | reboot | garbage N | drop N | corrupt N
    environment/temperature °C | humidity %RH | pressure hPa | auto
    <bme280 name>/stuck on|off | dropout on|off | spike | nack on|off
    radio/...  (see hwsim/radio_controls.py)
    chips/violations   the datasheet violations the chip models recorded (a list of
                       "chip: reason"; tests that run the daemon in a process of its
                       own ask for it at teardown and fail on any)
"""

from __future__ import annotations

import logging
from typing import Any

from hwsim.chips.bme280 import BME280Model
from hwsim.control import parse_number, parse_switch
from hwsim.environment import Environment
from hwsim.i2c import McuPin, SimI2C
from hwsim.mcu import SimMcu
from hwsim.pins import SimPin
from hwsim.sim import Simulation
from hwsim.world import OutputRecord

log = logging.getLogger(__name__)

BME280_ADDR = 0x76


class CoprocessorBoard:
    """The parts of the simulated co-processor, kept together for tests and control."""

    def __init__(self, sim: Simulation, *, baud: int = 115200, bme280: str | None = None,
                 tuner: str | None = None) -> None:
        self.bus = SimI2C()
        self.tuner_rst = McuPin("tuner_rst", 0)
        self.pins: dict[str, object] = {"tuner_rst": self.tuner_rst, "sda": self.bus.sda,
                                        "i2c_init": self.bus.init}
        self.environment = Environment(speed=sim.speed)
        self.bme280: BME280Model | None = None
        self.radio_world: Any = None
        self.tuner: Any = None
        if bme280 is not None:
            self.bme280 = BME280Model(source=self.environment.source())
            self.bus.attach(BME280_ADDR, self.bme280)
        if tuner is not None:
            self._add_radio(tuner)
        link = sim.dir / "ttyACM0"
        self.mcu = SimMcu(link, baud, i2c=self.bus, pins=self.pins)
        self.bme_name = bme280 or "bme280"

    def _add_radio(self, chip: str) -> None:
        from hwsim.chips.radio_world import RadioWorld

        self.radio_world = RadioWorld()
        if chip == "si4703":
            from hwsim.chips.si4703 import Si4703

            self.tuner = Si4703(self.radio_world)
            self.tuner.attach(self.bus, self.tuner_rst)
        else:
            from hwsim.chips.rda5807m import Rda5807m

            self.tuner = Rda5807m(self.radio_world)
            self.tuner.attach(self.bus)

    def register_controls(self, sim: Simulation) -> None:
        reg = sim.control
        self.mcu.register_controls(reg)
        env = self.environment
        reg.register("environment/temperature", lambda p: env.set_temperature(parse_number(p, "°C")))
        reg.register("environment/humidity", lambda p: env.set_humidity(parse_number(p, "%RH")))
        reg.register("environment/pressure", lambda p: env.set_pressure(parse_number(p, "hPa")))
        reg.register("environment/auto", lambda p: env.auto())
        reg.register("chips/violations", lambda p: self.violations())
        reg.register("environment/get", lambda p: dict(zip(("celsius", "rh", "hpa"), env.sample(), strict=True)))
        if self.bme280 is not None:
            chip, name = self.bme280, self.bme_name
            reg.register(f"{name}/stuck", lambda p: chip.set_stuck(parse_switch(p)))
            reg.register(f"{name}/dropout", lambda p: chip.set_dropout(parse_switch(p)))
            reg.register(f"{name}/spike", lambda p: chip.inject_spike())
            reg.register(f"{name}/nack", lambda p: self.bus.set_nack(BME280_ADDR, parse_switch(p)))
        if self.radio_world is not None:
            try:
                from hwsim.radio_controls import register_radio_controls
            except ImportError:
                return
            register_radio_controls(reg, self.radio_world, self.tuner)

    def violations(self) -> list[str]:
        """Every datasheet violation the board's chip models recorded so far."""
        out: list[str] = []
        for chip in (self.bme280, self.tuner):
            if chip is not None:
                out += [f"{chip.NAME}: {v}" for v in chip.violations]
        return out

    def close(self) -> None:
        for v in self.violations():
            log.warning("hwsim: datasheet violation: %s", v)
        self.mcu.close()


def wire_coprocessor(sim: Simulation, *, baud: int = 115200, reset: SimPin | None = None,
                     reset_pin: int | None = None, bme280: str | None = None,
                     tuner: str | None = None) -> CoprocessorBoard:
    """Build the simulated co-processor: `bme280` names the BME280 on its bus, `tuner` the FM chip."""
    board = CoprocessorBoard(sim, baud=baud, bme280=bme280, tuner=tuner)
    board.register_controls(sim)
    sim.add_part(board)
    if reset is not None and reset_pin is not None:
        # The Pico's RUN pin: held low = in reset; the rising edge boots the firmware again.
        record = OutputRecord("mcu_reset", "reset", reset_pin, active_high=False)
        state = {"low": False}

        def on_change(rec: OutputRecord) -> None:
            low = rec.level < 0.5
            if state["low"] and not low:
                log.info("co-processor reset line released: rebooting the simulated MCU")
                board.mcu.reboot()
            state["low"] = low

        record.listeners.append(on_change)
        reset.output_record = record
    return board
