"""One simulation per process: the clock thread, the named devices, outputs and parts.

`SimFactory` (hwsim.gpio) creates the `Simulation`, lets its `place` function
put devices on the pins (`hwsim.bench.Bench`), then starts it;
`current()` returns it so in-process tests and other parts of hwsim can reach
it. A test drives the world through named device handles::

    sim = hwsim.sim.current()
    sim.device("doorbell").press()
    sim.device("hall_motion").trigger(hold=0.2)
    sim.output("porch_light").state

Other simulators join with `add_part(obj)` (closed with the simulation) and
`sim.control.register(path, handler)` (reachable over MQTT as
``hwsim/<id>/<path>``).

The `Scheduler` is the simulation's clock: a daemon thread that runs deferred
calls in time order. Every pin level the world drives (bounces, PIR holds, echo
pulses, charge ends) is driven from this one thread; a failing call is logged
and the thread goes on.
"""

from __future__ import annotations

import heapq
import logging
import os
import random
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hwsim.control import (
    ControlRegistry,
    MqttControl,
)
from hwsim.devices import ButtonDevice, CpuTempDevice, MotionDevice, SimDevice
from hwsim.timebase import ScheduledCall
from hwsim.world import OutputRecord

log = logging.getLogger(__name__)

_current: Simulation | None = None
_current_lock = threading.Lock()


def current() -> Simulation:
    """The process's simulation (made by `SimFactory`); raises LookupError if there is none."""
    with _current_lock:
        if _current is None:
            raise LookupError("no hwsim simulation is running (create a hwsim.gpio.SimFactory)")
        return _current


class Scheduler:
    """A clock thread running deferred calls in time order (a `hwsim.timebase.EventClock`)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._heap: list[tuple[float, int, ScheduledCall]] = []
        self._seq = 0
        self._cond = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="hwsim-clock", daemon=True)

    def now(self) -> float:
        return self._clock()

    def start(self) -> None:
        self._thread.start()

    def call_at(self, when: float, fn: Callable[[], None]) -> ScheduledCall:
        call = ScheduledCall(when, fn)
        with self._cond:
            self._seq += 1
            heapq.heappush(self._heap, (when, self._seq, call))
            self._cond.notify()
        return call

    def call_later(self, delay: float, fn: Callable[[], None]) -> ScheduledCall:
        return self.call_at(self.now() + delay, fn)

    def every(self, period: Callable[[], float], fn: Callable[[], None], first: float) -> None:
        """Call `fn` after `first` seconds, then again after each `period()` seconds."""

        def tick() -> None:
            try:
                fn()
            finally:
                self.call_later(period(), tick)

        self.call_later(first, tick)

    def close(self, timeout: float = 1.0) -> None:
        with self._cond:
            self._stopped = True
            self._heap.clear()
            self._cond.notify_all()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped:
                    if not self._heap:
                        self._cond.wait()
                        continue
                    delay = self._heap[0][0] - self._clock()
                    if delay <= 0:
                        break
                    self._cond.wait(delay)
                if self._stopped:
                    return
                _, _, call = heapq.heappop(self._heap)
            if call.cancelled:
                continue
            try:
                call.fn()
            except Exception:
                log.exception("hwsim: simulated event failed")


# ---------------------------------------------------------------- device handles


def host_load() -> float:
    """The host's load per core (1-minute average), 0 where unknown."""
    try:
        return os.getloadavg()[0] / (os.cpu_count() or 1)
    except OSError:
        return 0.0


