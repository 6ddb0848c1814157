"""Test helpers for `pi2mqtt web`: a headless chromium driven by playwright-core, and the web server.

`Browser` runs tests/web/driver.mjs on Node.js (one chromium with a fresh user-data-dir)
and sends it one JSON command at a time; every command has a timeout, and a waiting
command (`text`, `wait_fn`) waits in the browser on the page's own events.
`WebProcess` runs `python -m device web ...` and waits for the line with its URL.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
PLAYWRIGHT = HERE / "node" / "node_modules" / "playwright-core"


def require_browser() -> str:
    """The node binary; skips (fails under CI=true) when node, chromium or playwright-core is missing."""
    node = shutil.which("node")
    missing = [what for what, ok in (("node", node is not None), (CHROMIUM, Path(CHROMIUM).exists()),
                                     ("playwright-core (make web-test-deps)", PLAYWRIGHT.exists())) if not ok]
    if missing:
        reason = f"browser tests need {', '.join(missing)} (.ci/run installs chromium; the Makefile playwright-core)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    assert node is not None
    return node


class _Lines:
    """Lines of a pipe, read by a thread, awaited with a timeout."""

    def __init__(self, stream: Any) -> None:
        self.q: queue.SimpleQueue[str] = queue.SimpleQueue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: Any) -> None:
        for line in iter(stream.readline, ""):
            self.q.put(line)
        self.q.put("")

    def next(self, timeout: float) -> str:
        try:
            line = self.q.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no line within {timeout} s") from None
        self.seen.append(line)
        return line


class Browser:
    """One chromium for a test module."""

    def __init__(self, node: str, user_data: Path) -> None:
        self.proc = subprocess.Popen([node, str(HERE / "driver.mjs"), str(user_data)], cwd=HERE,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=dict(os.environ, CHROMIUM=CHROMIUM))
        self._out = _Lines(self.proc.stdout)
        self._err = _Lines(self.proc.stderr)
        first = self._reply(60.0)
        assert first == "ready", first

    def _reply(self, timeout: float) -> Any:
        line = self._out.next(timeout)
        if not line:
            raise RuntimeError(f"the browser driver ended: {self.stderr()}")
        doc = json.loads(line)
        if not doc["ok"]:
            raise AssertionError(f"browser: {doc['error']}")
        return doc["result"]

    def stderr(self) -> str:
        lines = []
        while True:
            try:
                lines.append(self._err.q.get_nowait())
            except queue.Empty:
                return "".join(lines)[-3000:]

    def call(self, op: str, **args: Any) -> Any:
        """Run one driver op; `ms` is the op's own wait in the browser (default 10 s)."""
        timeout = args.get("ms", 10000) / 1000 + 20.0
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"op": op, **args}) + "\n")
        self.proc.stdin.flush()
        return self._reply(timeout)

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write(json.dumps({"op": "close"}) + "\n")
                self.proc.stdin.flush()
                self.proc.wait(15)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(5)


class WebProcess:
    """`pi2mqtt web` in a subprocess; `url` once it listens."""

    def __init__(self, *args: str, wait: bool = True) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "device", "web", *args], cwd=ROOT,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                     env=dict(os.environ, PYTHONPATH=str(ROOT)))
        self._err = _Lines(self.proc.stderr)
        self.url = ""
        if wait:
            try:
                line = self._err.next(30.0)
                while line and not line.startswith("pi2mqtt web: http"):  # warnings first, maybe
                    line = self._err.next(30.0)
                assert line, "".join(self._err.seen)
            except BaseException:
                self.stop()  # never leave a server behind a failed start
                raise
            self.url = line.split()[2]

    def output(self, timeout: float = 30.0) -> str:
        """Everything it wrote to stderr until it ended (for a process expected to exit)."""
        text = []
        while True:
            line = self._err.next(timeout)
            if not line:
                return "".join(text)
            text.append(line)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
