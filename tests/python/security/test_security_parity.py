"""fasterapi.security answers as FastAPI 0.165's: the same app on both, each request compared on
status, body and WWW-Authenticate; OpenAPI securitySchemes and operation security too. (No
`from __future__ import annotations`: the handlers are defined inside a function.)"""

import base64
from typing import Annotated, Any

import pytest
from fastapi_parity import both, request_body, same


def security_app(fw: Any) -> Any:
    sec = __import__(f"{fw.__name__}.security", fromlist=["x"])
    Depends, Security = fw.Depends, fw.Security
    app = fw.FastAPI()
    basic = sec.HTTPBasic()
    basic_realm = sec.HTTPBasic(realm="staff", scheme_name="StaffBasic")
    basic_opt = sec.HTTPBasic(auto_error=False, scheme_name="BasicOpt")
    bearer = sec.HTTPBearer(bearerFormat="JWT", description="a JWT")
    bearer_opt = sec.HTTPBearer(auto_error=False, scheme_name="BearerOpt")
    digest = sec.HTTPDigest()
    key_header = sec.APIKeyHeader(name="X-Key")
    key_query = sec.APIKeyQuery(name="key", auto_error=False)
    key_cookie = sec.APIKeyCookie(name="session")
    password = sec.OAuth2PasswordBearer(
        tokenUrl="token", scopes={"me": "Read me.", "items": "Read items."}, refreshUrl="refresh"
    )
    code = sec.OAuth2AuthorizationCodeBearer(
        authorizationUrl="auth", tokenUrl="tok", auto_error=False
    )
    oidc = sec.OpenIdConnect(
        openIdConnectUrl="https://example.com/.well-known/openid-configuration"
    )

    @app.get("/basic")
    def r_basic(c: Annotated[sec.HTTPBasicCredentials, Depends(basic)]) -> dict[str, str]:
        return {"user": c.username, "password": c.password}

    @app.get("/basic-realm")
    def r_basic_realm(c: Annotated[sec.HTTPBasicCredentials, Depends(basic_realm)]) -> str:
        return c.username

    @app.get("/basic-opt")
    def r_basic_opt(c: Annotated[Any, Depends(basic_opt)]) -> Any:
        return {"user": c and c.username}  # a dict: a bare None renders differently (not ours)

    @app.get("/bearer")
    def r_bearer(c: Annotated[sec.HTTPAuthorizationCredentials, Depends(bearer)]) -> Any:
        return {"scheme": c.scheme, "credentials": c.credentials}

    @app.get("/bearer-opt")
    def r_bearer_opt(c: Annotated[Any, Depends(bearer_opt)]) -> Any:
        return {"credentials": c and c.credentials}

    @app.get("/digest")
    def r_digest(c: Annotated[sec.HTTPAuthorizationCredentials, Depends(digest)]) -> Any:
        return c.credentials

    @app.get("/keys")
    def r_keys(
        h: Annotated[str, Depends(key_header)],
        q: Annotated[str | None, Depends(key_query)],
        c: Annotated[str, Depends(key_cookie)],
    ) -> Any:
        return [h, q, c]

    def current_user(scopes: sec.SecurityScopes, token: Annotated[str, Depends(password)]) -> Any:
        return {"token": token, "scopes": scopes.scopes, "scope_str": scopes.scope_str}

    def active_user(u: Annotated[Any, Security(current_user, scopes=["me"])]) -> Any:
        return u

    @app.get("/me")
    def r_me(u: Annotated[Any, Security(active_user, scopes=["items"])]) -> Any:
        return u

    @app.get("/code")
    def r_code(t: Annotated[Any, Depends(code)]) -> Any:
        return {"token": t}

    @app.get("/oidc")
    def r_oidc(t: Annotated[str, Depends(oidc)]) -> Any:
        return t

    @app.post("/token")
    def r_token(form: Annotated[sec.OAuth2PasswordRequestForm, Depends()]) -> Any:
        return [form.username, form.password, form.scopes, form.grant_type, form.client_id]

    @app.post("/token-strict")
    def r_token_strict(form: Annotated[sec.OAuth2PasswordRequestFormStrict, Depends()]) -> Any:
        return [form.username, form.grant_type]

    return app


@pytest.fixture(scope="module")
def clients() -> Any:
    with both(security_app) as pair:
        yield pair


def basic_auth(raw: bytes) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


@pytest.mark.parametrize(
    "url,headers",
    [
        ("/basic", {}),
        ("/basic", basic_auth(b"ann:s3:cret")),
        ("/basic", basic_auth(b"no-colon")),
        ("/basic", {"Authorization": "Basic %%%"}),
        ("/basic", {"Authorization": "Bearer abc"}),
        ("/basic", basic_auth("jörg:x".encode())),
        ("/basic-realm", {}),
        ("/basic-opt", {}),
        ("/basic-opt", {"Authorization": "Basic !!"}),
        ("/basic-opt", basic_auth(b"a:b")),
        ("/bearer", {}),
        ("/bearer", {"Authorization": "Bearer"}),
        ("/bearer", {"Authorization": "Bearer  tok en"}),
        ("/bearer", {"Authorization": "bearer tok"}),
        ("/bearer", {"Authorization": "Basic tok"}),
        ("/bearer-opt", {}),
        ("/bearer-opt", {"Authorization": "Basic tok"}),
        ("/digest", {"Authorization": "Digest username=x"}),
        ("/digest", {"Authorization": "Bearer x"}),
        ("/keys", {}),
        ("/keys", {"X-Key": "h", "Cookie": "session=c"}),
        ("/keys?key=q", {"x-key": "h", "Cookie": "session=c"}),
        ("/keys", {"X-Key": "", "Cookie": "session=c"}),
        ("/me", {}),
        ("/me", {"Authorization": "Bearer t1"}),
        ("/me", {"Authorization": "Token t1"}),
        ("/code", {}),
        ("/code", {"Authorization": "Bearer c"}),
        ("/oidc", {}),
        ("/oidc", {"Authorization": "Anything goes"}),
    ],
)
def test_answers(clients: Any, url: str, headers: dict[str, str]) -> None:
    ref, ours = clients
    same(ref, ours, "GET", url, headers=headers)


def test_security_scopes_accumulate_outer_first(clients: Any) -> None:
    ref, ours = clients
    _, body, _ = same(ref, ours, "GET", "/me", headers={"Authorization": "Bearer t"})
    assert body == {"token": "t", "scopes": ["items", "me"], "scope_str": "items me"}


@pytest.mark.parametrize(
    "data",
    [
        {"username": "u", "password": "p"},
        {"username": "u", "password": "p", "scope": "me  items", "client_id": "c"},
        {"username": "u", "password": "p", "grant_type": "password"},
        {"username": "u", "password": "p", "grant_type": "refresh_token"},
        {"username": "u"},
        {},
    ],
)
def test_password_request_forms(clients: Any, data: dict[str, str]) -> None:
    ref, ours = clients
    same(ref, ours, "POST", "/token", data=data)
    same(ref, ours, "POST", "/token-strict", data=data)


def test_openapi_security(clients: Any) -> None:
    ref, ours = clients
    a = ref.get("/openapi.json").json()
    b = ours.get("/openapi.json").json()
    assert b["components"]["securitySchemes"] == a["components"]["securitySchemes"]
    for path, item in a["paths"].items():
        for method, op in item.items():
            assert b["paths"][path][method].get("security") == op.get("security"), path
            if "requestBody" in op:
                assert request_body(b, path, method) == request_body(a, path, method), path
