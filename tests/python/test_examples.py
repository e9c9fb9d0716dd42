"""Every seed README HTTP example (examples/*.py) served and exercised."""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from fasterapi import App
from fasterapi.testing import TestClient

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def hello() -> Iterator[TestClient]:
    with TestClient(load("hello").app) as c:
        yield c


def test_hello_example(hello: TestClient) -> None:
    assert hello.get("/").json() == {"message": "Hello, World!"}
    assert hello.get("/users/123").json() == {"id": "123", "name": "John Doe"}
    assert load("hello").app.port == 8000


def test_fastapi_comparison_example() -> None:
    with TestClient(load("fastapi_style").app) as c:
        assert c.get("/items/5").json() == {"id": "5"}
        r = c.post("/items", json={"name": "Widget", "price": 9.99})
        assert r.json() == {"name": "Widget", "price": 9.99}
        assert c.post("/items", json={"name": "Widget"}).status_code == 500


def test_fastapi_typed_example() -> None:
    with TestClient(load("fastapi_typed").app) as c:
        assert c.get("/items/1").json() == {"id": 1, "name": "Hammer"}
        assert c.get("/items/99").status_code == 404
        r = c.post("/items/", json={"name": "Saw", "price": 20})
        assert (r.status_code, r.json()["id"]) == (201, 2)
        assert c.get("/items/?limit=1").json() == [{"id": 1, "name": "Hammer"}]
        assert c.get("/items/?limit=1000").status_code == 422


def test_async_dashboard_example() -> None:
    with TestClient(load("async_dashboard").app) as c:
        assert c.get("/users/7/dashboard").json() == {
            "user": {"id": "7", "name": "User 7"},
            "posts": [{"id": 1, "title": "Post 1"}],
        }


PG_ADMIN_DSN = os.environ.get("FASTERAPI_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
REQUIRE_PG = os.environ.get("FASTERAPI_REQUIRE_PG") == "1"  # CI: fail instead of skipping


@pytest.fixture
def example_db() -> Iterator[str]:
    """A fresh database with the README's users table; skipped when no server answers (a
    failure under FASTERAPI_REQUIRE_PG=1)."""
    psycopg = __import__("psycopg") if REQUIRE_PG else pytest.importorskip("psycopg")
    name = f"fa_example_{os.getpid()}"
    try:
        admin = psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as e:
        (pytest.fail if REQUIRE_PG else pytest.skip)(f"no PostgreSQL at {PG_ADMIN_DSN}: {e}")
    with admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.execute(f"CREATE DATABASE {name}")
        dsn = PG_ADMIN_DSN.rsplit("/", 1)[0] + "/" + name
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE TABLE users(id serial PRIMARY KEY, name text, email text)")
        try:
            yield dsn
        finally:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_postgres_example(example_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", example_db)
    with TestClient(load("postgres").app) as c:
        r = c.post("/users", json={"name": "Ann", "email": "ann@example.com"})
        assert r.status_code == 200, r.text
        uid = r.json()["id"]
        user = c.get(f"/users/{uid}").json()
        assert (user["id"], user["name"], user["email"]) == (uid, "Ann", "ann@example.com")


def test_access_log_off_by_default_and_on_when_asked(caplog: pytest.LogCaptureFixture) -> None:
    app = load("hello").app
    with caplog.at_level(logging.INFO, logger="fasterapi.access"), TestClient(app) as c:
        c.get("/")
    assert not [r for r in caplog.records if r.name == "fasterapi.access"]
    logged = App(access_log=True)
    logged.get("/")(lambda req, res: "x")
    with caplog.at_level(logging.INFO, logger="fasterapi.access"), TestClient(logged) as c:
        version = c.get("/?a=1").http_version  # HTTP/2 under FASTERAPI_TEST_TRANSPORT=h2c
    lines = [r.getMessage() for r in caplog.records if r.name == "fasterapi.access"]
    assert len(lines) == 1 and f'"GET /?a=1 {version}" 200' in lines[0]
