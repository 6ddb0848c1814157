"""hwsim control paths for the radio world: edit the stations on air while the daemon runs.

Registered by `hwsim.coproc` when the config has `[radio]`; reachable over MQTT
as `hwsim/<id>/radio/<action>` (reply on `hwsim/<id>/reply`). Payloads are JSON
objects; frequencies are MHz (number or text, e.g. 101.3 or "101.3", parsed here,
not by the daemon); PI codes are hex text ("D311") or integers. Recorded groups
are hex text, one group per line or list item: four 16-bit blocks separated by
spaces, `----` for a lost block (RDS Spy and redsea hex output; see
`hwsim.chips.rds_groups`).

| path | payload | does |
|---|---|---|
| `radio/stations` | — | list the stations (the world's `describe()`) |
| `radio/add` | `{"mhz", "ps"?, "rssi"?, "pi"?, "radiotext"? (text or list), "stereo"?, "pty"?, "tp"?, "ta"?, "af"? [MHz], "rds"?, "error_rate"?, "ecc"?, "language"?, "ptyn"?, "rtplus"? (tags "artist - title" radiotexts), "groups"? [hex text], "groups_file"? (path)}` | put a station on air (replaces one on that frequency); with `groups` or `groups_file` it broadcasts those recorded groups, looping |
| `radio/remove` | `{"mhz"}` or a bare number | take it off air |
| `radio/move` | `{"mhz", "to"}` | move a station (keeps PI, PS, text) |
| `radio/rssi` | `{"mhz", "rssi"}` | signal strength in dBµV |
| `radio/ps` | `{"mhz", "ps"}` | programme service name (≤ 8 characters) |
| `radio/radiotext` | `{"mhz", "text"}` or `{"mhz", "texts": [...], "period_s"?}` | radiotext (rotating) |
| `radio/fading` | `{"mhz", "depth", "period_s"?}` | slow sine fading, ± depth dB |
| `radio/error_rate` | `{"rate", "mhz"?}` | RDS block error probability for one station, or added to all |
| `radio/clock` | `{"epoch_s"}` or `{"epoch_s": null}` | the 4A clock time source (null: the real clock) |
| `radio/time_scale` | a number, e.g. 0.05 | speed of the chip's tune, seek and power-up (1 = datasheet) |
| `radio/chip` | — | the chip model's counters (tunes, seeks, pops, bus noise, RDS groups) |
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from hwsim.chips.radio_world import RadioWorld, Station
from hwsim.chips.rds_groups import parse_groups
from hwsim.control import ControlRegistry, parse_number

MAX_PS = 8
MHZ_MIN, MHZ_MAX = Decimal(30), Decimal(200)  # any FM band, with room; the chip decides the rest
MAX_RECORDED_GROUPS = 100_000

Doc = dict[str, Any]


def _doc(payload: str) -> Doc:
    text = payload.strip()
    try:
        doc = json.loads(text) if text else {}
    except ValueError:
        raise ValueError(f"payload must be a JSON object, got {payload[:40]!r}") from None
    if isinstance(doc, int | float | str) and not isinstance(doc, bool):
        return {"mhz": doc}
    if not isinstance(doc, dict):
        raise ValueError("payload must be a JSON object")
    return doc


def parse_mhz(value: object, key: str = "mhz") -> int:
    """MHz (a number, or text with an optional "MHz") as whole kHz; ValueError says why."""
    text = value.strip().removesuffix("MHz").removesuffix("mhz").strip() if isinstance(value, str) else value
    if isinstance(text, bool) or not isinstance(text, int | float | str):
        raise ValueError(f"{key} must be MHz as a number or text, e.g. 101.3")
    try:
        mhz = Decimal(str(text))
    except InvalidOperation:
        raise ValueError(f"{key} must be MHz as a number or text, e.g. 101.3, got {value!r}") from None
    if not mhz.is_finite() or not MHZ_MIN <= mhz <= MHZ_MAX:
        raise ValueError(f"{key} must be {MHZ_MIN}-{MHZ_MAX} MHz, got {value!r}")
    khz = mhz * 1000
    if khz != khz.to_integral_value():
        raise ValueError(f"{key} {value} MHz has more precision than 1 kHz")
    return int(khz)


def _khz(doc: Doc, key: str = "mhz") -> int:
    if key not in doc:
        raise ValueError(f"give {key!r} (MHz)")
    return parse_mhz(doc[key], key)


def _hex(value: Any, key: str, bits: int) -> int:
    """Hex text ("D311") or an integer that fits `bits` bits."""
    if isinstance(value, str):
        try:
            number = int(value, 16)
        except ValueError:
            raise ValueError(f"{key} must be hex text such as \"D311\", got {value!r}") from None
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        raise ValueError(f"{key} must be hex text or an integer")
    if not 0 <= number < 1 << bits:
        raise ValueError(f"{key} must fit {bits} bits")
    return number


def _pi(value: Any) -> int:
    return _hex(value, "pi", 16)


def _num(doc: Doc, key: str) -> float:
    v = doc.get(key)
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise ValueError(f"{key} must be a number")
    return float(v)


def recorded_groups(doc: Doc) -> list[tuple[int | None, ...]]:
    """The `groups` (list of hex text) or `groups_file` (path) of a radio/add payload."""
    if "groups" in doc and "groups_file" in doc:
        raise ValueError("give groups or groups_file, not both")
    if "groups_file" in doc:
        path = doc["groups_file"]
        if not isinstance(path, str) or not path:
            raise ValueError("groups_file must be a path")
        try:
            lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError as e:
            raise ValueError(f"groups_file {path}: {e.strerror or e}") from None
        where = f"groups_file {path}"
    else:
        lines = doc.get("groups", [])
        if not isinstance(lines, list) or not all(isinstance(g, str) for g in lines):
            raise ValueError("groups must be a list of texts such as \"6204 0130 966B 594C\"")
        where = "groups"
    try:
        groups = parse_groups(lines)
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from None
    if ("groups" in doc or "groups_file" in doc) and not groups:
        raise ValueError(f"{where}: no groups in it")
    if len(groups) > MAX_RECORDED_GROUPS:
        raise ValueError(f"{where}: more than {MAX_RECORDED_GROUPS} groups")
    return groups


def _first_pi(groups: list[tuple[int | None, ...]]) -> int | None:
    return next((g[0] for g in groups if g[0] is not None), None)


def make_station(d: Doc) -> Station:
    """The Station a radio/add payload describes."""
    khz = _khz(d)
    texts = d.get("radiotext", [])
    texts = [texts] if isinstance(texts, str) else texts
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise ValueError("radiotext must be a text or a list of texts")
    ps = str(d.get("ps", ""))
    if len(ps) > MAX_PS:
        raise ValueError(f"ps has at most {MAX_PS} characters")
    recorded = recorded_groups(d)
    af = d.get("af", [])
    if not isinstance(af, list):
        raise ValueError("af must be a list of MHz")
    pi = d.get("pi")
    return Station(
        khz, rssi=float(d.get("rssi", 55)), stereo=bool(d.get("stereo", True)),
        pi=_pi(pi) if pi is not None else (_first_pi(recorded) or 0xD000 + (khz // 100) % 0x1000),
        ps=ps, radiotexts=texts, pty=int(d.get("pty", 0)), tp=bool(d.get("tp", False)),
        ta=bool(d.get("ta", False)), af=[parse_mhz(a, "af") for a in af],
        error_rate=float(d.get("error_rate", 0.0)), rds=bool(d.get("rds", True)),
        clock=not recorded, recorded=recorded, **_extras(d),
    )


def _extras(d: Doc) -> Doc:
    """ecc (hex text or int), language (int or hex text), ptyn (<= 8), rtplus (bool)."""
    out: Doc = {}
    for key, bits in (("ecc", 8), ("language", 12)):
        if d.get(key) is not None:
            out[key] = _hex(d[key], key, bits)
    ptyn = d.get("ptyn", "")
    if not isinstance(ptyn, str) or len(ptyn) > MAX_PS:
        raise ValueError(f"ptyn must be a text of at most {MAX_PS} characters")
    out["ptyn"] = ptyn
    out["rtplus"] = bool(d.get("rtplus", False))
    return out


def _station_call(fn: Callable[[Doc], Any]) -> Callable[[str], Any]:
    def handler(payload: str) -> Any:
        try:
            return fn(_doc(payload))
        except KeyError as e:
            raise ValueError(str(e).strip("'\"")) from None

    return handler


def _station_handlers(world: RadioWorld) -> dict[str, Callable[[Doc], Any]]:
    """The handlers that edit one station (or the world's RDS), by path."""

    def add(d: Doc) -> Doc:
        st = make_station(d)
        world.add_station(st)
        return dict(st.describe())

    def remove(d: Doc) -> bool:
        khz = _khz(d)
        if not world.remove_station(khz):
            raise ValueError(f"no station at {khz / 1000} MHz")
        return True

    def ps(d: Doc) -> None:
        text = d.get("ps")
        if not isinstance(text, str) or len(text) > MAX_PS:
            raise ValueError(f"ps must be a text of at most {MAX_PS} characters")
        world.set_ps(_khz(d), text)

    def radiotext(d: Doc) -> None:
        texts = d.get("texts", [d["text"]] if isinstance(d.get("text"), str) else None)
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise ValueError("give text (a text) or texts (a list of texts)")
        period = d.get("period_s")
        world.set_radiotext(_khz(d), texts, None if period is None else float(period))

    def error_rate(d: Doc) -> None:
        rate = _num(d, "rate")
        if not 0 <= rate <= 1:
            raise ValueError("rate must be 0..1")
        world.set_error_rate(rate, _khz(d) if "mhz" in d else None)

    def clock(d: Doc) -> None:
        epoch = d.get("epoch_s")
        if epoch is not None and (isinstance(epoch, bool) or not isinstance(epoch, int | float)):
            raise ValueError("epoch_s must be a number of seconds or null")
        world.set_clock(None if epoch is None else int(epoch))

    return {
        "radio/add": add,
        "radio/remove": remove,
        "radio/move": lambda d: world.move_station(_khz(d), _khz(d, "to")),
        "radio/rssi": lambda d: world.set_rssi(_khz(d), _num(d, "rssi")),
        "radio/ps": ps,
        "radio/pi": lambda d: world.set_pi(_khz(d), _pi(d.get("pi"))),
        "radio/radiotext": radiotext,
        "radio/fading": lambda d: world.set_fading(_khz(d), _num(d, "depth"), float(d.get("period_s", 30))),
        "radio/error_rate": error_rate,
        "radio/clock": clock,
    }


def register_radio_controls(reg: ControlRegistry, world: RadioWorld, tuner: Any) -> None:
    """Register the `radio/...` control paths on `reg` (see the module docstring)."""

    def time_scale(payload: str) -> float:
        scale = parse_number(payload, "time scale")
        if not 0 < scale <= 10:
            raise ValueError("time scale must be > 0 and ≤ 10")
        tuner.time_scale = scale
        return scale

    def chip(payload: str) -> Doc:
        names = ("transactions", "bus_noise", "tunes_started", "seeks_started", "pops", "rds_groups",
                 "rds_overwritten", "violations", "time_scale")
        return {n: getattr(tuner, n) for n in names if hasattr(tuner, n)}

    reg.register("radio/stations", lambda p: world.describe())
    for path, fn in _station_handlers(world).items():
        reg.register(path, _station_call(fn))
    reg.register("radio/time_scale", time_scale)
    reg.register("radio/chip", chip)
