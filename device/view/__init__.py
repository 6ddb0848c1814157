"""The live terminal view of pi2mqtt devices (`pi2mqtt watch`, and `pi2mqtt demo`).

- `viewmodel` — `ViewModel`: a pure fold of received messages into device state;
  `Summary`: message counts per device and entity.
- `render` — `render(model, width, height)`: a rich renderable that fits the size.
- `feed`   — `Feed(urls, prefix)`: the paho subscription, on the first broker of a list
  that answers, moving round the list when the connection is lost.
- `watch`  — `watch(urls, ...)`: a `Feed` shown as a rich Live view or plain lines.
"""

from __future__ import annotations

from device.view.feed import Feed, parse_urls
from device.view.render import render
from device.view.viewmodel import DeviceState, EntityState, RadioState, Seen, Summary, ViewModel
from device.view.watch import watch

__all__ = [
    "DeviceState",
    "EntityState",
    "Feed",
    "RadioState",
    "Seen",
    "Summary",
    "ViewModel",
    "parse_urls",
    "render",
    "watch",
]
