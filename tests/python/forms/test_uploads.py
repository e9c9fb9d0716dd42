"""Uploads on FasterAPI itself: spooling to disk past 1 MB, files closed after the response,
request.form(), limits answered 413/400 while the server keeps serving, a real curl upload."""

import shutil
import subprocess
from typing import Annotated, Any

import httpx
import pytest
from conftest import missing, transport_specific

from fasterapi import App, File, Form, Request, UploadFile
from fasterapi.testing import TestClient
from fasterapi.uploads import FormLimits

kept: list[UploadFile] = []


def make_app() -> App:
    app = App()

    @app.post("/spool")
    async def spool(file: UploadFile) -> dict[str, Any]:
        kept.append(file)
        data = await file.read()
        return {"size": file.size, "len": len(data), "on_disk": file.file._rolled}  # type: ignore[attr-defined]

    @app.post("/raw-form")
    async def raw_form(request: Request) -> dict[str, Any]:
        form = await request.form()
        up = form["file"]
        assert isinstance(up, UploadFile)
        return {"name": form["name"], "file": up.filename, "keys": sorted(form)}

    @app.post("/raw-form-ctx")
    async def raw_form_ctx(request: Request) -> dict[str, Any]:
        async with request.form() as form:
            up = form["file"]
            assert isinstance(up, UploadFile)
            kept.append(up)
            return {"data": (await up.read()).decode()}

    @app.post("/field")
    def field(note: Annotated[str, Form()], file: Annotated[bytes, File()] = b"") -> dict[str, int]:
        return {"note": len(note), "file": len(file)}

    @app.get("/ok")
    def ok() -> str:
        return "ok"

    return app


@pytest.fixture(scope="module")
def client() -> Any:
    with TestClient(make_app()) as c:
        yield c


def test_small_upload_stays_in_memory_large_one_is_spooled(client: Any) -> None:
    small = client.post("/spool", files={"file": ("s", b"x" * 1000)}).json()
    assert small == {"size": 1000, "len": 1000, "on_disk": False}
    big = client.post("/spool", files={"file": ("b", bytes(range(256)) * 8192)}).json()
    assert big == {"size": 2 * 1024 * 1024, "len": 2 * 1024 * 1024, "on_disk": True}


def test_files_are_closed_after_the_response(client: Any) -> None:
    kept.clear()
    assert client.post("/spool", files={"file": ("b", b"y" * (1 << 21))}).status_code == 200
    assert client.get("/ok").text == "ok"  # the previous exchange has finished
    assert kept and kept[0].file.closed


def test_request_form(client: Any) -> None:
    r = client.post("/raw-form", data={"name": "n"}, files={"file": ("f.txt", b"1")})
    assert r.json() == {"name": "n", "file": "f.txt", "keys": ["file", "name"]}
    kept.clear()
    assert client.post("/raw-form-ctx", files={"file": ("f", b"abc")}).json() == {"data": "abc"}
    assert kept[0].file.closed  # `async with` closed it


MP = {"content-type": "multipart/form-data; boundary=BB"}


def test_malformed_bodies_are_400_and_the_server_keeps_serving(client: Any) -> None:
    cases = [
        (b'--BB\r\nContent-Disposition: form-data; name="note"\r\n\r\nabc', "closing boundary"),
        (b"no boundary at all", "no boundary line"),
        (b"--BB\r\nContent-Type: text/plain\r\n\r\nabc\r\n--BB--", "Content-Disposition"),
        (b"--BB\r\nbroken header\r\n\r\nabc\r\n--BB--", "header line"),
    ]
    for body, reason in cases:
        r = client.post("/field", content=body, headers=MP)
        assert r.status_code == 400, body
        assert reason in r.json()["detail"], r.json()
    r = client.post("/field", content=b"x", headers={"content-type": "multipart/form-data"})
    assert r.status_code == 400 and "boundary" in r.json()["detail"]
    assert client.get("/ok").text == "ok"


