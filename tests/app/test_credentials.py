"""device.app.credentials: secrets from files and systemd credentials, never in an error message."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from device.app.credentials import (
    credential_path,
    read_credential,
    read_secret,
    resolve_secret,
)
from device.errors import ConfigError

SECRET = "s3cr3t-Päss"


def write(path: Path, data: bytes, mode: int = 0o600) -> Path:
    path.write_bytes(data)
    path.chmod(mode)
    return path


def test_credentials_file_strips_one_trailing_newline(tmp_path: Path) -> None:
    assert read_secret(write(tmp_path / "pw", SECRET.encode() + b"\n")) == SECRET
    assert read_secret(write(tmp_path / "pw", SECRET.encode() + b"\r\n")) == SECRET
    assert read_secret(write(tmp_path / "pw", SECRET.encode())) == SECRET
    assert read_secret(write(tmp_path / "pw", b" spaced \n")) == " spaced "


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "empty"),
        (b"\n", "empty"),
        (SECRET.encode() + b"\nsecond line\n", "more than one line"),
        (SECRET.encode() + b"\xff\n", "not UTF-8"),
        (SECRET.encode() * 10_000, "too big"),
    ],
)
def test_credentials_bad_file_names_file_and_problem_not_secret(tmp_path: Path, data: bytes, problem: str) -> None:
    path = write(tmp_path / "pw", data)
    with pytest.raises(ConfigError) as err:
        read_secret(path, key="mqtt.password_file")
    msg = str(err.value)
    assert str(path) in msg and problem in msg and "mqtt.password_file" in msg
    assert SECRET not in msg and SECRET not in repr(err.value)
    assert "second line" not in msg


def test_credentials_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist") as err:
        read_secret(tmp_path / "nope")
    assert str(tmp_path / "nope") in str(err.value)


def test_credentials_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory"):
        read_secret(tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_credentials_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="permission denied"):
        read_secret(write(tmp_path / "pw", b"x", mode=0o000))


def test_credentials_world_readable_file_warns_without_secret(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="pi2mqtt.credentials"):
        assert read_secret(write(tmp_path / "pw", SECRET.encode(), mode=0o644)) == SECRET
    assert "chmod 600" in caplog.text and SECRET not in caplog.text


def test_credentials_systemd_credential(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "mqtt-password", SECRET.encode() + b"\n", mode=0o400)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    assert read_credential("mqtt-password") == SECRET
    assert credential_path("mqtt-password") == tmp_path / "mqtt-password"
    assert resolve_secret(credential="mqtt-password") == SECRET


def test_credentials_without_credentials_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    with pytest.raises(ConfigError, match=r"CREDENTIALS_DIRECTORY is not set.*LoadCredential"):
        read_credential("mqtt-password")


def test_credentials_missing_credential_names_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    with pytest.raises(ConfigError, match="does not exist") as err:
        resolve_secret(credential="mqtt-password")
    assert "mqtt.password_credential" in str(err.value) and "mqtt-password" in str(err.value)


@pytest.mark.parametrize("name", ["", "../etc/shadow", "a/b", ".", ".."])
def test_credentials_bad_credential_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    with pytest.raises(ConfigError, match="not a credential name"):
        read_credential(name)


def test_credentials_resolve_literal_warns_without_value(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="pi2mqtt.credentials"):
        assert resolve_secret(value=SECRET) == SECRET
    assert "in clear" in caplog.text and SECRET not in caplog.text


def test_credentials_resolve_file(tmp_path: Path) -> None:
    assert resolve_secret(file=write(tmp_path / "pw", SECRET.encode() + b"\n")) == SECRET


def test_credentials_resolve_more_than_one_source_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="give only one") as err:
        resolve_secret(value=SECRET, file=tmp_path / "pw")
    assert "mqtt.password, mqtt.password_file" in str(err.value)
    assert SECRET not in str(err.value)


def test_credentials_resolve_nothing_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    assert resolve_secret() is None
    assert resolve_secret(default_credential="mqtt-password") is None


def test_credentials_resolve_default_credential(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    assert resolve_secret(default_credential="mqtt-password") is None  # absent: no password
    write(tmp_path / "mqtt-password", SECRET.encode(), mode=0o400)
    assert resolve_secret(default_credential="mqtt-password") == SECRET


def test_credentials_resolve_empty_default_credential_is_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    write(tmp_path / "mqtt-password", b"", mode=0o400)
    assert resolve_secret(default_credential="mqtt-password") is None


def test_credentials_resolve_file_given_as_credential_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    creds = tmp_path / "creds"
    creds.mkdir()
    write(creds / "mqtt-password", SECRET.encode() + b"\n", mode=0o400)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    monkeypatch.chdir(tmp_path)
    assert resolve_secret(file="mqtt-password") == SECRET
    write(tmp_path / "other", b"from cwd\n")
    assert resolve_secret(file="other") == "from cwd"  # not a credential: a relative path
