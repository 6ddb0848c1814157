"""The live terminal view of pi2mqtt devices (`pi2mqtt watch`, and `pi2mqtt demo`).

- `viewmodel` — `ViewModel`: a pure fold of received messages into device state;
  `Summary`: message counts per device and entity.
- `render` — `render(model, width, height)`: a rich renderable that fits the size.
- `watch`  — `watch(url, ...)`: paho subscriber + rich Live view or plain lines.
"""

from __future__ import annotations

from device.view.render import render
from device.view.viewmodel import DeviceState, EntityState, RadioState, Seen, Summary, ViewModel
from device.view.watch import BrokerUrl, watch

__all__ = [
    "BrokerUrl",
    "DeviceState",
    "EntityState",
    "RadioState",
    "Seen",
    "Summary",
    "ViewModel",
    "render",
    "watch",
]
