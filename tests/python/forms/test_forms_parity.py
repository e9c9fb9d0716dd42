"""Form(), File(), UploadFile and form models answer as FastAPI 0.165 does: the same app is
served by both and every request is compared on status and body. (No `from __future__ import
annotations`: the handlers are defined inside a function, their annotations must be live.)"""

from typing import Annotated, Any

import pytest
from fastapi_parity import both, request_body, same
from pydantic import BaseModel, ConfigDict


def forms_app(fw: Any) -> Any:
    File, Form, UploadFile = fw.File, fw.Form, fw.UploadFile
    app = fw.FastAPI()

    @app.post("/bytes/")
    async def file_bytes(file: Annotated[bytes, File()]) -> dict[str, Any]:
        return {"size": len(file), "head": file[:8].decode("latin-1")}

    @app.post("/upload/")
    async def upload(file: UploadFile) -> dict[str, Any]:
        data = await file.read()
        await file.seek(0)
        again = await file.read(3)
        return {
            "filename": file.filename,
            "content_type": file.content_type,
            "size": file.size,
            "data": data.decode("latin-1"),
            "again": again.decode("latin-1"),
            "x": file.headers.get("x-custom"),
        }

    @app.post("/many/")
    async def many(files: list[UploadFile]) -> list[Any]:
        return [[f.filename, len(await f.read())] for f in files]

    @app.post("/many-bytes/")
    async def many_bytes(files: Annotated[list[bytes], File()]) -> list[int]:
        return [len(f) for f in files]

    @app.post("/optional/")
    async def optional(file: UploadFile | None = None) -> dict[str, Any]:
        return {"filename": file.filename if file else None}

    @app.post("/described/")
    async def described(
        file: Annotated[UploadFile, File(description="A file read as UploadFile")],
    ) -> dict[str, Any]:
        return {"filename": file.filename}

    @app.post("/mixed/")
    async def mixed(
        token: Annotated[str, Form()],
        count: Annotated[int, Form()],
        file: Annotated[bytes, File()],
        note: Annotated[str, Form()] = "none",
    ) -> dict[str, Any]:
        return {"token": token, "count": count, "size": len(file), "note": note}

    @app.post("/login/")
    async def login(
        username: Annotated[str, Form()], password: Annotated[str, Form(min_length=3)]
    ) -> dict[str, str]:
        return {"username": username}

    @app.post("/tags/")
    async def tags(tag: Annotated[list[str], Form()]) -> dict[str, Any]:
        return {"tags": tag}

    class Login(BaseModel):
        username: str
        password: str
        remember: bool = False
        model_config = ConfigDict(extra="forbid")

    @app.post("/model/")
    async def model(data: Annotated[Login, Form()]) -> Login:
        return data

    return app


@pytest.fixture(scope="module")
def clients() -> Any:
    with both(forms_app) as pair:
        yield pair


def test_bytes_file(clients: Any) -> None:
    ref, ours = clients
    status, body, _ = same(
        ref, ours, "POST", "/bytes/", files={"file": ("a.bin", b"\x00\r\n--x" * 100)}
    )
    assert status == 200 and body["size"] == 600


def test_upload_file_attributes(clients: Any) -> None:
    ref, ours = clients
    files = {"file": ("réport.txt", b"hello world", "text/plain")}
    status, body, _ = same(ref, ours, "POST", "/upload/", files=files)
    assert status == 200
    assert body["filename"] == "réport.txt" and body["size"] == 11 and body["again"] == "hel"


def test_upload_file_custom_part_header(clients: Any) -> None:
    ref, ours = clients
    body = (
        b'--B\r\nContent-Disposition: form-data; name="file"; filename="x.csv"\r\n'
        b"Content-Type: text/csv\r\nX-Custom: 42\r\n\r\na,b\r\n1,2\r\n--B--\r\n"
    )
    headers = {"content-type": "multipart/form-data; boundary=B"}
    status, got, _ = same(ref, ours, "POST", "/upload/", content=body, headers=headers)
    assert status == 200 and got["x"] == "42" and got["data"] == "a,b\r\n1,2"


def test_filename_escapes(clients: Any) -> None:
    ref, ours = clients
    headers = {"content-type": "multipart/form-data; boundary=B"}
    for disposition in (
        rb'form-data; name="file"; filename="C:\dir\a.txt"',  # IE's full path: "a.txt"
        rb'form-data; name="file"; filename="x\y.txt"',  # a backslash in a name: kept
        rb'form-data; name="file"; filename="q\"uote.txt"',
    ):
        body = b"--B\r\nContent-Disposition: " + disposition + b"\r\n\r\nx\r\n--B--\r\n"
        same(ref, ours, "POST", "/upload/", content=body, headers=headers)


