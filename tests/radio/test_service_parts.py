"""The radio service's pure parts: command parsing, the preset book, the settings store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from device.errors import CommandError
from device.radio import commands
from device.radio.presets import Preset, PresetBook
from device.radio.state import RadioStore, Settings


def test_commands_parse_keeps_id_and_fields() -> None:
    req = commands.parse(b'{"cmd": "tune", "mhz": "101.1", "id": "r1"}')
    assert req == commands.RadioCommand("tune", "r1", {"mhz": "101.1"})
    assert req.spec.needs_power and not req.spec.while_busy
    assert commands.COMMANDS["volume"].while_busy and commands.COMMANDS["cancel"].while_busy


@pytest.mark.parametrize(("payload", "code"), [
    (b"not json", "BAD_JSON"), (b"[]", "BAD_JSON"), (b"\xfe", "BAD_JSON"), (b"{" * 5000, "TOO_LARGE"),
    (b'{"mhz": 1}', "BAD_COMMAND"), (b'{"cmd": "explode"}', "BAD_COMMAND"), (b'{"cmd": 5}', "BAD_COMMAND"),
    (b'{"cmd": "scan", "fast": true}', "BAD_VALUE"), (b'{"cmd": "scan", "id": [1]}', "BAD_VALUE"),
])
def test_commands_parse_rejects_with_precise_codes(payload: bytes, code: str) -> None:
    with pytest.raises(CommandError) as e:
        commands.parse(payload)
    assert e.value.code == code


def test_commands_request_id_survives_a_bad_command() -> None:
    assert commands.request_id(b'{"cmd": "explode", "id": 4}') == (4, "explode")
    assert commands.request_id(b"garbage") == (None, None)


def test_commands_direction_accepts_words_and_signs() -> None:
    assert [commands.direction(v) for v in ("up", " DOWN ", 1, -1, "+")] == [1, -1, 1, -1, 1]
    with pytest.raises(CommandError):
        commands.direction(True)


def test_presets_store_find_step_and_delete() -> None:
    book = PresetBook(max_slots=5)
    book = book.store(Preset(3, "KLASSIK", 91700, 0xD412)).store(Preset(1, "ALPHA FM", 88400, 0xD311))
    assert [p.slot for p in book.presets] == [1, 3]
    assert book.find({"name": " alpha   fm "}).slot == 1
    assert book.find({"slot": "3"}).khz == 91700
    assert book.free_slot() == 2
    assert book.after(book.get(3), +1).slot == 1 and book.after(book.get(1), -1).slot == 3
    assert book.after(None, +1).slot == 1 and book.after(None, -1).slot == 3
    assert book.at(91700, 0xD412) is not None and book.at(91700, 0xBEEF) is None
    with pytest.raises(CommandError) as e:
        book.find({"slot": 2})
    assert e.value.code == "NOT_FOUND" and e.value.details["slots"] == [1, 3]
    with pytest.raises(CommandError) as e:
        book.find({"slot": 9})
    assert e.value.code == "RANGE"
    assert [p.slot for p in book.delete(1).presets] == [3]
    assert book.relocate(3, 93300).get(3) == Preset(3, "KLASSIK", 93300, 0xD412)


def test_presets_learn_pi_fills_only_missing_codes() -> None:
    book = PresetBook.of([Preset(1, "A", 88400), Preset(2, "B", 91700, 0xD412)])
    learned = book.learn_pi(88400, 0xD311)
    assert learned.get(1) == Preset(1, "A", 88400, 0xD311) and learned.get(2) == book.get(2)
    assert book.learn_pi(91700, 0x1234) == book


def test_presets_empty_book_step_is_not_found() -> None:
    with pytest.raises(CommandError) as e:
        PresetBook().after(None, 1)
    assert e.value.code == "NOT_FOUND"


def test_store_round_trip_and_config_change_resets_the_band(tmp_path: Path) -> None:
    store = RadioStore(tmp_path, "radio")
    key = {"region": "europe", "spacing_khz": None}
    saved = Settings(khz=99900, volume=3, region="europe", mute=True)
    store.save_settings(saved, key)
    assert store.load_settings(Settings(), key) == saved
    moved = store.load_settings(Settings(region="us"), {"region": "us", "spacing_khz": None})
    assert moved.region == "us" and moved.volume == 3 and moved.khz == 99900
    store.save_presets([Preset(1, "A", 88400, 0xD311).to_json()])
    assert store.load_presets() == [Preset(1, "A", 88400, 0xD311)]


def test_store_ignores_damaged_files(tmp_path: Path) -> None:
    (tmp_path / "radio.json").write_text("{not json")
    (tmp_path / "radio_presets.json").write_text(json.dumps({"presets": [{"slot": "x"}, 5]}))
    store = RadioStore(tmp_path, "radio")
    assert store.load_settings(Settings(volume=9), {}) == Settings(volume=9)
    assert store.load_presets() == []
    (tmp_path / "radio.json").write_text(json.dumps({"settings": {"volume": 99}, "config": {}}))
    assert store.load_settings(Settings(volume=9), {}).volume == 9


def test_service_answers_before_start_without_a_link() -> None:
    import device.config  # noqa: F401  (loads device.config.model before device.radio.config)
    from device.radio.config import RadioConfig
    from device.radio.service import RadioService

    svc = RadioService(RadioConfig(chip="rda5807m"))
    reply = json.loads(svc.command(b'{"cmd": "tune", "mhz": 91.7, "id": 3}'))
    assert reply["ok"] is False and reply["code"] == "UNAVAILABLE" and reply["id"] == 3
    status = json.loads(svc.command(b'{"cmd": "status"}'))
    assert status["ok"] is True and status["state"]["link"] == "down"
    assert svc.band_limits() == (87.5, 108.0, 0.1) and svc.presets() == []
    svc.close()
