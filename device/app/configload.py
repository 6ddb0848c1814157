"""How `pi2mqtt run` gets its validated config without loading pydantic: a cache, else a child.

Theory of operation
-------------------
pydantic weighs ~12 MB of RSS and ~80-100 ms of start-up (docs/performance.md), and the
daemon needs only its result: a validated `Config`, a tree of frozen dataclasses
(device/config/fragments.py) that unpickles without pydantic. `begin(path, overrides,
cache_dir)` is the first thing `run` does, before it imports the config's schemas or
anything else of the daemon's; this module imports only the standard library until a
result is asked for.

`begin` hashes what a validation's result depends on (the key: the file's bytes, the
overrides such as `--broker`, the hostname, which gives the default `device.id`, the
Python version, and the size and mtime of the schema sources and of the installed
pydantic) and looks in the state directory's `config.cache` (a key line, then the
pickled `Config`). On a miss it starts the validating child at once
(`python -P -m device.config.child`, device/config/child.py, the same `load_config`
that `pi2mqtt check` runs) and `run` imports the daemon's modules on the other core
meanwhile. `ConfigLoad.result()` then unpickles the cached entry — and runs the checks
of device/config/checks.py again (the rules across sections and the files that must exist
and load, which the key cannot see), in this process and without pydantic, so a hit
refuses all that a miss refuses, with the same lines — or waits for the child: its
`Config`, or the very `ConfigError` that `load_config` raises, so the lines and the exit
status 2 are `check`'s. A child that dies otherwise is a `Pi2MqttError` naming the file,
with the child's last line of stderr. A valid result from the child is cached.

The cache file is written only when its entry changes (an SD card counts writes),
atomically (a temporary file, fsync, rename); one that cannot be read or unpickled is a
miss and is written anew; a state directory that cannot be written means no cache.

The child is the same interpreter with the directory that holds this `device` package
first on its path, and the working directory not on it (`-P`), so it validates with the
very schemas the parent unpickles into.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import pickle
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from device.errors import ConfigError, Pi2MqttError

if TYPE_CHECKING:
    from device.config.model import Config

CACHE_NAME = "config.cache"
MAGIC = b"pi2mqtt validated config 1 "
EXIT_PROBLEMS = 2  # device.config.child's exit status for a file with problems
_DEVICE = Path(__file__).resolve().parents[1]  # the `device` package


def schema_sources() -> list[Path]:
    """The source files whose change may change what a file validates to."""
    found = [*sorted((_DEVICE / "config").glob("*.py")), *sorted((_DEVICE / "components").glob("*.py")),
             _DEVICE / "mqtt" / "brokers.py"]
    for name in ("pydantic", "pydantic_core"):  # found without importing them
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin:
            found.append(Path(spec.origin))
    return found


def cache_key(text: bytes, overrides: dict[str, object] | None, sources: Iterable[Path]) -> str:
    """The hex SHA-256 of what a validation's result depends on (see the module docstring)."""
    h = hashlib.sha256()
    for part in (text, json.dumps(overrides or {}, sort_keys=True).encode(),
                 os.uname().nodename.encode(), sys.version.encode()):
        h.update(len(part).to_bytes(8, "big") + part)
    for src in sources:
        try:
            st = src.stat()
            h.update(f"{src}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        except OSError:
            h.update(f"{src}\0missing\n".encode())
    return h.hexdigest()


def _entry(cache: Path, key: str) -> bytes | None:
    """The pickled `Config` cached under `key`, not yet unpickled."""
    try:
        data = cache.read_bytes()
    except OSError:
        return None
    head, sep, body = data.partition(b"\n")
    return body if sep and head == MAGIC + key.encode() else None


def _unpickle(data: bytes) -> Config | None:
    from device.config.model import Config

    try:
        cfg = pickle.loads(data)
    except Exception:  # corrupt, or pickled by other code
        return None
    return cfg if isinstance(cfg, Config) else None


def lookup(cache: Path, key: str) -> Config | None:
    """The cached `Config` for `key`, or None (absent, another key, unreadable, corrupt)."""
    data = _entry(cache, key)
    return _unpickle(data) if data is not None else None


def store(cache: Path, key: str, pickled: bytes) -> None:
    """Write the entry atomically, unless it is already there; never raises."""
    entry = MAGIC + key.encode() + b"\n" + pickled
    tmp = cache.with_name(cache.name + ".tmp")
    try:
        if cache.exists() and cache.read_bytes() == entry:
            return
        cache.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as f:
            f.write(entry)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, cache)
    except OSError:
        tmp.unlink(missing_ok=True)  # a read-only or full state directory: no cache, no harm