def test_rfc8187_filename_is_accepted(clients: Any) -> None:
    """RFC 7578 §4.2 tells senders not to use `filename*`; we decode it when one does
    (FastAPI's parser ignores it and sees a field: a documented difference)."""
    _, ours = clients
    body = (
        b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename*=UTF-8''%E2%82%AC.txt"
        b"\r\n\r\nx\r\n--B--\r\n"
    )
    r = ours.post(
        "/upload/", content=body, headers={"content-type": "multipart/form-data; boundary=B"}
    )
    assert r.json()["filename"] == "€.txt"


def test_several_files(clients: Any) -> None:
    ref, ours = clients
    files = [("files", ("a.txt", b"aa")), ("files", ("b.txt", b"bbb"))]
    assert same(ref, ours, "POST", "/many/", files=files)[1] == [["a.txt", 2], ["b.txt", 3]]
    assert same(ref, ours, "POST", "/many-bytes/", files=files)[1] == [2, 3]
    assert same(ref, ours, "POST", "/many/")[0] == 422


def test_missing_and_optional_files(clients: Any) -> None:
    ref, ours = clients
    status, body, _ = same(ref, ours, "POST", "/bytes/")
    assert status == 422 and body["detail"][0]["loc"] == ["body", "file"]
    assert same(ref, ours, "POST", "/optional/")[1] == {"filename": None}
    # A browser's empty file input: filename "" and no content counts as no file.
    assert same(ref, ours, "POST", "/optional/", files={"file": ("", b"")})[1] == {"filename": None}
    assert same(ref, ours, "POST", "/described/", files={"file": ("d", b"1")})[0] == 200


def test_a_field_where_a_file_is_expected(clients: Any) -> None:
    ref, ours = clients
    status, body, _ = same(
        ref, ours, "POST", "/upload/", data={"file": "text"}, files={"other": ("o", b"1")}
    )
    assert status == 422 and body["detail"][0]["type"] == "value_error"


def test_a_file_where_a_field_is_expected(clients: Any) -> None:
    ref, ours = clients
    files = {"username": ("u.txt", b"ann"), "password": (None, "secret")}
    a = ref.post("/login/", files=files).json()["detail"]
    b = ours.post("/login/", files=files).json()["detail"]
    assert ours.post("/login/", files=files).status_code == 422
    # FastAPI's `input` is its UploadFile's internals; ours names the file. The rest agrees.
    assert [{**e, "input": None} for e in b] == [{**e, "input": None} for e in a]
    assert b[0]["input"]["filename"] == "u.txt"


def test_fields_and_file_together(clients: Any) -> None:
    ref, ours = clients
    status, body, _ = same(
        ref,
        ours,
        "POST",
        "/mixed/",
        data={"token": "t", "count": "7"},
        files={"file": ("f", b"xyz")},
    )
    assert status == 200 and body == {"token": "t", "count": 7, "size": 3, "note": "none"}
    status, body, _ = same(
        ref, ours, "POST", "/mixed/", data={"token": "", "count": "x"}, files={"file": ("f", b"")}
    )
    assert status == 422 and len(body["detail"]) == 2  # "" is missing; "x" is not an int


def test_urlencoded_form(clients: Any) -> None:
    ref, ours = clients
    assert (
        same(ref, ours, "POST", "/login/", data={"username": "ann", "password": "secret"})[0] == 200
    )
    status, body, _ = same(ref, ours, "POST", "/login/", data={"username": "ann", "password": "x"})
    assert status == 422 and body["detail"][0]["type"] == "string_too_short"
    assert same(ref, ours, "POST", "/login/", data={"username": "ann"})[0] == 422
    assert same(ref, ours, "POST", "/login/", json={"username": "a", "password": "abc"})[0] == 422
    # The same fields sent as multipart are read the same way.
    fields = {"username": (None, "ann"), "password": (None, "secret")}
    assert same(ref, ours, "POST", "/login/", files=fields)[1] == {"username": "ann"}


def test_repeated_form_field(clients: Any) -> None:
    ref, ours = clients
    assert same(ref, ours, "POST", "/tags/", data={"tag": ["a", "b"]})[1] == {"tags": ["a", "b"]}
    assert same(ref, ours, "POST", "/tags/")[0] == 422


def test_form_model(clients: Any) -> None:
    ref, ours = clients
    ok = same(ref, ours, "POST", "/model/", data={"username": "u", "password": "p"})
    assert ok[1] == {"username": "u", "password": "p", "remember": False}
    status, body, _ = same(
        ref, ours, "POST", "/model/", data={"username": "u", "password": "p", "extra": "x"}
    )
    assert status == 422 and body["detail"][0]["type"] == "extra_forbidden"
    status, body, _ = same(ref, ours, "POST", "/model/", data={"username": "u"})
    assert status == 422 and body["detail"][0]["loc"] == ["body", "password"]


def test_openapi_request_bodies(clients: Any) -> None:
    ref, ours = clients
    a = ref.get("/openapi.json").json()
    b = ours.get("/openapi.json").json()
    for path in ("/bytes/", "/upload/", "/many/", "/optional/", "/mixed/", "/login/", "/tags/"):
        assert request_body(b, path) == request_body(a, path), path
    assert request_body(b, "/model/") == request_body(a, "/model/")
