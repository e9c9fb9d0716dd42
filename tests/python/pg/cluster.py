"""A throwaway PostgreSQL cluster (initdb + pg_ctl) for tests needing their own settings."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def pg_bindir() -> Path | None:
    """The directory holding initdb/pg_ctl (Debian keeps them out of PATH)."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    return Path(dirs[-1]) if dirs else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """initdb runs as the 'postgres' OS user when we are root (initdb refuses root)."""

    def __init__(self, auth: str = "trust", ssl: bool = False, password: str = "secret") -> None:
        bindir = pg_bindir()
        if bindir is None:
            raise RuntimeError("initdb not found; install postgresql (scripts/install-deps.sh)")
        self.bindir = bindir
        self.auth = auth
        self.ssl = ssl
        self.password = password
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="fa-pg-"))
        self.data = self.root / "data"
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.root, "postgres")

    def _run(self, *cmd: str) -> None:
        subprocess.run([*self.as_user, *cmd], check=True, capture_output=True, timeout=120)

    def start(self) -> Cluster:
        """initdb, configure, start; on any failure the half-started cluster is removed."""
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> Cluster:
        pwfile = self.root / "pw"
        pwfile.write_text(self.password + "\n")
        if self.as_user:
            shutil.chown(pwfile, "postgres")
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--pwfile",
            str(pwfile),
            "-A",
            "trust",
            "--no-sync",
        )
        conf = [
            f"port = {self.port}",
            "listen_addresses = '127.0.0.1'",
            f"unix_socket_directories = '{self.root}'",
            f"password_encryption = '{'md5' if self.auth == 'md5' else 'scram-sha-256'}'",
            "fsync = off",
        ]
        hba = ["local all all trust"]
        host_type = "hostssl" if self.ssl else "host"
        hba.append(
            f"{host_type} all all 127.0.0.1/32 {self.auth if self.auth != 'trust' else 'trust'}"
        )
        if self.ssl:
            self._make_cert()
            conf += ["ssl = on", "ssl_cert_file = 'server.crt'", "ssl_key_file = 'server.key'"]
        with open(self.data / "postgresql.conf", "a") as f:
            f.write("\n".join(conf) + "\n")
        (self.data / "pg_hba.conf").write_text("\n".join(hba) + "\n")
        self.pg_ctl("start", "-w", "-l", str(self.root / "log"))
        # Re-set the password so it is stored with this cluster's password_encryption.
        self._run(
            str(self.bindir / "psql"),
            "-h",
            str(self.root),
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-c",
            "ALTER USER postgres PASSWORD '" + self.password.replace("'", "''") + "'",
            "postgres",
        )
        return self

    def _make_cert(self) -> None:
        self.cert = self.root / "root.crt"
        subprocess.run(
            [
                "openssl",
                "req",
                "-new",
                "-x509",
                "-days",
                "2",
                "-nodes",
                "-subj",
                "/CN=localhost",
                "-addext",
                "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-keyout",
                str(self.data / "server.key"),
                "-out",
                str(self.data / "server.crt"),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        shutil.copy(self.data / "server.crt", self.cert)
        if self.as_user:
            shutil.chown(self.data / "server.key", "postgres")
            shutil.chown(self.data / "server.crt", "postgres")
        os.chmod(self.data / "server.key", 0o600)

    def pg_ctl(self, *args: str) -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), *args)

    def dsn(
        self,
        user: str = "postgres",
        password: str | None = None,
        db: str = "postgres",
        **query: str,
    ) -> str:
        pw = f":{password}" if password else ""
        q = "&".join(f"{k}={v}" for k, v in query.items())
        return f"postgresql://{user}{pw}@127.0.0.1:{self.port}/{db}" + (f"?{q}" if q else "")

    def restart(self) -> None:
        self.pg_ctl("restart", "-w", "-m", "fast", "-l", str(self.root / "log"))

    def stop(self) -> None:
        try:
            self.pg_ctl("stop", "-m", "immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.root, ignore_errors=True)
