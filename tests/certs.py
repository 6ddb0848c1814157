"""A throw-away PKI for TLS tests, made with the `openssl` CLI in a temporary directory.

`make_pki(dir)` writes, all with EC P-256 keys (fast to generate):
  * a CA (`ca`) the clients trust;
  * a server certificate from that CA for 127.0.0.1 and localhost (`server`);
  * a server certificate from that CA for another host name only (`wrong_host`);
  * a second CA nobody trusts (`other_ca`) and a 127.0.0.1 server certificate from it
    (`untrusted_server`);
  * a client certificate from the CA for mTLS (`client`).
`Pki.mosquitto_tls(...)` returns the listener lines for `mosquitto_factory(extra=...)`.
Key files are mode 0644 so that a Mosquitto that drops to another user can read them;
they protect nothing.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CertPair:
    """A certificate and its private key (PEM files)."""

    cert: Path
    key: Path


@dataclass(frozen=True)
class Pki:
    """Everything make_pki() wrote; see the module docstring."""

    dir: Path
    ca: CertPair
    server: CertPair
    wrong_host: CertPair
    other_ca: CertPair
    untrusted_server: CertPair
    client: CertPair

    def mosquitto_tls(self, server: CertPair | None = None, *, require_certificate: bool = False) -> str:
        """Listener lines for Mosquitto 2.0: TLS 1.2+ with `server` (default: the good one)."""
        s = server or self.server
        lines = [
            f"cafile {self.ca.cert}",
            f"certfile {s.cert}",
            f"keyfile {s.key}",
            "tls_version tlsv1.2",
        ]
        if require_certificate:
            lines.append("require_certificate true")
        return "\n".join(lines) + "\n"

    def client_tls(self, *, ca: CertPair | None = None, client: CertPair | None = None) -> dict[str, str]:
        """Keyword arguments for paho's `tls_set()` (trusting `ca`, default: the good CA)."""
        kw = {"ca_certs": str((ca or self.ca).cert)}
        if client is not None:
            kw["certfile"] = str(client.cert)
            kw["keyfile"] = str(client.key)
        return kw


def find_openssl() -> str | None:
    """Path of the openssl binary, or None."""
    return shutil.which("openssl") or (
        "/usr/bin/openssl" if Path("/usr/bin/openssl").exists() else None
    )


def _openssl(*args: str, cwd: Path) -> None:
    binary = find_openssl()
    if binary is None:
        raise FileNotFoundError("openssl is not installed")
    r = subprocess.run([binary, *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed:\n{r.stderr}")


def _key(d: Path, name: str) -> Path:
    key = d / f"{name}.key"
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(key), cwd=d)
    key.chmod(0o644)
    return key


def _ca(d: Path, name: str, cn: str) -> CertPair:
    key = _key(d, name)
    cert = d / f"{name}.crt"
    _openssl(
        "req", "-x509", "-new", "-key", str(key), "-out", str(cert), "-days", "30",
        "-subj", f"/CN={cn}",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        "-addext", "subjectKeyIdentifier=hash",
        cwd=d,
    )
    return CertPair(cert, key)


def _leaf(d: Path, name: str, ca: CertPair, cn: str, ext: list[str]) -> CertPair:
    key = _key(d, name)
    csr = d / f"{name}.csr"
    cert = d / f"{name}.crt"
    extfile = d / f"{name}.ext"
    extfile.write_text("\n".join(["basicConstraints=CA:FALSE", "authorityKeyIdentifier=keyid", *ext]) + "\n")
    _openssl("req", "-new", "-key", str(key), "-out", str(csr), "-subj", f"/CN={cn}", cwd=d)
    _openssl(
        "x509", "-req", "-in", str(csr), "-CA", str(ca.cert), "-CAkey", str(ca.key),
        "-CAcreateserial", "-out", str(cert), "-days", "30", "-extfile", str(extfile),
        cwd=d,
    )
    return CertPair(cert, key)


def make_pki(directory: Path) -> Pki:
    """Write the test PKI into directory (created if needed) and describe it."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    server_ext = ["keyUsage=critical,digitalSignature", "extendedKeyUsage=serverAuth"]
    ca = _ca(d, "ca", "pi2mqtt test CA")
    other = _ca(d, "other-ca", "pi2mqtt untrusted CA")
    return Pki(
        dir=d,
        ca=ca,
        server=_leaf(d, "server", ca, "localhost", [*server_ext, "subjectAltName=IP:127.0.0.1,DNS:localhost"]),
        wrong_host=_leaf(d, "wrong-host", ca, "broker.example", [*server_ext, "subjectAltName=DNS:broker.example"]),
        other_ca=other,
        untrusted_server=_leaf(d, "untrusted-server", other, "localhost",
                               [*server_ext, "subjectAltName=IP:127.0.0.1,DNS:localhost"]),
        client=_leaf(d, "client", ca, "pi2mqtt-client",
                     ["keyUsage=critical,digitalSignature", "extendedKeyUsage=clientAuth"]),
    )
