"""The live view of a fleet: one line per device, sort, filter, and a drill-down. Pure.

When more devices are on the broker than the per-device view can show
(`FLEET_MIN`), `pi2mqtt watch` shows this list instead, 80x24 and up:

    pi2mqtt fleet  50 devices  47 online  2 offline  3 with alarms   sort alarms  filter: gh
      device                  status    seen  entities   msgs  alarms
    ▶ greenhouse-07           offline    12m         4    231  offline
      greenhouse-12           online    4.1m         4   1203  silent 4.1m
      …
    ↑↓ move  Enter open  / filter  o sort  Esc back  q quit               1-21 of 50

Alarms come from what the broker shows: `offline` (the retained status or the
last will), `silent` (nothing heard for `SILENT_AFTER` while online) and
`N failing` (entities whose last reading has no value: a sensor that errs). Sort
orders: `alarms` (most first), `id`, `seen` (longest silent first), `status`
(offline first). The filter keeps devices whose id, status or alarms contain
the typed text (`offline`, `greenhouse-1`, `failing`). Enter opens the device
under the cursor in the usual per-device view (radio keys work there); Esc goes
back. `FleetState.handle(key)` takes key names from `device.view.keys.parse_keys`.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Group
from rich.text import Text

from device.view.render import render
from device.view.viewmodel import DeviceState, ViewModel, format_age

FLEET_MIN = 5  # from this many devices on, watch shows the fleet list
SILENT_AFTER = 60.0
SORTS = ("alarms", "id", "seen", "status")
KEYS_HELP = "↑↓ move  Enter open  / filter  o sort  Esc back  q quit"


def alarms(dev: DeviceState, now: float) -> list[str]:
    """What is wrong with a device, as short words."""
    out: list[str] = []
    if dev.status == "offline":
        out.append("offline")
    elif dev.last_seen and now - dev.last_seen > SILENT_AFTER:
        out.append(f"silent {format_age(now - dev.last_seen)}")
    failing = sum(1 for e in dev.entities.values() if e.value is None and e.count)
    if failing:
        out.append(f"{failing} failing")
    return out


@dataclass
class FleetState:
    """Where the cursor is, how the list is sorted and filtered, which device is open."""

    sort: str = "alarms"
    filter: str = ""
    editing: bool = False  # typing a filter
    cursor: int = 0
    top: int = 0  # first row shown
    open: str | None = None  # the device drilled into
    selected: str | None = None  # the device under the cursor

    def handle(self, key: str, rows: list[str]) -> bool:
        """Act on one key given the ids listed now; True when the key was the fleet view's."""
        if self.editing:
            return self._edit(key)
        if self.open is not None:
            if key in ("esc", "\x7f", "\b"):
                self.open = None
                return True
            return False  # the per-device view's keys (radio) pass through
        if key in ("up", "k"):
            self.cursor = max(0, self.cursor - 1)
        elif key in ("down", "j"):
            self.cursor = min(max(0, len(rows) - 1), self.cursor + 1)
        elif key in ("\r", "\n", "right") and rows:
            self.open = rows[min(self.cursor, len(rows) - 1)]
        elif key == "o":
            self.sort = SORTS[(SORTS.index(self.sort) + 1) % len(SORTS)]
        elif key == "/":
            self.editing, self.filter, self.cursor = True, "", 0
        elif key == "esc":
            self.filter, self.cursor = "", 0
        else:
            return False
        return True

    def _edit(self, key: str) -> bool:
        if key in ("\r", "\n"):
            self.editing = False
        elif key == "esc":
            self.editing, self.filter = False, ""
        elif key in ("\x7f", "\b"):
            self.filter = self.filter[:-1]
        elif len(key) == 1 and key.isprintable():
            self.filter += key
        self.cursor = 0
        return True


def fleet_rows(model: ViewModel, state: FleetState, now: float) -> list[DeviceState]:
    """The devices to list, filtered and sorted as `state` says."""
    needle = state.filter.lower()
    devs = [d for d in model.devices.values()
            if not needle or needle in f"{d.id} {d.status or ''} {' '.join(alarms(d, now))}".lower()]
    if state.sort == "id":
        devs.sort(key=lambda d: d.id)
    elif state.sort == "seen":
        devs.sort(key=lambda d: (d.last_seen, d.id))
    elif state.sort == "status":
        devs.sort(key=lambda d: (d.status != "offline", d.status != "online", d.id))
    else:
        devs.sort(key=lambda d: (-len(alarms(d, now)), d.id))
    return devs


def render_fleet(model: ViewModel, state: FleetState, width: int = 80, height: int = 24, *,
                 now: float, source: str = "", note: str = "") -> Group:
    """The fleet list (or the open device) in at most `width` x `height` cells."""
    width, height = max(40, width), max(5, height)
    if state.open is not None and state.open in model.devices:
        one = ViewModel(model.prefix)
        one.devices = {state.open: model.devices[state.open]}
        body = render(one, width, height - 1, now=now, source=source, selected=state.open, note=note)
        back = f"Esc back to the fleet ({len(model.devices)} devices)"
        return Group(body, Text(back[:width], style="dim"))
    state.open = None
    devs = fleet_rows(model, state, now)
    state.cursor = min(state.cursor, max(0, len(devs) - 1))
    state.selected = devs[state.cursor].id if devs else None
    room = height - 3
    if state.cursor < state.top:
        state.top = state.cursor
    elif state.cursor >= state.top + room:
        state.top = state.cursor - room + 1
    state.top = max(0, min(state.top, max(0, len(devs) - room)))
    lines = [_header(model, state, now, width), Text(_fit(
        f"  {'device':22} {'status':8} {'seen':>6} {'entities':>8} {'msgs':>6}  alarms", width), style="bold")]
    for i, d in enumerate(devs[state.top:state.top + room], start=state.top):
        lines.append(_row(d, i == state.cursor, now, width))
    for _ in range(room - (len(lines) - 2)):
        lines.append(Text(""))
    shown = f"{state.top + 1}-{min(len(devs), state.top + room)} of {len(devs)}" if devs else "none"
    footer = f"/{state.filter}▏ Enter done  Esc clear" if state.editing else KEYS_HELP
    lines.append(Text(_fit(f"{footer}  {source}", width - len(shown) - 1) + " " + shown, style="dim"))
    return Group(*lines)


def _header(model: ViewModel, state: FleetState, now: float, width: int) -> Text:
    devs = list(model.devices.values())
    online = sum(1 for d in devs if d.status == "online")
    offline = sum(1 for d in devs if d.status == "offline")
    alarmed = sum(1 for d in devs if alarms(d, now))
    text = (f"pi2mqtt fleet  {len(devs)} devices  {online} online  {offline} offline  "
            f"{alarmed} with alarms   sort {state.sort}")
    if state.filter:
        text += f"  filter: {state.filter}"
    return Text(_fit(text, width), style="bold")


def _row(d: DeviceState, selected: bool, now: float, width: int) -> Text:
    seen = format_age(now - d.last_seen) if d.last_seen else "-"
    bad = alarms(d, now)
    line = (f"{'▶' if selected else ' '} {d.id[:22]:22} {(d.status or '?')[:8]:8} {seen:>6} "
            f"{len(d.entities):>8} {d.messages:>6}  {', '.join(bad)}")
    style = "reverse" if selected else ("red" if "offline" in bad else ("yellow" if bad else ""))
    return Text(_fit(line, width), style=style)


def _fit(text: str, width: int) -> str:
    return text[:width].ljust(width)
