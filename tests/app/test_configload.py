"""The validated-config cache and the validating child (device/app/configload.py): hits, misses, corruption."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from device.app.configload import CACHE_NAME, begin, cache_key, lookup, schema_sources, validated
from device.app.localbroker import free_port, terminate
from device.config import load_config
from device.errors import ConfigError
from tests.procs import PI2MQTT, ROOT, NotifySocket, write_config

BODY = '[device]\nid = "c"\n[[led]]\nname = "l"\npin = 5\n'


def _config(tmp_path: Path, body: str = BODY) -> Path:
    p = tmp_path / "c.toml"
    p.write_text(body)
    return p


def _key(path: Path, overrides: dict[str, object] | None = None) -> str:
    return cache_key(path.read_bytes(), overrides, schema_sources())


def test_cache_miss_writes_and_the_same_file_hits_without_a_rewrite(tmp_path: Path) -> None:
    conf, state = _config(tmp_path), tmp_path / "state"
    first = validated(conf, None, state)
    assert first == load_config(conf)
    cache = state / CACHE_NAME
    assert lookup(cache, _key(conf)) == first
    before = cache.stat()
    again = begin(conf, None, state)
    assert again.cached and again.pending is None  # no child started
    assert again.result() == first
    assert validated(conf, None, state) == first
    after = cache.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)  # not written again


def test_cache_changed_file_or_override_misses(tmp_path: Path) -> None:
    conf, state = _config(tmp_path), tmp_path / "state"
    validated(conf, None, state)
    key = _key(conf)
    assert _key(conf, {"mqtt.url": "mqtt://b:2"}) != key
    conf.write_text(BODY.replace("pin = 5", "pin = 6"))
    assert lookup(state / CACHE_NAME, _key(conf)) is None
    cfg = validated(conf, None, state)
    assert cfg.led[0].pin == 6 and lookup(state / CACHE_NAME, _key(conf)) == cfg
    cfg = validated(conf, {"mqtt.url": "mqtt://b:2"}, state)
    assert cfg.mqtt.url == "mqtt://b:2"


def test_cache_changed_schema_source_misses(tmp_path: Path) -> None:
    conf = _config(tmp_path)
    sources = []
    for src in schema_sources()[:3]:
        copy = tmp_path / src.name
        shutil.copy2(src, copy)
        sources.append(copy)
    key = cache_key(conf.read_bytes(), None, sources)
    assert cache_key(conf.read_bytes(), None, sources) == key
    sources[1].write_text(sources[1].read_text() + "\n# changed\n")
    assert cache_key(conf.read_bytes(), None, sources) != key


def test_cache_corrupt_file_is_ignored_and_rewritten(tmp_path: Path) -> None:
    conf, state = _config(tmp_path), tmp_path / "state"
    cache = state / CACHE_NAME
    state.mkdir()
    for junk in (b"", b"garbage", b"pi2mqtt validated config 1 " + _key(conf).encode() + b"\nnot a pickle"):
        cache.write_bytes(junk)
        assert lookup(cache, _key(conf)) is None
        assert validated(conf, None, state) == load_config(conf)
        assert lookup(cache, _key(conf)) == load_config(conf)


def test_cache_hit_refuses_what_a_miss_refuses(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("s3cret\n")
    conf, state = _config(tmp_path, BODY + f'[mqtt]\npassword_file = "{secret}"\n'), tmp_path / "state"
    validated(conf, None, state)
    secret.unlink()
    with pytest.raises(ConfigError) as in_process:
        load_config(conf)
    assert lookup(state / CACHE_NAME, _key(conf)) is not None  # a hit: the file checks run again
    with pytest.raises(ConfigError) as hit:
        validated(conf, None, state)
    assert hit.value.problems == in_process.value.problems
    assert hit.value.problems == [f"{conf}: mqtt.password_file: {secret}: no such file"]


def test_cache_invalid_file_is_not_cached(tmp_path: Path) -> None:
    conf, state = _config(tmp_path, BODY + "bogus = 1\n"), tmp_path / "state"
    with pytest.raises(ConfigError):
        validated(conf, None, state)
    assert not (state / CACHE_NAME).exists()


def test_no_cache_dir_means_no_cache(tmp_path: Path) -> None:
    conf = _config(tmp_path)
    loading = begin(conf, None, None)
    assert not loading.cached
    assert loading.result() == load_config(conf)
    assert not list(tmp_path.rglob(CACHE_NAME))


def test_run_from_a_shell_writes_no_cache_into_the_home(tmp_path: Path) -> None:
    """Without $STATE_DIRECTORY the cache has no place of its own: nothing lands in ~/.local/state."""
    home = tmp_path / "home"
    home.mkdir()
    notify = NotifySocket(tmp_path / "notify")
    conf = write_config(tmp_path / "c.toml", "nocache", f"mqtt://127.0.0.1:{free_port()}", tmp_path / "state")
    env = {k: v for k, v in os.environ.items() if k not in ("STATE_DIRECTORY", "XDG_STATE_HOME", "WATCHDOG_USEC")}
    env.update(HOME=str(home), NOTIFY_SOCKET=str(notify.path))
    proc = subprocess.Popen([*PI2MQTT, "run", "--sim", "--config", str(conf)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        notify.wait_for(lambda m: m.get("READY") == "1", 30, "READY=1")
    finally:
        terminate(proc, 10)
        notify.close()
    assert not list(home.rglob(CACHE_NAME)) and not list(tmp_path.rglob(CACHE_NAME))
