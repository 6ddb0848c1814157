"""JSON payloads: readings out, commands in, replies out. Pure functions.

Reading: `{"value": 21.5, "ts": "2026-11-21T10:00:00.123Z", "seq": 42, "unit": "°C"}`
(`unit` only where there is one; `error` added, with `value` null, when a read failed).

Command: a bare JSON value (`true`, `0.5`, `"on"`), a bare word (`ON`, `toggle`),
or an object `{"value": ..., "id": "anything"}`; the `id` comes back in the reply.
Reply: `{"ok": true, "id": ..., "value": <new state>}` or
`{"ok": false, "id": ..., "code": "BAD_VALUE", "message": "..."}`.
"""

from __future__ import annotations

import json
from math import isfinite
from typing import TypeAlias, cast

from device.core.timefmt import iso_ms
from device.core.values import Json, JsonDoc
from device.errors import CommandError

MAX_COMMAND_BYTES = 4096
_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode


_unit_tails: dict[str | None, str] = {None: "}"}


def _unit_tail(unit: str | None) -> str:
    tail = _unit_tails.get(unit)
    if tail is None:
        tail = _unit_tails[unit] = f',"unit":{_dumps(unit)}}}'
    return tail


def reading(value: Json, ts: float, seq: int, unit: str | None = None, error: str | None = None,
            extra: JsonDoc | None = None) -> bytes:
    """The JSON payload of one reading; `extra` adds fields (never value/ts/seq)."""
    kind = type(value)
    if error is None and not extra and type(seq) is int:
        # The common case, formatted directly: the same bytes the encoder writes.
        if (kind is float and isinstance(value, float) and isfinite(value)) or kind is int:
            v = repr(value)
        elif kind is bool:
            v = "true" if value else "false"
        elif value is None:
            v = "null"
        else:
            v = ""
        if v:
            tail = _unit_tails.get(unit) or _unit_tail(unit)
            return f'{{"value":{v},"ts":"{iso_ms(ts)}","seq":{seq}{tail}'.encode()
    doc: JsonDoc = {"value": value, "ts": iso_ms(ts), "seq": seq}
    if unit is not None:
        doc["unit"] = unit
    if error is not None:
        doc["error"] = error
    if extra:
        for k, field_value in extra.items():
            doc.setdefault(k, field_value)
    return _dumps(doc).encode()


def too_large(size: int) -> CommandError:
    """The one refusal of an oversized command, for entities and services alike."""
    return CommandError("TOO_LARGE", f"command payload is {size} bytes; the limit is {MAX_COMMAND_BYTES}",
                        bytes=size, limit=MAX_COMMAND_BYTES)


RequestId: TypeAlias = "str | int | None"
"""The `id` a command may carry, echoed in its reply."""


def parse_command(payload: bytes) -> tuple[Json, RequestId]:
    """(value, request id) from a command payload, or CommandError."""
    if len(payload) > MAX_COMMAND_BYTES:
        raise too_large(len(payload))
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise CommandError("BAD_ENCODING", "command payload is not UTF-8 text") from None
    text = text.strip()
    if not text:
        raise CommandError("EMPTY", "command payload is empty")
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        if text[0] in "{[\"" or len(text) > 32 or not text.replace("_", "").isalnum():
            raise CommandError("BAD_JSON", "command payload is neither JSON nor a single word") from None
        return text, None
    if isinstance(doc, dict):
        unknown = sorted(set(doc) - {"value", "id"})
        if unknown:
            raise CommandError("UNKNOWN_FIELD", f"unknown field(s) {', '.join(map(repr, unknown))}; use \"value\" and \"id\"")
        if "value" not in doc:
            raise CommandError("MISSING_VALUE", "command object has no \"value\"")
        req_id = doc.get("id")
        if req_id is not None and not isinstance(req_id, str | int):
            raise CommandError("BAD_ID", "\"id\" must be a string or an integer")
        return doc["value"], req_id
    if isinstance(doc, list):
        raise CommandError("BAD_VALUE", "a command value cannot be a list")
    return doc, None


def reply_ok(value: Json, req_id: RequestId = None) -> bytes:
    doc: JsonDoc = {"ok": True, "value": value}
    if req_id is not None:
        doc["id"] = req_id
    return _dumps(doc).encode()


def reply_error(err: CommandError, req_id: RequestId = None) -> bytes:
    doc: JsonDoc = {"ok": False, "code": err.code, "message": err.message}
    if err.details:
        doc["details"] = {k: cast(Json, v) for k, v in err.details.items() if _jsonable(v)}
    if req_id is not None:
        doc["id"] = req_id
    return _dumps(doc).encode()


def _jsonable(v: object) -> bool:
    try:
        _dumps(v)
    except (TypeError, ValueError):
        return False
    return True


def dumps(doc: Json) -> bytes:
    """Compact JSON bytes (for diagnostics and other documents)."""
    return _dumps(doc).encode()
