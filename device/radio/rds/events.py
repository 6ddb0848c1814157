"""RDS decoder output: the change events and the state snapshot, all frozen values.

Events compare by value, so tests assert whole lists of them.  ``RdsChange`` is
the union of every event type ``RdsDecoder.feed`` returns.
"""

from __future__ import annotations

from dataclasses import dataclass

from device.radio.rds.clock import ClockTime
from device.radio.rds.extras import (
    EccChanged,
    LanguageChanged,
    PtynChanged,
    RtPlusChanged,
    language_name,
)

# --- events -----------------------------------------------------------------------


@dataclass(frozen=True)
class PiChanged:
    """A new programme identification code was confirmed."""

    pi: int

    @property
    def hex(self) -> str:
        """The PI as four upper-case hex digits, e.g. "D3C2"."""
        return f"{self.pi:04X}"


@dataclass(frozen=True)
class PsChanged:
    """A complete, confirmed programme-service name (always 8 characters)."""

    ps: str


@dataclass(frozen=True)
class RadioTextChanged:
    """A complete, confirmed radiotext (trailing spaces stripped)."""

    text: str


@dataclass(frozen=True)
class PtyChanged:
    """A new programme type; `name` from the RDS or the RBDS table."""

    pty: int
    name: str


@dataclass(frozen=True)
class TrafficChanged:
    """Traffic programme (TP) or traffic announcement (TA) changed; TA None until known."""

    tp: bool
    ta: bool | None


@dataclass(frozen=True)
class MusicSpeechChanged:
    """The music/speech switch changed (True = music)."""

    music: bool


@dataclass(frozen=True)
class DecoderInfo:
    """The four decoder-identification bits (DI), segment 0 first."""

    dynamic_pty: bool
    compressed: bool
    artificial_head: bool
    stereo: bool

    @property
    def bits(self) -> int:
        """DI as the 4-bit number d3..d0 (d3 = dynamic PTY, d0 = stereo)."""
        return (
            self.dynamic_pty << 3 | self.compressed << 2 | self.artificial_head << 1 | self.stereo
        )


@dataclass(frozen=True)
class DecoderInfoChanged:
    """All four DI bits are known and their value changed."""

    info: DecoderInfo


@dataclass(frozen=True)
class AfListChanged:
    """A confirmed alternative-frequency list (kHz, ascending)."""

    frequencies_khz: tuple[int, ...]


@dataclass(frozen=True)
class ClockTimeReceived:
    """A clock-time group (4A) passed the checks."""

    clock: ClockTime


@dataclass(frozen=True)
class RdsCleared:
    """Everything known was dropped; `reason` says why ("pi_changed")."""

    reason: str


RdsChange = (
    PiChanged
    | PsChanged
    | RadioTextChanged
    | PtyChanged
    | TrafficChanged
    | MusicSpeechChanged
    | DecoderInfoChanged
    | AfListChanged
    | ClockTimeReceived
    | RdsCleared
    | EccChanged
    | LanguageChanged
    | PtynChanged
    | RtPlusChanged
)


# --- snapshots ----------------------------------------------------------------------


@dataclass(frozen=True)
class RdsState:
    """Everything the decoder knows about the current station (None = not yet known)."""

    pi: int | None = None
    ps: str | None = None
    radiotext: str | None = None
    pty: int | None = None
    pty_name: str | None = None
    tp: bool | None = None
    ta: bool | None = None
    music: bool | None = None
    di: DecoderInfo | None = None
    af_khz: tuple[int, ...] = ()
    clock: ClockTime | None = None
    ecc: int | None = None
    country: str | None = None
    language: int | None = None
    ptyn: str | None = None
    rt_artist: str | None = None
    rt_title: str | None = None

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dict (PI as hex text, clock as local ISO-8601 time)."""
        return {
            "pi": None if self.pi is None else f"{self.pi:04X}",
            "ps": self.ps,
            "radiotext": self.radiotext,
            "pty": self.pty,
            "pty_name": self.pty_name,
            "tp": self.tp,
            "ta": self.ta,
            "music": self.music,
            "di": None if self.di is None else self.di.bits,
            "af_mhz": [k / 1000 for k in self.af_khz],
            "clock": None if self.clock is None else self.clock.isoformat(),
            "ecc": None if self.ecc is None else f"{self.ecc:02X}",
            "country": self.country,
            "language": None if self.language is None else language_name(self.language),
            "ptyn": self.ptyn,
            "artist": self.rt_artist,
            "title": self.rt_title,
        }


@dataclass(frozen=True)
class RdsStats:
    """Counters since the decoder was made (not cleared by reset())."""

    groups: int = 0
    groups_used: int = 0
    groups_bad_b: int = 0
    groups_other_pi: int = 0
    blocks_unusable: int = 0
    segments_rejected: int = 0
    clock_rejected: int = 0
