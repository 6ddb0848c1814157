"""Per-value rules for the config dataclasses, declared without importing pydantic.

The config schemas are stdlib dataclasses (device/config/fragments.py); pydantic
validates them when a file is checked (device/config/__init__.py), and the daemon
that runs the result never imports it. A rule pydantic cannot read from the type
alone is an annotation marker of ours: `Before(fn)` runs `fn` on the raw value
before the type is checked (a duration string becomes seconds), `After(fn)` on
the checked value (a name that must match a pattern), `Range(ge=, le=, gt=)` bounds
a number. Each builds its piece of pydantic's schema only when pydantic asks for it,
importing `pydantic_core` then. `fn` raises ValueError with the message the user reads.

`Range` sets the bounds on pydantic-core's own int or float validator, as pydantic's
`Field(ge=...)` and `annotated_types.Ge` do, so the messages are pydantic's ("Input
should be greater than or equal to 0"). It is ours rather than `annotated_types`'
because the daemon imports these schemas: annotated_types (with typing_extensions)
would cost it ~15 ms of start-up and ~0.75 MB for a few marker objects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar, cast

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler
    from pydantic_core import CoreSchema

T = TypeVar("T")


class Before:
    """Turn the raw value into what the type expects, before the type is checked."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[[object], object]) -> None:
        self.fn = fn

    def __get_pydantic_core_schema__(self, source: object, handler: GetCoreSchemaHandler) -> CoreSchema:
        from pydantic_core import core_schema

        return core_schema.no_info_before_validator_function(self.fn, handler(source))


class After(Generic[T]):
    """Check (or adjust) a value once its type is checked."""

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[[T], T]) -> None:
        self.fn = fn

    def __get_pydantic_core_schema__(self, source: object, handler: GetCoreSchemaHandler) -> CoreSchema:
        from pydantic_core import core_schema

        return core_schema.no_info_after_validator_function(self.fn, handler(source))


class Range:
    """Bounds of an int or float: `ge`/`le` inclusive, `gt` exclusive (pydantic's own checks)."""

    __slots__ = ("bounds",)

    def __init__(self, *, ge: float | None = None, le: float | None = None, gt: float | None = None) -> None:
        self.bounds = {k: v for k, v in (("ge", ge), ("le", le), ("gt", gt)) if v is not None}

    def __get_pydantic_core_schema__(self, source: object, handler: GetCoreSchemaHandler) -> CoreSchema:
        schema = handler(source)
        if schema["type"] not in ("int", "float"):
            raise TypeError(f"Range bounds an int or a float, not {source!r}")
        return cast("CoreSchema", {**schema, **self.bounds})
