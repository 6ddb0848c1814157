"""Validating a config file in a short-lived child process: `pi2mqtt run` never loads pydantic.

Theory of operation
-------------------
pydantic weighs ~12 MB of RSS and ~80-100 ms of start-up (docs/performance.md), and
the daemon needs only its result: a validated `Config`, a tree of frozen dataclasses
(device/config/fragments.py). `start(path, overrides)` starts
`python -m device.config.child PATH OVERRIDES_JSON` at once and returns a `Pending`.
The child validates with the same `load_config` that `pi2mqtt check` runs (overrides
included) and writes one pickle to its stdout: the `Config` (exit 0), or the list of
problem lines (exit 2). Meanwhile the parent is free to import what the daemon needs on
the other core; `Pending.result()` waits for the child and returns the `Config`, or
raises the very `ConfigError` that `load_config` raises in-process, so the lines and the
exit status 2 are the same as `check`'s. A child that dies otherwise (no pydantic, out of
memory) is a `Pi2MqttError` naming the file, with the child's last line of stderr.

The child is the same interpreter, with the directory that holds this `device` package
first on its path, so it validates with the very schemas the parent unpickles into.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

from device.config.model import Config
from device.errors import ConfigError, Pi2MqttError

EXIT_PROBLEMS = 2  # the child's exit status when the file has problems (device.app.startup.EXIT_USAGE)
_HOME = Path(__file__).resolve().parents[2]  # the directory holding the `device` package


class Pending:
    """A validation under way in a child process; `result()` waits for it."""

    def __init__(self, path: Path | str, proc: subprocess.Popen[bytes]) -> None:
        self.path = path
        self._proc = proc

    @property
    def pid(self) -> int:
        return self._proc.pid

    def result(self) -> Config:
        """The validated `Config`; ConfigError with the problem lines; Pi2MqttError if the child failed."""
        out, err = self._proc.communicate()
        rc = self._proc.returncode
        if rc in (0, EXIT_PROBLEMS):
            try:
                value = pickle.loads(out)
            except Exception:  # a truncated or foreign stdout: reported below with the child's stderr
                value = None
            if rc == 0 and isinstance(value, Config):
                return value
            if rc == EXIT_PROBLEMS and isinstance(value, list):
                raise ConfigError([str(line) for line in value])
        lines = err.decode("utf-8", "replace").strip().splitlines()
        why = lines[-1] if lines else f"exit status {rc}"
        raise Pi2MqttError(f"{self.path}: the config could not be validated (in a child process: {why})")

    def cancel(self) -> None:
        """Stop the child if it still runs (the parent gave up before asking for the result)."""
        if self._proc.returncode is None:
            self._proc.kill()
            self._proc.communicate()


def start(path: Path | str, overrides: dict[str, object] | None = None) -> Pending:
    """Start validating `path` (with `overrides`, dotted keys) in a child process."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_HOME), env.get("PYTHONPATH")) if p)
    args = [sys.executable, "-m", "device.config.child", os.fspath(path), json.dumps(overrides or {})]
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    return Pending(path, proc)


def load_config_in_child(path: Path | str, overrides: dict[str, object] | None = None) -> Config:
    """`device.config.load_config`, run in a child process: same result, same errors."""
    return start(path, overrides).result()


def main(argv: list[str]) -> int:
    """The child: validate, write one pickle to stdout, exit 0 (valid) or 2 (problems)."""
    from device.app.sslgate import use_builtin_hashes

    use_builtin_hashes()  # pydantic imports hashlib: no libcrypto for a process this short
    from device.config import load_config

    path, overrides = argv[0], json.loads(argv[1]) if len(argv) > 1 else {}
    try:
        result: object = load_config(path, overrides)
        rc = 0
    except ConfigError as e:
        result, rc = list(e.problems), EXIT_PROBLEMS
    sys.stdout.buffer.write(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
    sys.stdout.flush()
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
