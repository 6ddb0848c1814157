"""What the radio remembers across restarts, and the state document it publishes.

`Settings` is the user's choice (power, frequency, volume, mute, soft-mute,
mono, region, spacing, de-emphasis), a frozen value replaced on every change.
`RadioStore` keeps it, the presets and the station names confirmed by RDS
(`device.radio.rds.memory`) as JSON files in the state directory (`<name>.json`,
`<name>_presets.json`, `<name>_rds_memory.json`), written atomically (a crash leaves the
old or the new file, never half of one). A file that cannot be read is logged
and ignored: the config's defaults apply.

The saved band settings are used only while the config still names the same
region and spacing; after an edit of `[radio]` the config wins (otherwise a
changed `region` would silently have no effect).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Literal

from device.core.statedir import atomic_write
from device.core.values import Json, JsonDoc
from device.radio.presets import Preset

log = logging.getLogger("pi2mqtt.radio")


@dataclass(frozen=True)
class Settings:
    """The tuner settings a user chose (restored at boot and after a co-processor reboot)."""

    power: bool = True
    khz: int | None = None
    volume: int = 8
    mute: bool = False
    softmute: bool = True
    mono: bool = False
    region: str = "europe"
    spacing_khz: int | None = None
    deemphasis_us: int | None = None


@dataclass(frozen=True)
class Signal:
    """What the tuner reported last: reception and the chip's own view."""

    rssi: int | None = None
    snr: int | None = None
    stereo: bool | None = None
    station: bool | None = None


class RadioStore:
    """Settings and presets in the state directory (nothing is kept when there is none)."""

    def __init__(self, state_dir: Path | None, name: str) -> None:
        self.settings_path = state_dir / f"{name}.json" if state_dir else None
        self.presets_path = state_dir / f"{name}_presets.json" if state_dir else None
        self.memory_path = state_dir / f"{name}_rds_memory.json" if state_dir else None

    def save(self, kind: Literal["settings", "presets", "rds_memory"], doc: JsonDoc) -> None:
        """Write one of the radio's files (the documents `device.radio.facts` builds)."""
        paths = {"settings": self.settings_path, "presets": self.presets_path, "rds_memory": self.memory_path}
        self._write(paths[kind], doc)

    def load_settings(self, defaults: Settings, config_key: JsonDoc) -> Settings:
        doc = self._read(self.settings_path)
        if not isinstance(doc, dict):
            return defaults
        saved = doc.get("settings")
        if not isinstance(saved, dict):
            return defaults
        values = asdict(defaults)
        types = {f.name: f.type for f in fields(Settings)}
        for key in types:
            if key in saved:
                values[key] = saved[key]
        if doc.get("config") != config_key:
            for key in ("region", "spacing_khz", "deemphasis_us"):
                values[key] = getattr(defaults, key)
        try:
            out = Settings(**values)
        except TypeError:
            return defaults
        if not _sane(out):
            log.warning("radio: %s holds impossible values; using the defaults", self.settings_path)
            return defaults
        return out

    def save_settings(self, settings: Settings, config_key: JsonDoc) -> None:
        self._write(self.settings_path, {"settings": asdict(settings), "config": config_key})

    def load_presets(self) -> list[Preset]:
        doc = self._read(self.presets_path)
        if not isinstance(doc, dict) or not isinstance(doc.get("presets"), list):
            return []
        return [p for p in (Preset.from_json(d) for d in doc["presets"]) if p is not None]

    def save_presets(self, presets: list[JsonDoc]) -> None:
        self._write(self.presets_path, {"presets": presets})

    def load_rds_memory(self) -> Json:
        """The remembered PS and radiotexts (`RdsMemory.to_json()`), None when there are none."""
        doc = self._read(self.memory_path)
        return doc.get("texts") if isinstance(doc, dict) else None

    def save_rds_memory(self, texts: list[dict[str, str]]) -> None:
        self._write(self.memory_path, {"texts": texts})

    @staticmethod
    def _read(path: Path | None) -> Json:
        if path is None or not path.exists():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            log.warning("radio: cannot read %s (%s); using the defaults", path, e)
            return None

    @staticmethod
    def _write(path: Path | None, doc: JsonDoc) -> None:
        if path is None:
            return
        try:
            atomic_write(path, json.dumps(doc, indent=1, sort_keys=True))
        except OSError as e:
            log.error("radio: cannot save %s: %s", path, e)


def _sane(s: Settings) -> bool:
    def is_int(v: object) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)

    return (
        isinstance(s.power, bool) and isinstance(s.mute, bool) and isinstance(s.softmute, bool)
        and isinstance(s.mono, bool) and is_int(s.volume) and 0 <= s.volume <= 15
        and (s.khz is None or is_int(s.khz)) and isinstance(s.region, str)
        and (s.spacing_khz is None or is_int(s.spacing_khz))
        and (s.deemphasis_us is None or s.deemphasis_us in (50, 75))
    )
