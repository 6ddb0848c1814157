"""docs/configuration.md documents every key the config models accept."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

from device.config.fragments import Section
from device.config.model import DEVICE_KINDS, Config

DOC = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()


def _keys(model: type[Section]) -> set[str]:
    return {f.name for f in dataclasses.fields(model)}


def _keys_in_order(model: type[Section]) -> list[str]:
    return [f.name for f in dataclasses.fields(model)]


def test_config_docs_name_every_section_and_key() -> None:
    missing = []
    hints = typing.get_type_hints(Config)
    for section in _keys_in_order(Config):
        ann = hints[section]
        heading = f"[[{section}]]" if section in DEVICE_KINDS else f"[{section}]"
        if heading not in DOC:
            missing.append(heading)
        models = [a for a in getattr(ann, "__args__", (ann,)) if isinstance(a, type) and issubclass(a, Section)]
        for m in models:
            for key in _keys(m):
                if f"`{key}`" not in DOC:
                    missing.append(f"{section}.{key}")
    assert not missing, f"undocumented in docs/configuration.md: {missing}"
