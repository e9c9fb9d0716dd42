"""StaticFiles with odd request paths: NUL bytes, encoded dot segments, very long names,
invalid UTF-8, encoded slashes. Every one is a 4xx, never a 500 (sent as raw bytes, so no
client normalises them first)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import raw_http

from fasterapi import App
from fasterapi.staticfiles import StaticFiles
from fasterapi.testing import TestClient


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("static-root")
    public = root / "public"
    public.mkdir()
    (public / "a.txt").write_text("hello")
    (public / "sub").mkdir()
    (public / "sub" / "index.html").write_text("<p>index</p>")
    (root / "secret.txt").write_text("secret")
    app = App()
    app.mount("/static", StaticFiles(directory=public))
    app.mount("/site", StaticFiles(directory=public, html=True))
    with TestClient(app) as c:
        yield c


def status_of(client: TestClient, target: bytes) -> tuple[int, bytes]:
    out = raw_http(
        client.port, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    head, _, body = out.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


ODD = [
    b"/static/%00",
    b"/static/a.txt%00",
    b"/static/a.txt%00.png",
    b"/static/%00/../a.txt",
    b"/static/%2e%2e/secret.txt",
    b"/static/%2E%2E%2Fsecret.txt",
    b"/static/..%2fsecret.txt",
    b"/static/sub/%2e%2e/%2e%2e/secret.txt",
    b"/static/%ff%fe",
    b"/static/caf%e9.txt",
    b"/static/%c0%ae%c0%ae/secret.txt",
    b"/static/" + b"a" * 300,
    b"/static/" + b"a" * 300 + b"/b.txt",
    b"/static/" + b"/".join([b"d" * 200] * 30),
    b"/static/%2fetc%2fpasswd",
    b"/static//etc/passwd",
    b"/static/a.txt/",
    b"/static/sub",
    b"/site/%00",
    b"/site/" + b"a" * 300,
]


@pytest.mark.parametrize("target", ODD, ids=lambda t: t[:40].decode("latin-1"))
def test_odd_paths_are_4xx(client: TestClient, target: bytes) -> None:
    status, body = status_of(client, target)
    assert status in (400, 404), (status, body)
    assert b"secret" not in body


def test_normal_files_still_served(client: TestClient) -> None:
    assert status_of(client, b"/static/a.txt") == (200, b"hello")
    assert status_of(client, b"/static/%61.txt") == (200, b"hello")
    assert status_of(client, b"/site/sub/")[0] == 200


def test_lookup_never_raises(tmp_path: Path) -> None:
    files = StaticFiles(directory=tmp_path)
    for rel in ["\x00", "a\x00b", "a" * 5000, "/".join(["x" * 255] * 40), "\udcff", "\ufffd"]:
        assert files.lookup(rel) is None


def test_unreadable_file_is_404_not_500(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "locked.txt").write_text("x")
    files = StaticFiles(directory=tmp_path)
    assert files.lookup("locked.txt") is not None
    # chmod 000 is no test when running as root (root reads anything): fake the refusal.
    monkeypatch.setattr("fasterapi.staticfiles.os.access", lambda path, mode: False)
    assert files.lookup("locked.txt") is None
