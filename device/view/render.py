"""Turns a `ViewModel` into a rich renderable that fits a given terminal size.

Every line is built cell by cell (`rich.cells.set_cell_size`), so nothing wraps
and the output never exceeds `width` columns or `height` lines: 80x24 over SSH
is the design size. Layout, top to bottom, per device:

    ▶ sensor-pi  online   412 msgs  18 entities  diag 3
      FM  98.50 MHz  RADIO 1  RSSI 42 dBµV ▃▄▆  stereo  vol 8
      RDS RADIO 1   PI C201  PTY Pop  RT Now playing: …
      presets 1 RADIO 1 98.5  2 JAZZ 101.1  …
      keys  > seek up ✓  ←→ step ↑↓ seek 1-9 preset +- vol m mute …
      entity            value       age  history
      cpu_temp         48.2 °C     0.4s  ▃▄▄▅▆▆▇█

and a one-line footer with message counts. The keys line appears under the radio
of the selected device only (the one the keys act on; ▶ marks it). When the entities do not fit in one
column they are laid out in two; when they still do not fit, each device keeps
a share of the rows and the last row says how many were left out.
"""

from __future__ import annotations

import math

from rich.cells import cell_len, set_cell_size
from rich.console import Group
from rich.text import Text

from device.view.keys import KEY_HELP
from device.view.viewmodel import (
    DeviceState,
    EntityState,
    RadioState,
    Seen,
    ViewModel,
    clean,
    format_age,
    format_value,
    sparkline,
)

TWO_COLUMN_MIN_WIDTH = 76
STALE_AFTER = 60.0


def render(model: ViewModel, width: int = 80, height: int = 24, *,
           now: float | None = None, source: str = "", selected: str | None = None,
           note: str = "") -> Group:
    """Everything the model knows, in at most `width` x `height` cells.

    `selected` is the device the keys act on; `note` says what the last key sent.
    """
    width = max(20, width)
    height = max(2, height)
    if now is None:
        now = max((d.last_seen for d in model.devices.values()), default=0.0)
    budget = height - 1
    devices = list(model.devices.values())
    fixed = [_fixed_lines(d, d.id == selected) for d in devices]
    while devices and sum(fixed) + len(devices) > budget:
        devices.pop()
        fixed.pop()
    hidden = len(model.devices) - len(devices)
    rows_avail = budget - sum(fixed)
    counts = [len(d.entities) for d in devices]
    cols = 2 if sum(counts) > rows_avail and width >= TWO_COLUMN_MIN_WIDTH else 1
    rows = _share_rows([math.ceil(n / cols) for n in counts], rows_avail)

    lines: list[Text] = []
    if not model.devices:
        lines.append(_line([(f"waiting for pi2mqtt devices under {model.prefix}/# …", "dim")], width))
    for dev, nrows in zip(devices, rows, strict=True):
        lines.append(_device_header(dev, width, dev.id == selected and len(model.devices) > 1))
        if dev.radio is not None:
            lines.extend(_radio_lines(dev.radio, width))
            if dev.id == selected:
                lines.append(_keys_line(dev.radio, note, width))
        if dev.entities:
            lines.extend(_entity_block(dev, nrows, cols, width, now))
    lines = lines[:budget]
    lines.append(_footer(model, width, hidden, source))
    return Group(*lines)


# ---- layout helpers -----------------------------------------------------------

def _fixed_lines(dev: DeviceState, selected: bool = False) -> int:
    radio = 0
    if dev.radio is not None:
        radio = 2 + (1 if dev.radio.presets else 0) + (1 if selected else 0)
    return 1 + radio + (1 if dev.entities else 0)


