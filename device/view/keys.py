"""Keyboard controls of the live view: raw terminal input → key names → radio commands.

Pure: `parse_keys(text)` splits what the terminal sent (plain characters and the
arrow/Tab escape sequences of xterm-like terminals, normal and application cursor
mode) into key names; `radio_command(key, radio)` maps one key to the JSON command
for `<prefix>/<id>/<radio>/set` (docs/topics.md, the radio contract) or None.

| key            | command                                   |
|----------------|-------------------------------------------|
| ← / →          | step down / up one channel                |
| ↑ / ↓, s / S   | seek up / down                            |
| 1 … 9          | recall preset slot 1 … 9                  |
| P, then 1 … 9  | store the station tuned in slot 1 … 9     |
| P, then 0      | store it in its own or the first free slot|
| + / -          | volume +1 / -1                            |
| m              | mute on/off (the opposite of the state)   |
| p              | power on/off (the opposite of the state)  |
| x              | cancel a running seek or scan             |

Tab (choose the device) and q (quit) are handled by the view itself; so is P, which
arms the next digit as a store (`radio_command(key, radio, storing=True)`); Esc or any
other key disarms it.
"""

from __future__ import annotations

from device.core.values import JsonDoc
from device.view.viewmodel import RadioState

_SEQUENCES = {
    "\x1b[A": "up", "\x1b[B": "down", "\x1b[C": "right", "\x1b[D": "left",
    "\x1bOA": "up", "\x1bOB": "down", "\x1bOC": "right", "\x1bOD": "left",
    "\x1b[Z": "backtab",
}
KEY_HELP = "←→ step ↑↓ seek 1-9 preset P1-9 store +- vol m mute p power Tab device q quit"
STORE_HELP = "store in slot: press 1-9 (0: its own or the first free slot), Esc cancels"


def parse_keys(text: str) -> list[str]:
    """Key names in `text`: "up", "down", "left", "right", "tab", "backtab", "esc", or the character."""
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\x1b":
            seq = text[i:i + 3]
            if seq in _SEQUENCES:
                out.append(_SEQUENCES[seq])
                i += 3
                continue
            out.append("esc")
        elif ch == "\t":
            out.append("tab")
        else:
            out.append(ch)
        i += 1
    return out


def radio_command(key: str, radio: RadioState, storing: bool = False) -> JsonDoc | None:
    """The radio command for `key`, or None when the key does nothing to a radio.

    With `storing` (the key after P), a digit stores the station tuned: 1-9 in that slot,
    0 where `preset_set` puts it by default; any other key stores nothing.
    """
    s = radio.state
    if storing:
        if len(key) == 1 and "1" <= key <= "9":
            return {"cmd": "preset_set", "slot": int(key)}
        return {"cmd": "preset_set"} if key == "0" else None
    if key in ("right", "left"):
        return {"cmd": "step", "dir": "up" if key == "right" else "down"}
    if key in ("up", "s"):
        return {"cmd": "seek", "dir": "up"}
    if key in ("down", "S"):
        return {"cmd": "seek", "dir": "down"}
    if len(key) == 1 and "1" <= key <= "9":
        return {"cmd": "preset_recall", "slot": int(key)}
    if key in ("+", "="):
        return {"cmd": "volume", "delta": 1}
    if key in ("-", "_"):
        return {"cmd": "volume", "delta": -1}
    if key == "m":
        return {"cmd": "mute", "on": not bool(s.get("mute"))}
    if key == "p":
        return {"cmd": "power", "on": not bool(s.get("power", True))}
    if key == "x":
        return {"cmd": "cancel"}
    return None


def describe_command(cmd: JsonDoc) -> str:
    """A few words for the status line: `seek up`, `preset 2`, `volume +1`."""
    name = str(cmd.get("cmd", "?"))
    if "dir" in cmd:
        return f"{name} {cmd['dir']}"
    if name == "preset_set":
        return f"store in slot {cmd['slot']}" if "slot" in cmd else "store"
    if "slot" in cmd:
        return f"preset {cmd['slot']}"
    if "delta" in cmd:
        return f"volume {cmd['delta']:+d}"
    if "on" in cmd:
        return f"{name} {'on' if cmd['on'] else 'off'}"
    return name


def status_note(sent: str, sent_id: str, reply: JsonDoc | None) -> str:
    """What the keys line says about the last command: waiting (…), ✓, or ✗ with the code."""
    if reply is None or reply.get("id") != sent_id:
        return f"{sent} …"
    if reply.get("ok") is True:
        return f"{sent} ✓"
    code = reply.get("code", "?")
    message = reply.get("message")
    return f"{sent} ✗ {code}" + (f": {message}" if message else "")
