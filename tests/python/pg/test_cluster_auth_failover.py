"""Throwaway clusters: SCRAM-SHA-256, MD5 and cleartext auth, TLS sslmodes, and a server restart
under load (in-flight queries fail clearly, the pool reconnects, committed rows survive)."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Iterator
from typing import Any

import pytest

from fasterapi import pg
from fasterapi.pg import exceptions as exc

from .cluster import Cluster
from .conftest import make_cluster, run

pytestmark = [pytest.mark.pg, pytest.mark.slow]


@pytest.fixture(scope="module", params=["scram-sha-256", "md5", "password"])
def auth_cluster(request: pytest.FixtureRequest) -> Iterator[Cluster]:
    c = make_cluster(auth=request.param, password="s3cr3t pw")
    yield c
    c.stop()


def test_password_auth_methods(auth_cluster: Cluster) -> None:
    async def go() -> Any:
        conn = await pg.connect(auth_cluster.dsn(password="s3cr3t%20pw", sslmode="disable"))
        try:
            return await conn.fetchval("SELECT current_user")
        finally:
            await conn.close()

    assert run(go()) == "postgres"

    async def over_unix_socket() -> Any:  # pg_hba: local connections are trusted
        dsn = f"postgresql://postgres@/postgres?host={auth_cluster.root}&port={auth_cluster.port}"
        conn = await pg.connect(dsn)
        try:
            return await conn.fetchval("SELECT inet_client_addr() IS NULL")
        finally:
            await conn.close()

    assert run(over_unix_socket()) is True
    with pytest.raises(exc.InvalidPasswordError):
        run(pg.connect(auth_cluster.dsn(password="wrong", sslmode="disable")))
    # the sync API authenticates through the same core
    pool = pg.PgPool(auth_cluster.dsn(password="s3cr3t%20pw"), min_size=0, max_size=1)
    assert pool.exec("SELECT 1").scalar() == 1
    pool.close_sync()


@pytest.fixture(scope="module")
def tls_cluster() -> Iterator[Cluster]:
    c = make_cluster(auth="scram-sha-256", ssl=True, password="pw")
    yield c
    c.stop()


def test_cancel_request_goes_over_tls(
    tls_cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    connect_mod = importlib.import_module("fasterapi.pg.connect")  # the module, not pg.connect()

    handshakes: list[str] = []
    real = connect_mod.tls_params  # every TLS setup asks it: native channel, cancel, blocking

    def counting(p: Any) -> Any:
        handshakes.append(p.sslmode)
        return real(p)

    monkeypatch.setattr(connect_mod, "tls_params", counting)
    dsn = tls_cluster.dsn(password="pw", sslmode="require", connect_timeout="5")

    async def go() -> None:
        conn = await pg.connect(dsn)
        try:
            assert handshakes == ["require"]
            t0 = asyncio.get_running_loop().time()
            with pytest.raises(TimeoutError):
                await conn.fetchval("SELECT pg_sleep(30)", timeout=0.3)
            assert await asyncio.wait_for(conn.fetchval("SELECT 8"), 10) == 8  # it was cancelled
            assert asyncio.get_running_loop().time() - t0 < 10
            assert len(handshakes) >= 2  # the CancelRequest negotiated TLS
        finally:
            await conn.close()

    run(go())
    handshakes.clear()
    pool = pg.PgPool(dsn, min_size=0, max_size=1, command_timeout=0.3)
    try:
        with pytest.raises(exc.QueryCanceledError):
            pool.exec("SELECT pg_sleep(30)")
        assert pool.exec("SELECT 9").scalar() == 9
        assert handshakes == ["require", "require"]  # the connection, then its CancelRequest
    finally:
        pool.close_sync()


def test_tls_sslmodes(tls_cluster: Cluster) -> None:
    async def ssl_in_use(dsn: str) -> Any:
        conn = await pg.connect(dsn)
        try:
            return await conn.fetchval("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        finally:
            await conn.close()

    c = tls_cluster
    assert run(ssl_in_use(c.dsn(password="pw", sslmode="require"))) is True
    assert run(ssl_in_use(c.dsn(password="pw", sslmode="prefer"))) is True
    assert run(ssl_in_use(c.dsn(password="pw", sslmode="verify-full", sslrootcert=str(c.cert))))
    assert run(ssl_in_use(c.dsn(password="pw", sslmode="verify-ca", sslrootcert=str(c.cert))))
    # hostssl only: a plain connection is refused by pg_hba
    with pytest.raises(exc.InvalidAuthorizationSpecificationError):
        run(pg.connect(c.dsn(password="pw", sslmode="disable")))
    # verify-full against a certificate we do not trust fails
    with pytest.raises(Exception, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        run(pg.connect(c.dsn(password="pw", sslmode="verify-full")))
    with pytest.raises(Exception, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        run(pg.connect(c.dsn(password="pw", sslmode="verify-ca")))  # the chain is still checked
    pool = pg.PgPool(c.dsn(password="pw", sslmode="require"), min_size=0, max_size=1)
    assert pool.exec("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").scalar() is True
    pool.close_sync()


def test_server_restart_under_load() -> None:
    cluster = make_cluster()
    try:
        run(_restart_scenario(cluster))
    finally:
        cluster.stop()


async def _restart_scenario(cluster: Cluster) -> None:
    pool = pg.PgPool(cluster.dsn(sslmode="disable"), min_size=2, max_size=4, acquire_timeout=10)
    async with pool:
        await pool.execute("CREATE TABLE kept (v int)")
        await pool.execute("INSERT INTO kept SELECT generate_series(1, 100)")
        loop = asyncio.get_running_loop()
        inflight = [asyncio.ensure_future(pool.fetchval("SELECT pg_sleep(5)")) for _ in range(4)]
        await asyncio.sleep(0.3)
        await loop.run_in_executor(None, cluster.restart)
        results = await asyncio.wait_for(asyncio.gather(*inflight, return_exceptions=True), 30)
        for r in results:  # fail clearly: a connection error or the server's shutdown error
            assert isinstance(r, (pg.PgConnectionError, exc.AdminShutdownError)), repr(r)
        # later queries succeed on fresh connections (retry while the pool replaces them)
        deadline = loop.time() + 20
        while True:
            try:
                assert await pool.fetchval("SELECT count(*) FROM kept") == 100
                break
            except (pg.PgConnectionError, exc.AdminShutdownError, exc.CannotConnectNowError):
                assert loop.time() < deadline, "pool did not recover after the restart"
                await asyncio.sleep(0.2)
        vals = await asyncio.gather(*(pool.fetchval("SELECT $1::int", i) for i in range(50)))
        assert list(vals) == list(range(50))
        assert pool.stats().broken_replaced >= 1


def test_sync_pool_survives_restart() -> None:
    cluster = make_cluster()
    pool = pg.PgPool(cluster.dsn(sslmode="disable"), min_size=0, max_size=2)
    try:
        pool.exec("CREATE TABLE kept_sync (v int)")
        pool.exec("INSERT INTO kept_sync VALUES ($1)", 1)
        cluster.restart()
        # the idle connection was closed by the server: it is dropped, not handed out
        assert pool.exec("SELECT count(*) FROM kept_sync").scalar() == 1
        assert pool.stats().closed >= 1
    finally:
        pool.close_sync()
        cluster.stop()
