"""OpenSSL stays out of `pi2mqtt run` unless TLS is configured: no `ssl`, and hashlib without it.

`keep_ssl_out()` keeps libssl out of a plaintext daemon; `use_builtin_hashes()` keeps
hashlib from mapping libcrypto (~3.5 MB of RSS) in every daemon.

paho imports `ssl` when it is imported, and so do `urllib.request` and `http.client`,
which paho imports; loading it maps libssl and libcrypto. A plaintext daemon never
needs them. `keep_ssl_out()` runs before anything imports paho and, unless the config
asks for TLS, registers a *placeholder* module under the name `ssl`: it holds only the
exception and socket classes that code on this path names in `except` clauses and
`isinstance` checks (paho's socket reads catch `ssl.SSLWantReadError` on plain sockets too), in the
standard module's hierarchy. Nothing can raise them: there is no TLS socket. Anything
that would build a TLS context finds no `SSLContext` and fails loudly — which cannot
happen, since TLS is decided once per process from the config at start: a reload that
turns TLS on (mqtts://) needs a restart, and says so (`ssl_refused()`).
"""

from __future__ import annotations

import sys
import types

MARK = "__pi2mqtt_placeholder__"


def _placeholder() -> types.ModuleType:
    mod = types.ModuleType("ssl", "placeholder: TLS is not configured in this process (device/app/sslgate.py)")

    class SSLError(OSError):
        pass

    class SSLCertVerificationError(SSLError, ValueError):
        pass

    class SSLWantReadError(SSLError):
        pass

    class SSLWantWriteError(SSLError):
        pass

    class SSLZeroReturnError(SSLError):
        pass

    class SSLEOFError(SSLError):
        pass

    class SSLSyscallError(SSLError):
        pass

    class SSLSocket:  # for isinstance checks only: never made
        pass

    class SSLObject:
        pass

    for cls in (SSLError, SSLCertVerificationError, SSLWantReadError, SSLWantWriteError, SSLZeroReturnError,
                SSLEOFError, SSLSyscallError, SSLSocket, SSLObject):
        cls.__module__ = "ssl"
        setattr(mod, cls.__name__, cls)
    mod.CertificateError = SSLCertVerificationError  # type: ignore[attr-defined]
    setattr(mod, MARK, True)
    return mod


def keep_ssl_out(tls: bool) -> bool:
    """Without TLS configured, keep the real `ssl` out of this process; True if it did."""
    if tls or "ssl" in sys.modules:
        return False
    sys.modules["ssl"] = _placeholder()
    return True


def use_builtin_hashes() -> bool:
    """hashlib and hmac on CPython's own hash code instead of OpenSSL's; True if it did.

    `hashlib` loads `_hashlib`, which maps libcrypto: ~3.5 MB of RSS (its file pages,
    touched by OpenSSL's start-up) in a process that hashes next to nothing — paho imports
    hashlib and hashes one WebSocket handshake key with SHA-1 (and pydantic, in the child
    that validates the config, imports `secrets`, hence `hmac` and `hashlib`). With `_hashlib` kept out, `hashlib` and `hmac`
    fall back to the implementations built into CPython (md5, sha1, sha2, sha3, blake2:
    the same digests); only `hashlib.pbkdf2_hmac` and `scrypt` go, which `pi2mqtt run`
    never calls. TLS is unaffected: `_ssl` maps libssl and libcrypto by itself. Call it
    before anything imports hashlib; `pi2mqtt run` does, first thing.
    """
    if "_hashlib" in sys.modules:
        return False
    sys.modules["_hashlib"] = None  # type: ignore[assignment]  # None: "import _hashlib" raises ImportError
    return True


def ssl_refused() -> bool:
    """The real ssl was kept out of this process (TLS cannot be turned on without a restart)."""
    return bool(getattr(sys.modules.get("ssl"), MARK, False))
