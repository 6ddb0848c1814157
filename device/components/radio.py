"""The `[radio]` kind: an FM tuner behind the co-processor, and its panel of buttons and knob.

Its schema is large and belongs with the radio: it stays in device/config/radio_schema.py
(re-exported as `device.radio.config.RadioConfig`); this module declares the kind
with it. The builder adds `device.radio.service.RadioService`, imported only
when a config has `[radio]` (and skipped, with an error in the log, in a build
without the radio package).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from device.components.kind import kind
from device.config.radio_schema import RadioConfig

log = logging.getLogger("pi2mqtt")
BUTTONS = ("seek_up", "seek_down", "preset_next", "preset_prev", "mute")

if TYPE_CHECKING:
    from device.components.seams import Assembly, SimBench


def build(cfg: RadioConfig, parts: Assembly) -> None:
    try:
        from device.radio.service import RadioService
    except ImportError:
        log.error("the radio service is not available in this build; [radio] ignored")
        return
    parts.add_service(RadioService(cfg))


def place(cfg: RadioConfig, bench: SimBench) -> None:
    pins = cfg.control_pins()
    buttons = {b: pins[f"{b}_pin"] for b in BUTTONS if f"{b}_pin" in pins}
    a, b = cfg.encoder_a_pin, cfg.encoder_b_pin
    bench.radio(cfg.name, chip=cfg.chip, buttons=buttons, pull_up=cfg.buttons_pull_up,
                encoder=(a, b) if a is not None and b is not None else None)


KIND = kind("radio", RadioConfig, build=build, place=place, many=False)