class Simulation:
    """The world of one process: clock, named devices, outputs, parts, control."""

    def __init__(
        self,
        *,
        sim_id: str | None = None,
        broker: str | None = None,
        directory: str | os.PathLike[str] | None = None,
        auto: bool = False,
        speed: float = 1.0,
        seed: int | str | None = None,
        start_hour: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.id = sim_id or socket.gethostname()
        self.broker = broker
        self.auto = auto
        self.speed = speed
        self.seed = seed
        if start_hour is None:
            local = time.localtime()
            start_hour = local.tm_hour + local.tm_min / 60
        self.start_hour = start_hour  # hour of the simulated day at start (light curve)
        self.scheduler = Scheduler(clock)
        self.control = ControlRegistry()
        self.mqtt: MqttControl | None = None
        self._owned_dir = directory is None
        self.dir = Path(directory) if directory is not None else Path(tempfile.mkdtemp(prefix="hwsim-"))
        self.dir.mkdir(parents=True, exist_ok=True)
        self._devices: dict[str, SimDevice] = {}
        self._outputs: dict[str, OutputRecord] = {}
        self._parts: list[object] = []
        self._closed = False
        self.control.register("get", lambda p: self.snapshot())
        global _current
        with _current_lock:
            _current = self

    def rng(self, name: str) -> random.Random:
        """A random source for one model, reproducible when the simulation has a seed."""
        return random.Random(f"{self.seed}:{name}") if self.seed is not None else random.Random()

    # -- registries
    def add_device(self, device: SimDevice) -> SimDevice:
        if device.name in self._devices:
            raise ValueError(f"two hwsim devices are called {device.name!r}")
        self._devices[device.name] = device
        for action, handler in device.actions().items():
            self.control.register(f"{device.name}/{action}", handler)
        self.control.register(f"{device.name}/get", lambda p: device.snapshot())
        return device

    def device(self, name: str) -> Any:
        """The simulated device `name` (as named in the config)."""
        try:
            return self._devices[name]
        except KeyError:
            raise KeyError(f"no simulated device {name!r}; have {sorted(self._devices)}") from None

    def devices(self) -> dict[str, SimDevice]:
        return dict(self._devices)

    def add_output(self, record: OutputRecord) -> OutputRecord:
        self._outputs[record.name] = record
        record.listeners.append(self._publish_output)
        return record

    def output(self, name: str) -> OutputRecord:
        try:
            return self._outputs[name]
        except KeyError:
            raise KeyError(f"no simulated output {name!r}; have {sorted(self._outputs)}") from None

    def outputs(self) -> dict[str, OutputRecord]:
        return dict(self._outputs)

    def add_part(self, part: object) -> object:
        """Let another simulator join: its `close()` (if any) runs when the simulation closes."""
        self._parts.append(part)
        return part

    def snapshot(self) -> dict[str, object]:
        return {
            "devices": {n: d.snapshot() for n, d in self._devices.items()},
            "outputs": {n: o.state for n, o in self._outputs.items()},
        }

    # -- lifecycle
    def start(self) -> None:
        """Start the clock, the CPU temperature file, the autonomous world and MQTT control."""
        self.scheduler.start()
        temps: dict[Path, CpuTempDevice] = {}
        for d in self._devices.values():
            if isinstance(d, CpuTempDevice):
                temps.setdefault(d.path, d)  # entities sharing one file: one writer
        for dev in temps.values():
            dev.write()
            self.scheduler.every(lambda: 0.5, dev.write, 0.5)
        if self.auto:
            self._start_auto()
        if self.broker:
            self.mqtt = MqttControl(self.control, self.broker, self.id)
            for record in self._outputs.values():
                self._publish_output(record)
            self.mqtt.start()

    def _publish_output(self, record: OutputRecord) -> None:
        if self.mqtt is not None:
            self.mqtt.publish_state(record.name, {"value": record.state, "level": record.level, "pin": record.pin})

    def _start_auto(self) -> None:
        rng = self.rng("auto")
        for dev in self._devices.values():
            if isinstance(dev, MotionDevice):
                self.scheduler.every(lambda: rng.uniform(10, 40), dev.trigger, rng.uniform(1, 5))
            elif isinstance(dev, ButtonDevice) and dev.kind == "button":
                click = dev.click

                def ring(click: Callable[[float], None] = click) -> None:
                    click(rng.uniform(0.08, 0.3))

                self.scheduler.every(lambda: rng.uniform(30, 90), ring, rng.uniform(2, 6))
            elif isinstance(dev, ButtonDevice) and dev.kind == "door":

                def visit(door: ButtonDevice = dev) -> None:
                    door.open()
                    self.scheduler.call_later(rng.uniform(3, 15), door.close)

                self.scheduler.every(lambda: rng.uniform(40, 120), visit, rng.uniform(3, 8))

    def close(self) -> None:
        """Stop everything this simulation started; safe to call twice."""
        global _current
        if self._closed:
            return
        self._closed = True
        for part in reversed(self._parts):
            closer = getattr(part, "close", None)
            if callable(closer):
                try:
                    closer()
                except Exception:
                    log.exception("hwsim: closing %r failed", part)
        if self.mqtt is not None:
            self.mqtt.close()
        self.scheduler.close()
        if self._owned_dir:
            shutil.rmtree(self.dir, ignore_errors=True)
        with _current_lock:
            if _current is self:
                _current = None

