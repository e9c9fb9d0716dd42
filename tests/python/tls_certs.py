"""A throwaway CA and certificates made with the `openssl` command at test time (nothing
private is committed): the server certificate for localhost/127.0.0.1, a second one for SNI,
and a client certificate for mTLS."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from pathlib import Path


@dataclasses.dataclass
class TestPki:
    __test__ = False
    dir: Path
    ca: Path  # CA certificate (what clients verify against)
    cert: Path  # server certificate: DNS:localhost, IP:127.0.0.1
    key: Path
    other_cert: Path  # server certificate for DNS:other.test (SNI)
    other_key: Path
    client_cert: Path  # client certificate signed by the CA (mTLS)
    client_key: Path
    ca_key: Path

    def issue(self, name: str, san: str, *, password: str | None = None) -> tuple[Path, Path]:
        """A new certificate signed by the CA: (cert, key); key encrypted with `password`."""
        return _issue(self.dir, self.ca, self.ca_key, name, san, password)


def _run(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _issue(
    d: Path, ca: Path, ca_key: Path, name: str, san: str, password: str | None = None
) -> tuple[Path, Path]:
    key, csr, cert, ext = d / f"{name}.key", d / f"{name}.csr", d / f"{name}.pem", d / f"{name}.ext"
    _run(
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-out",
        str(key),
        cwd=d,
    )
    _run("req", "-new", "-key", str(key), "-subj", f"/CN={name}", "-out", str(csr), cwd=d)
    # What Python 3.13's default VERIFY_X509_STRICT checks (RFC 5280 §4.2.1): AKI on the leaf,
    # key usage on both.
    ext.write_text(
        f"subjectAltName={san}\nbasicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n"
    )
    _run(
        "x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
        "-CAcreateserial", "-days", "2", "-extfile", str(ext), "-out", str(cert), cwd=d,
    )  # fmt: skip
    if password is not None:
        enc = d / f"{name}.enc.key"
        _run(
            "pkey",
            "-in",
            str(key),
            "-aes256",
            "-passout",
            f"pass:{password}",
            "-out",
            str(enc),
            cwd=d,
        )
        key = enc
    return cert, key


def make_pki(d: Path) -> TestPki:
    if shutil.which("openssl") is None:
        raise RuntimeError("the openssl command is needed to make test certificates")
    d.mkdir(parents=True, exist_ok=True)
    ca, ca_key = d / "ca.pem", d / "ca.key"
    _run(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", str(ca_key), "-out", str(ca), "-days", "2", "-subj", "/CN=FasterAPI Test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=d,
    )  # fmt: skip
    cert, key = _issue(d, ca, ca_key, "localhost", "DNS:localhost,IP:127.0.0.1")
    other_cert, other_key = _issue(d, ca, ca_key, "other.test", "DNS:other.test")
    client_cert, client_key = _issue(d, ca, ca_key, "client", "DNS:client.test")
    return TestPki(d, ca, cert, key, other_cert, other_key, client_cert, client_key, ca_key)