def test_limits(client: Any) -> None:
    big_field = b'--BB\r\nContent-Disposition: form-data; name="note"\r\n\r\n'
    big_field += b"n" * (1024 * 1024 + 1) + b"\r\n--BB--\r\n"
    r = client.post("/field", content=big_field, headers=MP)
    assert r.status_code == 413 and "maximum field size" in r.json()["detail"]
    many = b"".join(
        b'--BB\r\nContent-Disposition: form-data; name="f%d"\r\n\r\nv\r\n' % i for i in range(1001)
    )
    r = client.post("/field", content=many + b"--BB--\r\n", headers=MP)
    assert r.status_code == 400 and "too many fields" in r.json()["detail"]
    # Exactly at the limits is fine.
    at = b'--BB\r\nContent-Disposition: form-data; name="note"\r\n\r\n' + b"n" * (1024 * 1024)
    r = client.post("/field", content=at + b"\r\n--BB--\r\n", headers=MP)
    assert r.json() == {"note": 1024 * 1024, "file": 0}
    assert client.get("/ok").text == "ok"


@transport_specific("raw TCP socket speaking HTTP/1.1 bytes to the port", only=("tls",))
def test_body_split_in_many_tcp_writes(client: Any) -> None:
    """The engine buffers the body; a body trickled in small writes parses the same."""
    body = (
        b'--BB\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n'
        b'--BB\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\n'
        + b"\r\n--B" * 300
        + b"\r\n--BB--\r\n"
    )

    def chunks() -> Any:
        for i in range(0, len(body), 7):
            yield body[i : i + 7]

    r = httpx.post(
        f"http://127.0.0.1:{client.port}/field", content=chunks(), headers=MP, timeout=30
    )
    assert r.json() == {"note": 5, "file": 5 * 300}  # "\r\n--B" is content, not a delimiter


@transport_specific("curl on an http:// URL", only=("tls",))
def test_curl_upload(client: Any, tmp_path: Any) -> None:
    curl = shutil.which("curl")
    if curl is None:
        missing("curl is not installed")
    path = tmp_path / "upload.bin"
    path.write_bytes(bytes(range(256)) * 5000)
    out = subprocess.run(
        [curl, "-sS", "-F", f"file=@{path}", f"http://127.0.0.1:{client.port}/spool"],
        capture_output=True,
        check=True,
        timeout=60,
    )
    assert out.stdout == b'{"size":1280000,"len":1280000,"on_disk":true}'


def test_upload_past_the_body_limit_is_413() -> None:
    app = App(max_body_bytes=256 * 1024)

    @app.post("/up")
    async def up(file: UploadFile) -> dict[str, Any]:
        return {"size": file.size}

    @app.get("/ok")
    def ok() -> str:
        return "ok"

    with TestClient(app) as c:
        assert c.post("/up", files={"file": ("a", b"a" * 200_000)}).json() == {"size": 200_000}
        assert c.post("/up", files={"file": ("a", b"a" * 300_000)}).status_code == 413
        assert c.get("/ok").text == "ok"


def test_app_form_limits() -> None:
    app = App(form_limits=FormLimits(max_file_size=1000, max_files=1))

    @app.post("/up")
    async def up(files: list[UploadFile]) -> dict[str, Any]:
        return {"sizes": [f.size for f in files]}

    @app.post("/raw")
    async def raw(request: Request) -> dict[str, int]:
        return {"files": len((await request.form(max_files=3)).getlist("f"))}

    with TestClient(app) as c:
        assert c.post("/up", files={"files": ("a", b"a" * 1000)}).json() == {"sizes": [1000]}
        r = c.post("/up", files={"files": ("a", b"a" * 1001)})
        assert r.status_code == 413 and "maximum file size" in r.json()["detail"]
        two = [("files", ("a", b"1")), ("files", ("b", b"2"))]
        r = c.post("/up", files=two)
        assert r.status_code == 400 and "too many files" in r.json()["detail"]
        # request.form()'s own arguments win over the app's; the rest come from the app.
        three = [("f", ("a", b"1")), ("f", ("b", b"2")), ("f", ("c", b"3"))]
        assert c.post("/raw", files=three).json() == {"files": 3}
        assert c.post("/raw", files=[("f", ("a", b"x" * 1001))]).status_code == 413
