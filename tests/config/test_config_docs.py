"""docs/configuration.md documents every key the config models accept."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from device.config.model import DEVICE_KINDS, Config

DOC = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()


def _keys(model: type[BaseModel]) -> set[str]:
    return set(model.model_fields)


def test_config_docs_name_every_section_and_key() -> None:
    missing = []
    for section, field in Config.model_fields.items():
        heading = f"[[{section}]]" if section in DEVICE_KINDS else f"[{section}]"
        if heading not in DOC:
            missing.append(heading)
        ann = field.annotation
        models = [a for a in getattr(ann, "__args__", (ann,)) if isinstance(a, type) and issubclass(a, BaseModel)]
        for m in models:
            for key in _keys(m):
                if f"`{key}`" not in DOC:
                    missing.append(f"{section}.{key}")
    assert not missing, f"undocumented in docs/configuration.md: {missing}"
