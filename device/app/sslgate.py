"""`ssl` stays out of a daemon that does not use TLS (libssl and libcrypto: ~1 MB of RSS).

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


def ssl_refused() -> bool:
    """The real ssl was kept out of this process (TLS cannot be turned on without a restart)."""
    return bool(getattr(sys.modules.get("ssl"), MARK, False))
