"""Why a broker connection failed, in words a user can act on. Pure: exceptions in, text out.

paho reports a failed connection as whatever `connect()` raised (certificate checks, TLS
handshakes, sockets) or, when the broker hangs up before CONNACK, as an "Unspecified
error" disconnect. These functions turn both into one line naming the broker and the
config key to look at, plus the connection state it implies: `"error"` when retrying
cannot help until something is fixed (certificates, credentials), `"reconnecting"` when
the broker is merely away.
"""

from __future__ import annotations

import sys

CLIENT_CERT_HINT = "set mqtt.tls.cert_file and key_file"


def explain_connect_error(e: OSError, where: str, *, tls: bool, client_cert: bool) -> tuple[str, str]:
    """(message, state) for an exception raised by paho's `connect()` to `where` (host:port)."""
    ssl = sys.modules.get("ssl")  # an SSL error can only come from a process that loaded ssl
    if ssl is not None and isinstance(e, ssl.SSLCertVerificationError):
        msg = str(e.verify_message or e)
        hint = ""
        if "mismatch" in msg or "hostname" in msg.lower():
            hint = " (the certificate is for another host name: use the name it was issued for in mqtt.url)"
        elif "issuer" in msg or "self-signed" in msg or "self signed" in msg:
            hint = " (is mqtt.tls.ca_file the CA that signed the broker's certificate?)"
        return f"TLS: the certificate of {where} is not trusted: {msg}{hint}; not connecting", "error"
    if ssl is not None and isinstance(e, ssl.SSLError):
        hint = ""
        if not client_cert and "handshake" in str(e):
            hint = f" (does the broker require a client certificate? {CLIENT_CERT_HINT})"
        return f"TLS handshake with {where} failed: {e.reason or e}{hint}", "error"
    if isinstance(e, ConnectionResetError | ConnectionAbortedError):
        if tls:  # reset during the handshake: not a TLS listener, or it rejects us
            return f"TLS handshake with {where} failed: the broker hung up ({e.strerror or e}); is it a TLS port?", "error"
        return f"broker {where} closed the connection: {e.strerror or e}", "reconnecting"
    return f"broker {where} unreachable: {e.strerror or e}", "reconnecting"


def explain_early_close(rc: object, where: str, *, tls: bool, client_cert: bool) -> str:
    """The broker closed the connection before CONNACK (paho's rc, usually "Unspecified error")."""
    if tls and not client_cert:
        # Over TLS 1.3 a broker that demands a client certificate completes the handshake
        # and only then hangs up: this is how a missing client certificate looks.
        return (f"the broker {where} closed the TLS connection before accepting us ({rc}): "
                f"it probably requires a client certificate ({CLIENT_CERT_HINT})")
    if not tls:
        return (f"the broker {where} closed the connection before accepting us ({rc}); "
                "if it is a TLS port, use mqtts:// (or the broker could not open our session)")
    return f"the broker {where} closed the connection before accepting us ({rc})"
