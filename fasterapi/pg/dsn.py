"""Connection parameters from a DSN (postgres://user:pass@host:port/db?sslmode=...) and env."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

from fasterapi.pg.errors_base import InterfaceError

SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


@dataclass(frozen=True)
class ConnectParams:
    """Where and how to connect; built by :func:`parse_dsn`."""

    host: str = "localhost"
    port: int = 5432
    user: str = "postgres"
    password: str = ""
    database: str = ""
    sslmode: str = "prefer"
    sslrootcert: str | None = None
    connect_timeout: float = 10.0
    options: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def is_unix(self) -> bool:
        return self.host.startswith("/")


def parse_dsn(dsn: str | None = None, **overrides: object) -> ConnectParams:
    """Parse a libpq-style URL; unset parts come from PGHOST/PGPORT/PGUSER/PGPASSWORD/... env."""
    env = os.environ
    host = env.get("PGHOST", "localhost")
    port = int(env.get("PGPORT", "5432"))
    user = env.get("PGUSER") or getpass.getuser()
    password = env.get("PGPASSWORD", "")
    database = env.get("PGDATABASE", "")
    sslmode = env.get("PGSSLMODE", "prefer")
    sslrootcert: str | None = env.get("PGSSLROOTCERT")
    connect_timeout = 10.0
    options: list[tuple[str, str]] = []
    if dsn:
        u = urlsplit(dsn)
        if u.scheme not in ("postgres", "postgresql"):
            raise InterfaceError(f"DSN must start with postgres:// or postgresql://, got {dsn!r}")
        if u.hostname:
            host = unquote(u.hostname)
        if u.port:
            port = u.port
        if u.username:
            user = unquote(u.username)
        if u.password:
            password = unquote(u.password)
        if u.path and u.path != "/":
            database = unquote(u.path[1:])
        for k, v in parse_qsl(u.query):
            if k == "sslmode":
                sslmode = v
            elif k == "sslrootcert":
                sslrootcert = v
            elif k == "connect_timeout":
                connect_timeout = float(v)
            elif k == "host":
                host = v
            elif k == "port":
                port = int(v)
            else:
                options.append((k, v))
    if sslmode not in SSL_MODES:
        raise InterfaceError(f"sslmode must be one of {', '.join(SSL_MODES)}; got {sslmode!r}")
    p = ConnectParams(
        host=host,
        port=port,
        user=user,
        password=password,
        database=database or user,
        sslmode=sslmode,
        sslrootcert=sslrootcert,
        connect_timeout=connect_timeout,
        options=tuple(options),
    )
    if overrides:
        from dataclasses import replace

        p = replace(p, **overrides)  # type: ignore[arg-type]
    return p