class Pending:
    """A validation under way in a child process; `result()` waits for it."""

    def __init__(self, path: Path | str, proc: subprocess.Popen[bytes]) -> None:
        self.path = path
        self._proc = proc
        self.pickled: bytes | None = None  # the child's pickle of the Config, once it gave one

    def result(self) -> Config:
        """The validated `Config`; ConfigError with the problem lines; Pi2MqttError if the child failed."""
        out, err = self._proc.communicate()
        rc = self._proc.returncode
        if rc == 0:
            cfg = _unpickle(out)
            if cfg is not None:
                self.pickled = out
                return cfg
        elif rc == EXIT_PROBLEMS:
            try:
                lines = pickle.loads(out)
            except Exception:  # a truncated stdout: reported below with the child's stderr
                lines = None
            if isinstance(lines, list):
                raise ConfigError([str(line) for line in lines])
        said = err.decode("utf-8", "replace").strip().splitlines()
        why = said[-1] if said else f"exit status {rc}"
        raise Pi2MqttError(f"{self.path}: the config could not be validated (in a child process: {why})")

    def cancel(self) -> None:
        """Stop the child if it still runs (the parent gave up before asking for the result)."""
        if self._proc.returncode is None:
            self._proc.kill()
            self._proc.communicate()


def start(path: Path | str, overrides: dict[str, object] | None = None) -> Pending:
    """Start validating `path` (with `overrides`, dotted keys) in a child process."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_DEVICE.parent), env.get("PYTHONPATH")) if p)
    args = [sys.executable, "-P", "-m", "device.config.child", os.fspath(path), json.dumps(overrides or {})]
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    return Pending(path, proc)


def load_config_in_child(path: Path | str, overrides: dict[str, object] | None = None) -> Config:
    """`device.config.load_config`, run in a child process: same result, same errors."""
    return start(path, overrides).result()


class ConfigLoad:
    """A config on its way: a cache entry to unpickle, or a child validating it."""

    def __init__(self, path: Path, overrides: dict[str, object] | None, cache: Path, key: str | None,
                 entry: bytes | None, pending: Pending | None) -> None:
        self.path, self._overrides, self.pending = path, overrides, pending
        self._cache, self._key, self._entry = cache, key, entry

    @property
    def cached(self) -> bool:
        """True when the cache had this file's entry (no child was started)."""
        return self.pending is None

    def result(self, while_waiting: Callable[[], None] | None = None) -> Config:
        """The validated `Config` (see the module docstring); `while_waiting` runs while a child works."""
        if self.pending is None:
            assert self._entry is not None
            cfg = _unpickle(self._entry)
            if cfg is not None:
                return self._recheck(cfg)
            self.pending = start(self.path, self._overrides)  # corrupt entry: validate, rewrite
        try:
            if while_waiting is not None:
                while_waiting()
            cfg = self.pending.result()
        except BaseException:
            self.pending.cancel()
            raise
        if self._key is not None and self.pending.pickled is not None:
            store(self._cache, self._key, self.pending.pickled)
        return cfg

    def _recheck(self, cfg: Config) -> Config:
        from device.config import checks

        found = checks.problems(checks.parts_of(cfg))
        if found:
            raise ConfigError([f"{self.path}: {where}: {msg}" for where, msg in found])
        return cfg


def begin(path: Path, overrides: dict[str, object] | None, cache_dir: Path | None) -> ConfigLoad:
    """Look for `path`'s validated config in `cache_dir` (None: no cache); on a miss, start the child now."""
    cache = (cache_dir or Path()) / CACHE_NAME
    try:
        key: str | None = cache_key(path.read_bytes(), overrides, schema_sources()) if cache_dir else None
    except OSError:
        key = None  # the child names the problem with the file
    entry = _entry(cache, key) if key is not None else None
    pending = None if entry is not None else start(path, overrides)
    return ConfigLoad(path, overrides, cache, key, entry, pending)


def validated(path: Path, overrides: dict[str, object] | None, cache_dir: Path | None,
              while_waiting: Callable[[], None] | None = None) -> Config:
    """`load_config(path, overrides)` through the cache and the child, without pydantic here."""
    return begin(path, overrides, cache_dir).result(while_waiting)
