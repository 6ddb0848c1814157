"""Reading the configuration: TOML in, a validated `Config` out, or every problem at once.

`load_config(path)` raises `ConfigError` whose `problems` are lines of the form
`FILE: key.path: message` (TOML syntax errors carry their line), ready to print.
"""

from __future__ import annotations

import tomllib
import types
import typing
from pathlib import Path

from pydantic import BaseModel, ValidationError

from device.config import checks
from device.config.durations import Duration, format_duration, parse_duration
from device.config.model import DEVICE_KINDS, Config, Entity
from device.errors import ConfigError

__all__ = [
    "DEVICE_KINDS",
    "Config",
    "ConfigError",
    "Duration",
    "Entity",
    "format_duration",
    "load_config",
    "parse_config",
    "parse_duration",
]


def load_config(path: Path | str, overrides: dict[str, object] | None = None) -> Config:
    """Read and validate a config file; `overrides` (dotted keys) win over the file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{p}: no such file"]) from None
    except IsADirectoryError:
        raise ConfigError([f"{p}: is a directory, not a config file"]) from None
    except PermissionError:
        raise ConfigError([f"{p}: permission denied"]) from None
    except UnicodeDecodeError as e:
        raise ConfigError([f"{p}: not UTF-8 text ({e.reason} at byte {e.start})"]) from None
    except OSError as e:
        raise ConfigError([f"{p}: cannot read: {e.strerror}"]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError([f"{p}: TOML syntax error: {_toml_message(e)}"]) from None
    return parse_config(data, source=str(p), overrides=overrides)


def parse_config(
    data: dict[str, object], source: str = "<config>", overrides: dict[str, object] | None = None
) -> Config:
    """Validate an already-parsed TOML document."""
    for dotted, value in (overrides or {}).items():
        node = data
        *parents, last = dotted.split(".")
        for key in parents:
            child = node.setdefault(key, {})
            if not isinstance(child, dict):
                break  # the file's `key` is not a table: validation reports that, not a TypeError
            node = child
        else:
            node[last] = value
    try:
        cfg = Config.model_validate(data)
    except ValidationError as e:
        # Report the rules across sections too, for every part that is valid on its own.
        lines = _problems(e, data) + [f"{key}: {msg}" for key, msg in checks.problems(checks.salvage(data))]
        raise ConfigError([f"{source}: {line}" for line in lines]) from None
    found = checks.problems(checks.parts_of(cfg))
    if found:
        raise ConfigError([f"{source}: {key}: {msg}" for key, msg in found])
    return cfg


def _toml_message(e: tomllib.TOMLDecodeError) -> str:
    # tomllib says "... (at line 3, column 7)"; put the position first, as compilers do.
    msg = str(e)
    if msg.endswith(")") and "(at line" in msg:
        head, _, pos = msg.rpartition(" (at ")
        return f"{pos[:-1]}: {head}"
    return msg


def _loc_text(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out or "(top level)"


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The model class that holds the key at `loc` (for "did you mean" hints)."""
    model: type[BaseModel] = Config
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return None
        found = _model_in(field.annotation)
        if found is None:
            return None
        model = found
    return model


def _model_in(annotation: object) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (list, typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None


def _problems(e: ValidationError, data: dict[str, object]) -> list[str]:
    import difflib  # for the "did you mean" hints: only a file with problems needs it

    lines: list[str] = []
    for err in e.errors(include_url=False):
        loc = tuple(err["loc"])
        # pydantic names the union branch or validator in the loc; drop those parts.
        loc = tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p.startswith("function-"))))
        kind = err["type"]
        where = _loc_text(loc)
        if kind == "extra_forbidden":
            key = str(loc[-1])
            model = _model_at(loc[:-1])
            hint = ""
            if model is not None:
                close = difflib.get_close_matches(key, list(model.model_fields), n=1, cutoff=0.6)
                if close:
                    hint = f"; did you mean {close[0]!r}?"
                else:
                    hint = f"; known keys: {', '.join(model.model_fields)}"
            elif not loc[:-1]:
                close = difflib.get_close_matches(key, list(Config.model_fields), n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else ""
            lines.append(f"{where}: unknown key{hint}")
        elif kind == "missing":
            lines.append(f"{where}: required key is missing")
        else:
            msg = err["msg"]
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, "):]
            got = err.get("input")
            shown = "" if isinstance(got, dict | list) or kind.startswith("value_error") else f" (got {got!r})"
            lines.append(f"{where}: {msg}{shown}")
    return lines
