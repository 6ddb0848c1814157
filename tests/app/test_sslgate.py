"""The ssl placeholder of a plaintext daemon (device/app/sslgate.py), in a fresh interpreter each time."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.procs import ROOT


def run_python(code: str) -> str:
    r = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_plaintext_process_never_maps_libssl_and_paho_still_reads_sockets() -> None:
    out = run_python("""
        import socket
        from device.app.sslgate import keep_ssl_out, ssl_refused
        assert keep_ssl_out(tls=False) and ssl_refused()
        import asyncio, http.client, urllib.request  # their optional-ssl paths import cleanly
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion
        from device.mqtt.failures import explain_connect_error
        c = mqtt.Client(CallbackAPIVersion.VERSION2)
        a, b = socket.socketpair()
        a.setblocking(False)
        c._sock = a  # paho's read path names ssl.SSLWantReadError in its except clause
        try:
            c._sock_recv(1)
        except BlockingIOError:
            print("would block")
        print(explain_connect_error(ConnectionRefusedError(111, "refused"), "h:1883", tls=False,
                                    client_cert=False)[1])
        maps = open("/proc/self/maps").read()
        print("libssl" in maps or "_ssl." in maps)
    """)
    assert out.split() == ["would", "block", "reconnecting", "False"]


def test_tls_configured_keeps_the_real_ssl() -> None:
    out = run_python("""
        from device.app.sslgate import keep_ssl_out, ssl_refused
        assert not keep_ssl_out(tls=True) and not ssl_refused()
        import ssl
        print(hasattr(ssl, "SSLContext"))
    """)
    assert out.split() == ["True"]


def test_builtin_hashes_give_the_same_digests_without_libcrypto() -> None:
    out = run_python("""
        from device.app.sslgate import keep_ssl_out, use_builtin_hashes
        assert use_builtin_hashes() and keep_ssl_out(tls=False)  # as a plaintext `pi2mqtt run`
        import hashlib, hmac, secrets
        import pydantic, paho.mqtt.client  # both import hashlib
        print(hashlib.sha1(b"abc").hexdigest(), hashlib.sha256(b"abc").hexdigest()[:16])
        print(hmac.new(b"k", b"m", hashlib.sha256).hexdigest()[:16], hmac.compare_digest("a", "a"))
        print(len(secrets.token_hex(8)), "libcrypto" in open("/proc/self/maps").read())
    """)
    assert out.split() == ["a9993e364706816aba3e25717850c26c9cd0d89d", "ba7816bf8f01cfea",
                           "b60090e3052297ae", "True", "16", "False"]


def test_tls_still_works_with_builtin_hashes() -> None:
    out = run_python("""
        from device.app.sslgate import keep_ssl_out, use_builtin_hashes
        assert use_builtin_hashes() and not keep_ssl_out(tls=True)
        import ssl
        ctx = ssl.create_default_context()
        print(ctx.verify_mode == ssl.CERT_REQUIRED, "libcrypto" in open("/proc/self/maps").read())
    """)
    assert out.split() == ["True", "True"]
