"""`app.frontend(path, directory=...)` (FastAPI's static frontend builds): files served where
no route matched, directory index redirects, the 404.html / index.html fallbacks for
single-page apps, and the directory checks at startup."""

from __future__ import annotations

from pathlib import Path

import pytest

from fasterapi import FastAPI
from fasterapi.testing import TestClient

HTML = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}


def build(tmp_path: Path, *, not_found: bool = False) -> Path:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<p>spa</p>")
    (dist / "assets" / "app.js").write_text("console.log(1)")
    (dist / "guide").mkdir()
    (dist / "guide" / "index.html").write_text("<p>guide</p>")
    if not_found:
        (dist / "404.html").write_text("<p>missing</p>")
    return dist


def test_files_routes_first_and_spa_fallback(tmp_path: Path) -> None:
    app = FastAPI()

    @app.get("/api/hello")
    def hello() -> dict[str, str]:
        return {"hello": "world"}

    @app.post("/assets/app.js")
    def shadow() -> dict[str, bool]:
        return {"route": True}

    app.frontend("/", directory=build(tmp_path))
    with TestClient(app, follow_redirects=False) as c:
        assert c.get("/api/hello").json() == {"hello": "world"}  # routes win
        r = c.get("/")
        assert (r.status_code, r.text) == (200, "<p>spa</p>")
        assert r.headers["content-type"].startswith("text/html")
        r = c.get("/assets/app.js")
        assert (r.status_code, r.text) == (200, "console.log(1)")
        assert c.post("/assets/app.js").json() == {"route": True}
        r = c.get("/guide?x=1")  # a directory: redirected to its URL with a slash
        assert r.status_code == 307 and r.headers["location"].endswith("/guide/?x=1")
        assert c.get("/guide/").text == "<p>guide</p>"
        r = c.get("/some/client/route", headers=HTML)  # a browser navigation: the SPA
        assert (r.status_code, r.text) == (200, "<p>spa</p>")
        json_accept = {"Accept": "application/json"}
        assert c.get("/some/client/route", headers=json_accept).status_code == 404
        assert c.get("/x", headers={"Accept": "text/html;q=0"}).status_code == 404
        assert c.delete("/assets/app.js").status_code == 405
        assert c.delete("/nothing").status_code == 404
        assert c.get("/../etc/passwd").status_code == 404


def test_404_html_is_the_fallback_when_present(tmp_path: Path) -> None:
    app = FastAPI()
    app.frontend("/app", directory=build(tmp_path, not_found=True))
    with TestClient(app) as c:
        r = c.get("/app/nope", headers=HTML)
        assert (r.status_code, r.text) == (404, "<p>missing</p>")
        assert c.get("/app/assets/app.js").text == "console.log(1)"
        assert c.get("/elsewhere", headers=HTML).status_code == 404  # not under /app


def test_directory_checks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = FastAPI()
    with pytest.raises(RuntimeError, match="Frontend directory 'missing' does not exist"):
        app.frontend("/", directory="missing")
    app.frontend("/", directory="missing", check_dir=False)  # served later, when built
    monkeypatch.setenv("FASTAPI_ENV", "development")
    with pytest.warns(UserWarning, match="does not exist"):
        app.frontend("/", directory="missing")
    with pytest.raises(RuntimeError, match=r"fallback file '404\.html'"):
        FastAPI().frontend("/", directory=build(tmp_path), fallback="404.html", check_dir=True)
    with pytest.raises(ValueError):
        FastAPI().frontend("/", directory=tmp_path, fallback="other.html")  # type: ignore[arg-type]
