"""Secrets (the MQTT password) from a file or a systemd credential, never from a log line.

Where a secret can come from, best first:
  * a systemd credential: `LoadCredential=mqtt-password` in the unit copies
    /etc/credstore/mqtt-password to $CREDENTIALS_DIRECTORY/mqtt-password, readable by
    this service only;
  * a file (`password_file`), readable by the daemon and nobody else;
  * a literal in the config (discouraged: logged as a warning, without the value).
One trailing newline ("\\n" or "\\r\\n") is stripped, as `echo secret > file` adds one.
Errors are `ConfigError`s naming the file and what is wrong with it; no message, repr or
log line ever contains the secret itself.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from device.errors import ConfigError

log = logging.getLogger("pi2mqtt.credentials")

MAX_SECRET_BYTES = 64 * 1024


def _strip_newline(text: str) -> str:
    if text.endswith("\r\n"):
        return text[:-2]
    if text.endswith("\n"):
        return text[:-1]
    return text


def read_secret(path: Path | str, *, key: str = "mqtt.password_file") -> str:
    """The secret stored in the file at path (one trailing newline stripped)."""
    p = Path(path)
    where = f"{key}: {p}"
    try:
        st = p.stat()
    except FileNotFoundError:
        raise ConfigError([f"{where}: the file does not exist"]) from None
    except PermissionError:
        raise ConfigError([f"{where}: permission denied (the daemon's user cannot reach it)"]) from None
    except OSError as e:
        raise ConfigError([f"{where}: cannot be read ({e.strerror})"]) from None
    if stat.S_ISDIR(st.st_mode):
        raise ConfigError([f"{where}: is a directory, expected a file holding the secret"])
    if stat.S_ISREG(st.st_mode) and st.st_size > MAX_SECRET_BYTES:
        raise ConfigError([f"{where}: {st.st_size} bytes is too big for a secret (wrong file?)"])
    try:
        with p.open("rb") as f:
            raw = f.read(MAX_SECRET_BYTES + 1)
    except PermissionError:
        raise ConfigError([f"{where}: permission denied (the daemon's user cannot read it)"]) from None
    except OSError as e:
        raise ConfigError([f"{where}: cannot be read ({e.strerror})"]) from None
    if len(raw) > MAX_SECRET_BYTES:
        raise ConfigError([f"{where}: more than {MAX_SECRET_BYTES} bytes is too big for a secret"])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError([f"{where}: not UTF-8 text (bad byte at offset {e.start})"]) from None
    secret = _strip_newline(text)
    if not secret:
        raise ConfigError([f"{where}: the file is empty"])
    if "\n" in secret:
        raise ConfigError([f"{where}: holds more than one line; put only the secret in it"])
    if stat.S_ISREG(st.st_mode) and st.st_mode & stat.S_IROTH:
        log.warning("%s is readable by every user; chmod 600 it (or use a systemd credential)", p)
    return secret


def credential_path(name: str, *, key: str = "mqtt.password_credential") -> Path:
    """Where systemd put the credential `name` for this service."""
    if not name or "/" in name or name in (".", ".."):
        raise ConfigError([f"{key}: {name!r} is not a credential name (no '/', not empty)"])
    directory = os.environ.get("CREDENTIALS_DIRECTORY")
    if not directory:
        raise ConfigError(
            [
                f"{key}: systemd credential {name!r} requested but $CREDENTIALS_DIRECTORY is not "
                f"set (run under systemd with LoadCredential={name}:/path/to/file)"
            ]
        )
    return Path(directory) / name


def read_credential(name: str, *, key: str = "mqtt.password_credential") -> str:
    """The systemd credential `name` from $CREDENTIALS_DIRECTORY."""
    return read_secret(credential_path(name, key=key), key=key)


def resolve_secret(
    *,
    value: str | None = None,
    file: Path | str | None = None,
    credential: str | None = None,
    default_credential: str | None = None,
    key: str = "mqtt.password",
) -> str | None:
    """The secret from whichever one source is configured, else None.

    A `file` that is a bare name (no "/") names a systemd credential when
    $CREDENTIALS_DIRECTORY holds one of that name, else a file relative to the working
    directory. With no source configured and `default_credential` given, a credential of that name in
    $CREDENTIALS_DIRECTORY is used when present and not empty (so `LoadCredential=` in the
    unit is enough, and a unit without a password file still starts).
    """
    given = [n for n, v in (("", value), ("_file", file), ("_credential", credential)) if v is not None]
    if len(given) > 1:
        keys = ", ".join(key + n for n in given)
        raise ConfigError([f"{keys}: give only one of them"])
    if value is not None:
        log.warning("%s is given in clear in the config; prefer %s_file or a systemd credential", key, key)
        return value
    if file is not None:
        directory = os.environ.get("CREDENTIALS_DIRECTORY")
        name = str(file)
        if directory and "/" not in name and (Path(directory) / name).exists():
            # `password_file = "mqtt-password"` under systemd: the credential of that name
            return read_secret(Path(directory) / name, key=key + "_file")
        return read_secret(file, key=key + "_file")
    if credential is not None:
        return read_credential(credential, key=key + "_credential")
    directory = os.environ.get("CREDENTIALS_DIRECTORY")
    if default_credential and directory:
        path = Path(directory) / default_credential
        try:
            empty = path.stat().st_size == 0
        except OSError:
            return None  # not passed to us: no secret
        if not empty:
            return read_secret(path, key=f"credential {default_credential}")
    return None
