"""hwsim control paths for the radio world: edit the stations on air while the daemon runs.

Registered by `hwsim.coproc` when the config has `[radio]`; reachable over MQTT
as `hwsim/<id>/radio/<action>` (reply on `hwsim/<id>/reply`). Payloads are JSON
objects; frequencies are MHz (number or text, e.g. 101.3 or "101.3"); PI codes
are hex text ("D311") or integers.

| path | payload | does |
|---|---|---|
| `radio/stations` | — | list the stations (the world's `describe()`) |
| `radio/add` | `{"mhz", "ps"?, "rssi"?, "pi"?, "radiotext"? (text or list), "stereo"?, "pty"?, "tp"?, "ta"?, "af"? [MHz], "rds"?, "error_rate"?}` | put a station on air (replaces one on that frequency) |
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
from typing import Any

from device.errors import CommandError
from device.radio.validate import parse_mhz
from hwsim.control import ControlRegistry, parse_number

MAX_PS = 8


def _doc(payload: str) -> dict[str, Any]:
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


def _khz(doc: dict[str, Any], key: str = "mhz") -> int:
    if key not in doc:
        raise ValueError(f"give {key!r} (MHz)")
    try:
        return parse_mhz(doc[key], key)
    except CommandError as e:
        raise ValueError(e.message) from None


def _pi(value: Any) -> int:
    if isinstance(value, str):
        try:
            pi = int(value, 16)
        except ValueError:
            raise ValueError(f"pi must be hex text such as \"D311\", got {value!r}") from None
    elif isinstance(value, int) and not isinstance(value, bool):
        pi = value
    else:
        raise ValueError("pi must be hex text or an integer")
    if not 0 <= pi <= 0xFFFF:
        raise ValueError("pi must fit 16 bits")
    return pi


def _num(doc: dict[str, Any], key: str) -> float:
    v = doc.get(key)
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise ValueError(f"{key} must be a number")
    return float(v)


def register_radio_controls(reg: ControlRegistry, world: Any, tuner: Any) -> None:
    """Register the `radio/...` control paths on `reg` (see the module docstring)."""
    from hwsim.chips.radio_world import Station

    def station_call(fn: Any) -> Any:
        def handler(payload: str) -> Any:
            try:
                return fn(_doc(payload))
            except KeyError as e:
                raise ValueError(str(e).strip("'\"")) from None

        return handler

    def add(d: dict[str, Any]) -> dict[str, Any]:
        khz = _khz(d)
        texts = d.get("radiotext", [])
        texts = [texts] if isinstance(texts, str) else texts
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise ValueError("radiotext must be a text or a list of texts")
        ps = str(d.get("ps", ""))
        if len(ps) > MAX_PS:
            raise ValueError(f"ps has at most {MAX_PS} characters")
        st = Station(
            khz, rssi=float(d.get("rssi", 55)), stereo=bool(d.get("stereo", True)),
            pi=_pi(d.get("pi", 0xD000 + (khz // 100) % 0x1000)), ps=ps, radiotexts=texts,
            pty=int(d.get("pty", 0)), tp=bool(d.get("tp", False)), ta=bool(d.get("ta", False)),
            af=[parse_mhz(a) for a in d.get("af", [])], error_rate=float(d.get("error_rate", 0.0)),
            rds=bool(d.get("rds", True)),
        )
        world.add_station(st)
        return dict(st.describe())

    def remove(d: dict[str, Any]) -> bool:
        khz = _khz(d)
        if not world.remove_station(khz):
            raise ValueError(f"no station at {khz / 1000} MHz")
        return True

    def ps(d: dict[str, Any]) -> None:
        text = d.get("ps")
        if not isinstance(text, str) or len(text) > MAX_PS:
            raise ValueError(f"ps must be a text of at most {MAX_PS} characters")
        world.set_ps(_khz(d), text)

    def radiotext(d: dict[str, Any]) -> None:
        texts = d.get("texts", [d["text"]] if isinstance(d.get("text"), str) else None)
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            raise ValueError("give text (a text) or texts (a list of texts)")
        period = d.get("period_s")
        world.set_radiotext(_khz(d), texts, None if period is None else float(period))

    def error_rate(d: dict[str, Any]) -> None:
        rate = _num(d, "rate")
        if not 0 <= rate <= 1:
            raise ValueError("rate must be 0..1")
        world.set_error_rate(rate, _khz(d) if "mhz" in d else None)

    def clock(d: dict[str, Any]) -> None:
        epoch = d.get("epoch_s")
        if epoch is not None and (isinstance(epoch, bool) or not isinstance(epoch, int | float)):
            raise ValueError("epoch_s must be a number of seconds or null")
        world.set_clock(None if epoch is None else int(epoch))

    def time_scale(payload: str) -> float:
        scale = parse_number(payload, "time scale")
        if not 0 < scale <= 10:
            raise ValueError("time scale must be > 0 and ≤ 10")
        tuner.time_scale = scale
        return scale

    def chip(payload: str) -> dict[str, Any]:
        names = ("transactions", "bus_noise", "tunes_started", "seeks_started", "pops", "rds_groups",
                 "rds_overwritten", "violations", "time_scale")
        return {n: getattr(tuner, n) for n in names if hasattr(tuner, n)}

    reg.register("radio/stations", lambda p: world.describe())
    reg.register("radio/add", station_call(add))
    reg.register("radio/remove", station_call(remove))
    reg.register("radio/move", station_call(lambda d: world.move_station(_khz(d), _khz(d, "to"))))
    reg.register("radio/rssi", station_call(lambda d: world.set_rssi(_khz(d), _num(d, "rssi"))))
    reg.register("radio/ps", station_call(ps))
    reg.register("radio/pi", station_call(lambda d: world.set_pi(_khz(d), _pi(d.get("pi")))))
    reg.register("radio/radiotext", station_call(radiotext))
    reg.register("radio/fading", station_call(
        lambda d: world.set_fading(_khz(d), _num(d, "depth"), float(d.get("period_s", 30)))))
    reg.register("radio/error_rate", station_call(error_rate))
    reg.register("radio/clock", station_call(clock))
    reg.register("radio/time_scale", time_scale)
    reg.register("radio/chip", chip)
