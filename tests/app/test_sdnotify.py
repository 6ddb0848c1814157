"""device.app.sdnotify against a real AF_UNIX datagram socket standing in for systemd."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from device.app import sdnotify


@pytest.fixture
def notify_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    path = tmp_path / "notify"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(str(path))
    s.settimeout(5)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    yield s
    s.close()


def recv(s: socket.socket) -> dict[str, str]:
    return dict(line.split("=", 1) for line in s.recv(4096).decode().splitlines())


def test_sdnotify_ready_sends_ready(notify_socket: socket.socket) -> None:
    assert sdnotify.ready() is True
    assert recv(notify_socket) == {"READY": "1"}


def test_sdnotify_ready_with_status(notify_socket: socket.socket) -> None:
    assert sdnotify.ready("connected")
    assert recv(notify_socket) == {"READY": "1", "STATUS": "connected"}


def test_sdnotify_status_is_one_line(notify_socket: socket.socket) -> None:
    assert sdnotify.status("broker down\nretrying")
    assert recv(notify_socket) == {"STATUS": "broker down retrying"}


def test_sdnotify_watchdog_and_stopping(notify_socket: socket.socket) -> None:
    assert sdnotify.watchdog()
    assert recv(notify_socket) == {"WATCHDOG": "1"}
    assert sdnotify.stopping()
    assert recv(notify_socket) == {"STOPPING": "1"}


def test_sdnotify_reloading_carries_monotonic_usec(notify_socket: socket.socket) -> None:
    before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    assert sdnotify.reloading()
    got = recv(notify_socket)
    after = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    assert got["RELOADING"] == "1"
    assert before <= int(got["MONOTONIC_USEC"]) <= after


def test_sdnotify_abstract_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"pi2mqtt-test-{os.getpid()}-{time.monotonic_ns()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.bind("\0" + name)
        s.settimeout(5)
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        assert sdnotify.ready()
        assert recv(s) == {"READY": "1"}


def test_sdnotify_without_socket_is_a_noop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert sdnotify.ready() is False
    assert sdnotify.watchdog() is False


@pytest.mark.parametrize("value", ["relative/path", "/nonexistent/dir/sock", "@"])
def test_sdnotify_bad_socket_returns_false(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", value)
    assert sdnotify.status("x") is False


def test_sdnotify_socket_that_is_not_a_socket_returns_false(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("")
    monkeypatch.setenv("NOTIFY_SOCKET", str(f))
    assert sdnotify.ready() is False


def test_sdnotify_watchdog_interval_is_half_of_watchdog_usec(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    assert sdnotify.watchdog_interval() == 15.0
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert sdnotify.watchdog_interval() == 15.0


def test_sdnotify_watchdog_interval_for_another_pid_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid() + 1))
    assert sdnotify.watchdog_interval() is None


@pytest.mark.parametrize("value", [None, "", "abc", "0", "-5"])
def test_sdnotify_watchdog_interval_unset_or_bad_is_none(monkeypatch: pytest.MonkeyPatch, value: str | None) -> None:
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    if value is None:
        monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    else:
        monkeypatch.setenv("WATCHDOG_USEC", value)
    assert sdnotify.watchdog_interval() is None


def test_sdnotify_never_waits_for_a_reader_that_does_not_read(notify_socket: socket.socket) -> None:
    """A full queue drops the notification: a blocking send held a daemon's stop forever
    (STOPPING=1 behind ten unread STATUS lines) when its reader had stopped reading."""
    sent: list[bool] = []
    sender = threading.Thread(target=lambda: sent.extend(sdnotify.status(f"n{i}") for i in range(64)),
                              daemon=True)
    sender.start()
    sender.join(10)
    assert not sender.is_alive(), "notify() blocked on a full socket"
    assert sent[0] and not all(sent)  # the first were queued, the rest dropped
    assert recv(notify_socket) == {"STATUS": "n0"}
