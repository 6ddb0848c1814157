"""Reading the configuration: TOML in, a validated `Config` out, or every problem at once.

`load_config(path)` raises `ConfigError` whose `problems` are lines of the form
`FILE: key.path: message` (TOML syntax errors carry their line), ready to print.

pydantic validates the schemas (stdlib dataclasses, device/config/fragments.py) and is
imported only inside the functions that validate: importing this package, the schemas
or a validated `Config` does not load it. `pi2mqtt run` validates in a short-lived
child process (device/config/child.py) and never loads pydantic itself.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from device.config import checks
from device.config.durations import Duration, format_duration, parse_duration
from device.config.fragments import Section
from device.config.model import DEVICE_KINDS, Config, Entity
from device.errors import ConfigError

if TYPE_CHECKING:
    import tomllib

    from pydantic import TypeAdapter, ValidationError

S = TypeVar("S", bound=Section)

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
    import tomllib  # not for the daemon, which takes its config validated (device/config/child.py)

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
    from pydantic import ValidationError

    try:
        cfg = adapter(Config).validate_python(data)
    except ValidationError as e:
        # Report the rules across sections too, for every part that is valid on its own.
        lines = _problems(e, data) + [f"{key}: {msg}" for key, msg in checks.problems(checks.salvage(data))]
        raise ConfigError([f"{source}: {line}" for line in lines]) from None
    found = checks.problems(checks.parts_of(cfg))
    if found:
        raise ConfigError([f"{source}: {key}: {msg}" for key, msg in found])
    return cfg


_adapters: dict[type[Section], object] = {}


def adapter(schema: type[S]) -> TypeAdapter[S]:
    """pydantic's validator for one schema, built once per process (imports pydantic)."""
    from pydantic import TypeAdapter

    found = _adapters.get(schema)
    if found is None:
        found = _adapters[schema] = TypeAdapter(schema)
    return typing.cast("TypeAdapter[S]", found)


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


def _keys(schema: type[Section]) -> list[str]:
    """The keys a section takes, in declaration order."""
    return [f.name for f in dataclasses.fields(schema)]


def _model_at(loc: tuple[int | str, ...]) -> type[Section] | None:
    """The section class that holds the key at `loc` (for "did you mean" hints)."""
    model: type[Section] = Config
    hints = typing.get_type_hints(model, include_extras=False)
    for part in loc:
        if isinstance(part, int):
            continue
        if part not in _keys(model):
            return None
        found = _model_in(hints[part])
        if found is None:
            return None
        model = found
        hints = typing.get_type_hints(model, include_extras=False)
    return model


def _model_in(annotation: object) -> type[Section] | None:
    if isinstance(annotation, type) and issubclass(annotation, Section):
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
        if kind in ("extra_forbidden", "unexpected_keyword_argument"):
            key = str(loc[-1])
            model = _model_at(loc[:-1])
            hint = ""
            if model is not None:
                close = difflib.get_close_matches(key, _keys(model), n=1, cutoff=0.6)
                if close:
                    hint = f"; did you mean {close[0]!r}?"
                else:
                    hint = f"; known keys: {', '.join(_keys(model))}"
            elif not loc[:-1]:
                close = difflib.get_close_matches(key, _keys(Config), n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else ""
            lines.append(f"{where}: unknown key{hint}")
        elif kind in ("missing", "missing_argument"):
            lines.append(f"{where}: required key is missing")
        else:
            msg = err["msg"]
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, "):]
            elif kind == "dataclass_type":  # a section given as something else than a table
                msg = msg.replace("should be a dictionary or an instance of", "should be a valid dictionary or instance of")
            got = err.get("input")
            shown = "" if isinstance(got, dict | list) or kind.startswith("value_error") else f" (got {got!r})"
            lines.append(f"{where}: {msg}{shown}")
    return lines
