"""A plain `bool` parameter converts pydantic's lower-case words by lookup
(fasterapi/dependencies.py, _BOOL_WORDS); every other spelling still goes to pydantic, so
the values and the 422s are FastAPI's."""

# No `from __future__ import annotations`: the apps' annotations name the framework module.
from typing import Annotated, Any

import pytest
from fastapi_parity import answer, both
from pydantic import TypeAdapter, ValidationError

from fasterapi.dependencies import _BOOL_WORDS

SPELLINGS = [
    "true", "false", "1", "0", "yes", "no", "on", "off", "t", "f", "y", "n", "True", "FALSE",
    " yes", "yes ", "2", "", "maybe", "tru", "\uff11", "\uff54rue", "None",
]  # fmt: skip


def test_words_are_exactly_what_pydantic_accepts() -> None:
    adapter = TypeAdapter(bool)
    for word, value in _BOOL_WORDS.items():
        assert adapter.validate_python(word) is value
    for word in SPELLINGS:
        try:
            expected: Any = adapter.validate_python(word)
        except ValidationError:
            expected = "error"
        got = _BOOL_WORDS.get(word, "error" if expected == "error" else expected)
        assert got == expected, word


def make_app(fw: Any) -> Any:
    app = fw.FastAPI()

    @app.get("/flag")
    async def flag(
        verbose: bool = False,
        strict: Annotated[bool | None, fw.Query(strict=True)] = None,
        h: bool | None = fw.Header(None),
    ) -> Any:
        return {"verbose": verbose, "strict": strict, "h": h}

    return app


@pytest.fixture(scope="module")
def clients() -> Any:
    with both(make_app) as pair:
        yield pair


@pytest.mark.parametrize("word", SPELLINGS)
def test_query_and_header_bools_match_fastapi(clients: Any, word: str) -> None:
    ref, ours = clients
    sends: list[dict[str, Any]] = [{"params": {"verbose": word}}, {"params": {"strict": word}}]
    if word.isascii() and word == word.strip():  # what httpx lets through as a header value
        sends.append({"headers": {"h": word}})
    for kw in sends:
        assert answer(ours.get("/flag", **kw)) == answer(ref.get("/flag", **kw)), kw
