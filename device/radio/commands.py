"""Radio command payloads: JSON in, a checked `RadioCommand` out (pure, no I/O).

A command is a JSON object on `<base>/radio/set` with `cmd`, an optional `id`
(string or integer, echoed in the reply) and the command's own fields. This
module knows every command's fields and whether it may run while a seek or
scan is busy or while the tuner is off; the service checks the field values
(device.radio.validate) before any hardware call.

Errors (CommandError): TOO_LARGE (over 4096 bytes: the daemon refuses those
before any service sees them, with the same reply as for an entity), BAD_JSON
(not JSON, not an object, not UTF-8), BAD_COMMAND (no `cmd`, or an unknown one; details list the commands),
BAD_VALUE (a field the command does not take, or a bad `id`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Final

from device.core.values import JsonDoc
from device.errors import CommandError
from device.mqtt.payloads import MAX_COMMAND_BYTES, too_large

MAX_BYTES: Final = MAX_COMMAND_BYTES


@dataclass(frozen=True)
class Spec:
    """What a command takes and when it may run."""

    fields: tuple[str, ...] = ()
    while_busy: bool = False
    needs_power: bool = True


COMMANDS: Final[dict[str, Spec]] = {
    "power": Spec(("on",), needs_power=False),
    "tune": Spec(("mhz", "khz")),
    "step": Spec(("dir",)),
    "seek": Spec(("dir", "wrap")),
    "cancel": Spec((), while_busy=True, needs_power=False),
    "scan": Spec(()),
    "volume": Spec(("value", "delta"), while_busy=True, needs_power=False),
    "mute": Spec(("on",), while_busy=True, needs_power=False),
    "softmute": Spec(("on",), needs_power=False),
    "mono": Spec(("on",), needs_power=False),
    "band": Spec(("region",), needs_power=False),
    "spacing": Spec(("khz",), needs_power=False),
    "deemphasis": Spec(("us",), needs_power=False),
    "preset_set": Spec(("slot", "name")),
    "preset_recall": Spec(("slot", "name")),
    "preset_delete": Spec(("slot", "name"), while_busy=True, needs_power=False),
    "preset_next": Spec(()),
    "preset_prev": Spec(()),
    "status": Spec((), while_busy=True, needs_power=False),
}


@dataclass(frozen=True)
class RadioCommand:
    """One parsed command."""

    cmd: str
    id: str | int | None
    args: JsonDoc

    @property
    def spec(self) -> Spec:
        return COMMANDS[self.cmd]


def request_id(payload: bytes) -> tuple[str | int | None, str | None]:
    """The `id` and `cmd` of a payload if they can be read at all (for error replies)."""
    try:
        doc = json.loads(payload)
    except (ValueError, RecursionError):
        return None, None
    if not isinstance(doc, dict):
        return None, None
    rid = doc.get("id")
    cmd = doc.get("cmd")
    return (rid if isinstance(rid, str | int) and not isinstance(rid, bool) else None,
            cmd if isinstance(cmd, str) else None)


def parse(payload: bytes) -> RadioCommand:
    """The request in `payload`, or CommandError TOO_LARGE / BAD_JSON / BAD_COMMAND / BAD_VALUE."""
    if len(payload) > MAX_BYTES:
        raise too_large(len(payload))
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise CommandError("BAD_JSON", "command is not UTF-8 text") from None
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise CommandError("BAD_JSON", f"command is not valid JSON ({e}); send an object such as "
                           '{"cmd": "tune", "mhz": 101.1}') from None
    if not isinstance(doc, dict):
        raise CommandError("BAD_JSON", 'command must be a JSON object such as {"cmd": "tune", "mhz": 101.1}')
    rid = doc.pop("id", None)
    if rid is not None and (isinstance(rid, bool) or not isinstance(rid, str | int)):
        raise CommandError("BAD_VALUE", '"id" must be a string or an integer', field="id")
    cmd = doc.pop("cmd", None)
    if not isinstance(cmd, str) or cmd not in COMMANDS:
        what = "no \"cmd\"" if cmd is None else f"unknown command {cmd!r}"
        raise CommandError("BAD_COMMAND", f"{what}; commands: {', '.join(COMMANDS)}",
                           commands=list(COMMANDS))
    spec = COMMANDS[cmd]
    unknown = sorted(set(doc) - set(spec.fields))
    if unknown:
        takes = ", ".join(spec.fields) if spec.fields else "no fields"
        raise CommandError("BAD_VALUE", f"{cmd} does not take {', '.join(unknown)}; it takes: {takes}",
                           field=unknown[0], fields=list(spec.fields))
    return RadioCommand(cmd, rid, doc)


def direction(value: object) -> int:
    """"up" -> +1, "down" -> -1 (also true/false, +1/-1 for hand-typed commands)."""
    if isinstance(value, str) and value.strip().lower() in ("up", "+", "+1", "1"):
        return 1
    if isinstance(value, str) and value.strip().lower() in ("down", "-", "-1"):
        return -1
    if isinstance(value, int) and not isinstance(value, bool) and value in (1, -1):
        return value
    raise CommandError("BAD_VALUE", f'dir must be "up" or "down"; got {value!r}', field="dir")