def _share_rows(needs: list[int], avail: int) -> list[int]:
    """Rows per device: all it needs if everything fits, else a proportional share (>= 1)."""
    total = sum(needs)
    if total <= avail:
        return needs
    shares = [min(n, max(1, avail * n // total)) if n else 0 for n in needs]
    spare = avail - sum(shares)
    i = 0
    while spare > 0 and any(s < n for s, n in zip(shares, needs, strict=True)):
        if shares[i % len(shares)] < needs[i % len(needs)]:
            shares[i % len(shares)] += 1
            spare -= 1
        i += 1
    while sum(shares) > avail and any(s > 1 for s in shares):
        j = shares.index(max(shares))
        shares[j] -= 1
    return shares


def _cell(text: str, width: int, right: bool = False) -> str:
    """`text` (control characters neutralised) padded or cut (with …) to exactly `width` cells."""
    if width <= 0:
        return ""
    text = clean(text)
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…"
    pad = width - cell_len(text)
    return " " * pad + text if right else text + " " * pad


def _line(parts: list[tuple[str, str]], width: int) -> Text:
    """A Text of (text, style) parts cut to `width` cells."""
    out = Text(no_wrap=True, overflow="ellipsis")
    used = 0
    for raw, style in parts:
        text = clean(raw)
        room = width - used
        if room <= 0:
            break
        piece = text if cell_len(text) <= room else _cell(text, room)
        out.append(piece, style=style)
        used += cell_len(piece)
    return out


# ---- the pieces ---------------------------------------------------------------

def _device_header(dev: DeviceState, width: int, selected: bool = False) -> Text:
    status = dev.status or "unknown"
    style = {"online": "bold green", "offline": "bold red"}.get(status, "yellow")
    mark = "▶ " if selected else "● "
    extras = f"  {dev.messages} msgs  {len(dev.entities)} entities"
    if dev.diagnostics:
        extras += f"  diag {dev.diagnostics}"
    if dev.replies:
        extras += f"  replies {dev.replies}"
    return _line([(mark, style), (dev.id, "bold"), ("  " + status, style), (extras, "dim")], width)


def _radio_lines(radio: RadioState, width: int) -> list[Text]:
    s, r = radio.state, radio.rds
    freq = radio.frequency
    if s.get("power") is False:
        tuned = "off"
    elif s.get("link") == "down":
        tuned = "link down"
    else:
        tuned = f"{freq:.2f} MHz" if freq is not None else "—"
    parts: list[tuple[str, str]] = [("  FM ", "bold magenta"), (tuned, "bold")]
    preset = s.get("preset")
    if preset:
        parts.append((f"  {format_value(preset)}", "bold cyan"))
    rssi = s.get("rssi")
    if rssi is not None:
        parts.append((f"  RSSI {format_value(rssi)} dBµV ", ""))
        parts.append((sparkline(radio.rssi_history, 8), "magenta"))
    if s.get("stereo") is not None:
        parts.append(("  stereo" if s.get("stereo") else "  mono", ""))
    if s.get("volume") is not None:
        parts.append((f"  vol {format_value(s['volume'])}", ""))
    if s.get("mute"):
        parts.append(("  muted", "yellow"))
    busy = s.get("busy")
    if busy:
        parts.append((f"  [{format_value(busy)}]", "cyan"))
    if s.get("snr") is not None:
        parts.append((f"  SNR {format_value(s['snr'])}", ""))
    if s.get("band"):
        parts.append((f"  {format_value(s['band'])}", "dim"))
    rds: list[tuple[str, str]] = [("  RDS ", "bold magenta")]
    ps = r.get("ps")
    rds.append((f"{ps if ps else '—':<8}", "bold"))
    pi = r.get("pi")
    if pi is not None:
        rds.append((f"  PI {pi:04X}" if isinstance(pi, int) and not isinstance(pi, bool) else f"  PI {pi}", ""))
    pty = r.get("pty_name") or r.get("pty")
    if pty not in (None, "", 0):
        rds.append((f"  PTY {format_value(pty)}", ""))
    flags = " ".join(name for name in ("tp", "ta") if r.get(name) is True)
    if flags:
        rds.append((f"  {flags.upper()}", "yellow"))
    rt = r.get("radiotext")
    if rt:
        rds.append(("  RT ", "dim"))
        rds.append((" ".join(str(rt).split()), "italic"))
    out = [_line(parts, width), _line(rds, width)]
    if radio.presets:
        pre: list[tuple[str, str]] = [("  presets", "bold magenta")]
        for p in radio.presets:
            mhz = p.get("mhz")
            text = f"  {format_value(p.get('slot'))} {format_value(p.get('name'))}"
            if isinstance(mhz, int | float) and not isinstance(mhz, bool):
                text += f" {mhz:g}"
            current = freq is not None and mhz == freq
            pre.append((text, "bold cyan" if current else ""))
        out.append(_line(pre, width))
    return out


def _keys_line(radio: RadioState, note: str, width: int) -> Text:
    parts: list[tuple[str, str]] = [("  keys ", "bold magenta")]
    if note:
        parts.append((f" > {note}  ", "red" if "✗" in note else "bold"))
    parts.append((KEY_HELP, "dim"))
    return _line(parts, width)


def _entity_block(dev: DeviceState, nrows: int, cols: int, width: int, now: float) -> list[Text]:
    ents = list(dev.entities.values())
    capacity = nrows * cols
    shown = ents if len(ents) <= capacity else ents[:max(0, capacity - 1)]
    more = len(ents) - len(shown)
    col_w = width if cols == 1 else (width - 1) // 2
    longest = max(8, *(cell_len(e.name) for e in ents))
    value_w = 11 if cols == 2 else 16
    age_w = 5 if cols == 2 else 6
    # Two columns: names get what is left after a 4-cell sparkline (14 cells at 80 columns).
    name_w = min(16, longest, max(8, col_w - value_w - age_w - 9)) if cols == 2 else min(24, longest)
    spark_w = max(0, min(32, col_w - name_w - value_w - age_w - 5))
    widths = (name_w, value_w, age_w, spark_w)

    cells: list[Text] = [_entity_row(e, widths, now) for e in shown]
    if more:
        cells.append(Text(_cell(f"  … +{more} more", col_w), style="dim"))
    header = Text(_cell(
        "  " + _cell("entity", name_w) + " " + _cell("value", value_w, right=True) + " "
        + _cell("age", age_w, right=True) + " " + "history"[:spark_w], col_w), style="dim")
    if cols == 1:
        return [header, *cells]
    out = [Text.assemble(header, " ", header.copy())]
    half = nrows
    for i in range(half):
        left = cells[i] if i < len(cells) else Text("")
        right = cells[i + half] if i + half < len(cells) else Text("")
        left_pad = Text(" " * max(0, col_w - left.cell_len))
        out.append(Text.assemble(left, left_pad, " ", right))
    return out


def _entity_row(e: EntityState, widths: tuple[int, int, int, int], now: float) -> Text:
    name_w, value_w, age_w, spark_w = widths
    age = now - e.updated
    value = format_value(e.value)
    shown = f"{value} {e.unit}" if e.unit else value
    vstyle = "dim" if e.value is None else ("yellow" if age > STALE_AFTER else "bold")
    row = Text(no_wrap=True)
    row.append("  ")
    row.append(_cell(e.name, name_w), style="cyan")
    row.append(" ")
    row.append(_cell(shown, value_w, right=True), style=vstyle)
    row.append(" ")
    row.append(_cell(format_age(age), age_w, right=True), style="dim")
    row.append(" ")
    row.append(_cell(sparkline(e.history, spark_w), spark_w), style="green")
    return row


def _footer(model: ViewModel, width: int, hidden: int, source: str) -> Text:
    diag = sum(d.diagnostics for d in model.devices.values())
    parts: list[tuple[str, str]] = []
    if source:
        parts.append((source + "  ", "bold"))
    parts.append((f"{model.total} msgs  {len(model.devices)} devices", ""))
    if hidden:
        parts.append((f" (+{hidden} not shown)", "yellow"))
    if diag:
        parts.append((f"  diag {diag}", "dim"))
    if model.odd:
        parts.append((f"  odd {model.odd}", "yellow"))
    parts.append(("  q quits", "dim"))
    return _line(parts, width)


def plain_line(clock: str, seen: Seen) -> str:
    """One plain-mode line: `HH:MM:SS device entity value unit` (no trailing space)."""
    text = f"{clock} {seen.device} {seen.entity} {seen.value}"
    return clean(f"{text} {seen.unit}" if seen.unit else text)
