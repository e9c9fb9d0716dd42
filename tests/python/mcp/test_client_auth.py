"""fasterapi.mcp.client_auth: MCPClient.http(auth=...) against our own MCPServer with BearerAuth
(real JWT checks in C++) and a small local authorization server (a real HTTP peer on a thread:
RFC 8414 metadata, RFC 7591 registration, an auto-approving /authorize, /token that mints the
HS256 tokens BearerAuth verifies). 2025-11-25 basic/authorization.mdx."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from conftest import require_module

jwt = require_module("jwt")

from mcp_helpers import (  # noqa: E402
    free_port,
    run,
    serving,
)

from fasterapi.mcp import Context, MCPClient, MCPError, MCPServer  # noqa: E402
from fasterapi.mcp.auth import BearerAuth  # noqa: E402
from fasterapi.mcp.client_auth import (  # noqa: E402
    ClientCredentialsProvider,
    EnterpriseAuthProvider,
    JwtBearerProvider,
    OAuthClientProvider,
    OAuthError,
    OAuthToken,
    canonical_resource,
    parse_www_authenticate,
    pkce_pair,
    resource_allowed,
)

pytestmark = pytest.mark.timeout(60)
SECRET = "s3cret-for-client-auth-tests-0123456789"
REDIRECT = "http://localhost:3000/callback"


class AuthServer:
    """The authorization server: records every request in `seen` (path, query/form, headers)."""

    def __init__(self, *, auth_methods: list[str], clients: dict[str, str | None]) -> None:
        self.auth_methods = auth_methods
        self.clients = clients  # client_id -> secret (None: public)
        self.seen: list[tuple[str, dict[str, str], dict[str, str]]] = []
        self.challenges: dict[str, str] = {}
        self.resource = ""
        self.bad_iss = False
        self.lifetime = 300
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:
                u = urllib.parse.urlsplit(self.path)
                q = dict(urllib.parse.parse_qsl(u.query))
                outer.seen.append((u.path, q, dict(self.headers)))
                if u.path == "/.well-known/oauth-authorization-server":
                    return self._send(200, outer.metadata())
                if u.path == "/authorize":  # approves at once (the user said yes)
                    outer.challenges[q["client_id"]] = q["code_challenge"]
                    back = {"code": f"code-for-{q['client_id']}", "state": q["state"]}
                    back["iss"] = "https://evil.example" if outer.bad_iss else outer.issuer
                    loc = f"{q['redirect_uri']}?{urllib.parse.urlencode(back)}"
                    self.send_response(302)
                    self.send_header("Location", loc)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return None
                return self._send(404, {"error": "not_found"})

            def do_POST(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n).decode()
                if self.path == "/register":
                    doc = json.loads(raw)
                    outer.seen.append((self.path, doc, dict(self.headers)))
                    cid = f"dyn-{len(outer.clients)}"
                    method = outer.auth_methods[0]
                    secret = None if method == "none" else "dyn-secret"
                    outer.clients[cid] = secret
                    body = {"client_id": cid, "token_endpoint_auth_method": method, **doc}
                    if secret:
                        body["client_secret"] = secret
                    return self._send(201, body)
                form = dict(urllib.parse.parse_qsl(raw))
                outer.seen.append((self.path, form, dict(self.headers)))
                return self._send(*outer.token(form, self.headers.get("Authorization")))

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "registration_endpoint": f"{self.issuer}/register",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": self.auth_methods,
            "authorization_response_iss_parameter_supported": True,
        }

    def _client(self, form: dict[str, str], basic: str | None) -> str | None:
        if basic and basic.startswith("Basic "):
            cid, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
            cid, secret = urllib.parse.unquote_plus(cid), urllib.parse.unquote_plus(secret)
            return cid if "client_secret_basic" in self.auth_methods and (
                self.clients.get(cid) == secret) else None  # fmt: skip
        cid = form.get("client_id", "")
        if cid not in self.clients:
            return None
        want = self.clients[cid]
        if want is None:
            return cid if "none" in self.auth_methods else None
        ok = "client_secret_post" in self.auth_methods and form.get("client_secret") == want
        return cid if ok else None

    def token(self, form: dict[str, str], basic: str | None) -> tuple[int, dict[str, Any]]:
        cid = self._client(form, basic)
        if cid is None:
            return 401, {"error": "invalid_client"}
        grant = form.get("grant_type")
        if grant == EnterpriseAuthProvider.TOKEN_EXCHANGE:  # the IdP's side (RFC 8693)
            try:
                idt = jwt.decode(form["subject_token"], SECRET, ["HS256"], audience=cid)
            except (KeyError, jwt.InvalidTokenError):
                return 400, {"error": "invalid_grant"}
            exp = int(time.time()) + 60
            jag = jwt.encode({"sub": idt["sub"], "aud": form["audience"], "exp": exp,
                              "resource": form["resource"]}, SECRET, algorithm="HS256")  # fmt: skip
            return 200, {"access_token": jag, "issued_token_type": EnterpriseAuthProvider.ID_JAG,
                         "token_type": "N_A"}  # fmt: skip
        if grant == "authorization_code":
            digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
            challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if self.challenges.get(cid) != challenge:  # RFC 7636 §4.6
                return 400, {"error": "invalid_grant"}
        elif grant == JwtBearerProvider.GRANT:  # RFC 7523 §3: the assertion is for this AS
            try:
                jwt.decode(form.get("assertion", ""), SECRET, ["HS256"], audience=self.issuer)
            except jwt.InvalidTokenError:
                return 400, {"error": "invalid_grant"}
        elif grant not in ("refresh_token", "client_credentials"):
            return 400, {"error": "unsupported_grant_type"}
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": form.get("resource", ""), "sub": cid,
                  "scope": "mcp:tools", "iat": now, "exp": now + self.lifetime}  # fmt: skip
        access = jwt.encode(claims, SECRET, algorithm="HS256")
        return 200, {"access_token": access, "token_type": "Bearer", "expires_in": 300,
                     "refresh_token": f"refresh-{cid}", "scope": "mcp:tools"}  # fmt: skip

    def requests(self, path: str) -> list[dict[str, str]]:
        return [q for p, q, _ in self.seen if p == path]


@contextmanager
def auth_server(**kw: Any) -> Iterator[AuthServer]:
    a = AuthServer(**kw)
    t = threading.Thread(target=a.httpd.serve_forever, daemon=True)
    t.start()
    try:
        yield a
    finally:
        a.httpd.shutdown()
        a.httpd.server_close()


class Browser:
    """The user agent: follows the authorization URL, reads the redirect's parameters."""

    def __init__(self) -> None:
        self.location = ""

    async def redirect(self, url: str) -> None:
        async with httpx.AsyncClient(follow_redirects=False) as http:
            self.location = (await http.get(url)).headers["location"]

    async def callback(self) -> tuple[str, str | None, str | None]:
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.location).query))
        return q["code"], q.get("state"), q.get("iss")


def guarded(a: AuthServer, port: int, **kw: Any) -> MCPServer:
    resource = f"http://127.0.0.1:{port}/mcp"
    a.resource = resource
    auth = BearerAuth(issuer=a.issuer, audience=resource, secret=SECRET,
                      required_scopes=["mcp:tools"], **kw)  # fmt: skip
    server = MCPServer(name="guarded", auth=auth, authorization_servers=[a.issuer])

    @server.tool()
    async def whoami(ctx: Context) -> str:
        claims = ctx.claims or {}
        return f"{claims.get('sub')} {claims.get('scope')}"

    return server


def code_flow(a: AuthServer, url: str, **kw: Any) -> OAuthClientProvider:
    b = Browser()
    meta = {"client_name": "t", "redirect_uris": [REDIRECT]}
    return OAuthClientProvider(url, meta, redirect_handler=b.redirect, callback_handler=b.callback,
                               **kw)  # fmt: skip


def test_authorization_code_flow_with_dynamic_registration() -> None:
    port = free_port()

    async def main() -> None:
        with auth_server(auth_methods=["none"], clients={}) as a:
            async with serving(guarded(a, port), port) as url:
                provider = code_flow(a, url)
                async with MCPClient.http(url, auth=provider) as c:
                    out = await c.call_tool("whoami", {})
                    assert out["content"][0]["text"] == "dyn-0 mcp:tools"
            (reg,) = a.requests("/register")
            assert reg["redirect_uris"] == [REDIRECT] and reg["application_type"] == "native"
            (authz,) = a.requests("/authorize")
            # RFC 8707 resource = the server's canonical URI; scope from the 401 challenge.
            assert authz["resource"] == url and authz["scope"] == "mcp:tools"
            assert authz["code_challenge_method"] == "S256"
            (tok,) = a.requests("/token")
            assert tok["resource"] == url and tok["client_id"] == "dyn-0"
            assert "client_secret" not in tok

    run(main())


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_preregistered_client_uses_the_servers_auth_method(method: str) -> None:
    port = free_port()

    async def main() -> None:
        with auth_server(auth_methods=[method], clients={"app:1": "p@ss word"}) as a:
            async with serving(guarded(a, port), port) as url:
                provider = code_flow(a, url, client_id="app:1", client_secret="p@ss word")
                async with MCPClient.http(url, auth=provider) as c:
                    out = await c.call_tool("whoami", {})
                    assert out["content"][0]["text"] == "app:1 mcp:tools"
            assert a.requests("/register") == []
            (tok,) = [h for p, _, h in a.seen if p == "/token"]
            assert ("Authorization" in tok) == (method == "client_secret_basic")

    run(main())


def test_client_credentials_and_refresh() -> None:
    port = free_port()

    async def main() -> None:
        with auth_server(auth_methods=["client_secret_basic"], clients={"svc": "sek"}) as a:
            async with serving(guarded(a, port), port) as url:
                provider = ClientCredentialsProvider(url, "svc", client_secret="sek")
                async with MCPClient.http(url, auth=provider) as c:
                    out = await c.call_tool("whoami", {})
                    assert out["content"][0]["text"] == "svc mcp:tools"
                assert a.requests("/token")[0]["grant_type"] == "client_credentials"
                # An expired token with a refresh token: refreshed before the next session.
                old = await provider.storage.get_tokens()
                assert old is not None
                old.obtained_at -= 3600
                async with MCPClient.http(url, auth=provider) as c:
                    await c.list_tools()
                assert a.requests("/token")[-1]["grant_type"] == "refresh_token"
                assert a.requests("/token")[-1]["refresh_token"] == "refresh-svc"

    run(main())


def test_refusals_surface_as_errors() -> None:
    port = free_port()

    async def main() -> None:
        with auth_server(auth_methods=["none"], clients={}) as a:
            async with serving(guarded(a, port), port) as url:
                # RFC 9207: an iss in the redirect that is not the issuer: mix-up, refused.
                a.bad_iss = True
                with pytest.raises(MCPError, match="iss"):
                    async with MCPClient.http(url, auth=code_flow(a, url)):
                        pass
                # No redirect handler: the flow cannot run; no request reaches /authorize.
                a.seen.clear()
                with pytest.raises(MCPError, match="redirect_handler"):
                    async with MCPClient.http(url, auth=OAuthClientProvider(url, {})):
                        pass
                assert a.requests("/authorize") == []
                # Wrong client secret: the token endpoint's invalid_client is reported.
                provider = ClientCredentialsProvider(url, "svc", client_secret="nope")
                with pytest.raises(MCPError, match="invalid_client"):
                    async with MCPClient.http(url, auth=provider):
                        pass

    run(main())


def test_helpers() -> None:
    ch = parse_www_authenticate(
        'Bearer error="insufficient_scope", scope="a b", resource_metadata="http://x/.wk"'
    )
    assert ch == {
        "error": "insufficient_scope",
        "scope": "a b",
        "resource_metadata": "http://x/.wk",
    }
    assert parse_www_authenticate("Basic realm=x") == {}
    assert parse_www_authenticate('Bearer realm="a\\"b"')["realm"] == 'a"b'
    verifier, challenge = pkce_pair()
    assert 43 <= len(verifier) <= 128
    digest = hashlib.sha256(verifier.encode()).digest()
    assert challenge == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert canonical_resource("HTTPS://Host.Example/mcp#frag") == "https://host.example/mcp"
    assert resource_allowed("https://h/mcp", "https://h/mcp")
    assert resource_allowed("https://h/mcp", "https://h/")
    assert not resource_allowed("https://h/mcp", "https://evil.example.com/mcp")
    assert not resource_allowed("https://h/mcp", "https://h/mcp2")
    assert not OAuthToken("t", expires_in=None).expired()
    assert OAuthToken("t", expires_in=10, obtained_at=0).expired()
    assert issubclass(OAuthError, Exception)


def test_a_401_mid_session_reauthorizes_and_retries() -> None:
    """The token expires while the session is open: the next request's 401 (with the server's
    challenge, from the C++ upstream) runs the flow again, the upstream gets the new header and
    the request is retried on the same session."""
    port = free_port()

    async def main() -> None:
        with auth_server(auth_methods=["none"], clients={}) as a:
            server = guarded(a, port, leeway=0, verified_cache_ttl=0)
            async with serving(server, port) as url:
                a.lifetime = 2
                async with MCPClient.http(url, auth=code_flow(a, url)) as c:
                    sid = c.session_id
                    a.lifetime = 300
                    await asyncio.sleep(3.2)
                    out = await c.call_tool("whoami", {})
                    assert out["content"][0]["text"] == "dyn-0 mcp:tools"
                    assert c.session_id == sid
            assert len(a.requests("/authorize")) == 2

    run(main())


def test_a_new_authorization_server_gets_a_new_registration() -> None:
    """SEP-2352: the client registered at one authorization server is not presented to
    another; the PRM naming a new issuer means registering again."""

    async def main() -> None:
        with auth_server(auth_methods=["none"], clients={}) as a1:
            with auth_server(auth_methods=["none"], clients={}) as a2:
                provider = code_flow(a1, "http://127.0.0.1:1/mcp")
                async with httpx.AsyncClient() as http:
                    for a in (a1, a1, a2):
                        provider.issuer, provider.as_metadata = a.issuer, a.metadata()
                        await provider._client(http)
                assert len(a1.requests("/register")) == 1
                assert len(a2.requests("/register")) == 1

    run(main())


def test_jwt_bearer_grant_for_a_workload() -> None:
    port = free_port()

    async def main() -> None:
        with auth_server(auth_methods=["none"], clients={"wl": None}) as a:
            async with serving(guarded(a, port), port) as url:
                now = int(time.time())
                good = jwt.encode({"iss": "k8s", "sub": "wl", "aud": a.issuer, "exp": now + 60},
                                  SECRET, algorithm="HS256")  # fmt: skip
                async with MCPClient.http(url, auth=JwtBearerProvider(url, "wl", good)) as c:
                    out = await c.call_tool("whoami", {})
                    assert out["content"][0]["text"] == "wl mcp:tools"
                (tok,) = a.requests("/token")
                assert tok["grant_type"] == JwtBearerProvider.GRANT and tok["assertion"] == good
                # An assertion for another audience: invalid_grant, raised, not retried.
                bad = jwt.encode({"sub": "wl", "aud": "https://elsewhere", "exp": now + 60},
                                 SECRET, algorithm="HS256")  # fmt: skip
                with pytest.raises(MCPError, match="invalid_grant"):
                    async with MCPClient.http(url, auth=JwtBearerProvider(url, "wl", bad)):
                        pass
                assert len(a.requests("/token")) == 2

    run(main())


def test_enterprise_managed_authorization() -> None:
    """SEP-990: ID token -> (token exchange at the IdP) ID-JAG -> (jwt-bearer) access token.
    The fixture plays both the IdP and the MCP server's authorization server."""
    port = free_port()

    async def main() -> None:
        methods = ["client_secret_basic", "none"]
        with auth_server(auth_methods=methods, clients={"app": "s", "idp-app": None}) as a:
            async with serving(guarded(a, port), port) as url:
                now = int(time.time())
                id_token = jwt.encode({"sub": "alice", "aud": "idp-app", "exp": now + 60},
                                      SECRET, algorithm="HS256")  # fmt: skip
                provider = EnterpriseAuthProvider(
                    url, "app", client_secret="s", idp_token_endpoint=f"{a.issuer}/token",
                    idp_client_id="idp-app", id_token=id_token,
                )  # fmt: skip
                async with MCPClient.http(url, auth=provider) as c:
                    out = await c.call_tool("whoami", {})
                    assert out["content"][0]["text"] == "app mcp:tools"
                exchange, grant = a.requests("/token")
                assert exchange["grant_type"] == EnterpriseAuthProvider.TOKEN_EXCHANGE
                assert exchange["audience"] == a.issuer and exchange["resource"] == url
                assert exchange["requested_token_type"] == EnterpriseAuthProvider.ID_JAG
                assert grant["grant_type"] == JwtBearerProvider.GRANT
                assert jwt.decode(grant["assertion"], SECRET, ["HS256"], audience=a.issuer)

    run(main())


def test_parse_www_authenticate_never_raises_and_round_trips() -> None:
    """The challenge comes from the server: any text gives a dict, never an exception; a
    quoted-string with escapes comes back as it was (RFC 9110 §5.6.4)."""
    hypothesis = require_module("hypothesis")
    st = hypothesis.strategies

    @hypothesis.given(st.text(max_size=300))
    @hypothesis.settings(max_examples=300, deadline=None)
    def any_text(value: str) -> None:
        assert isinstance(parse_www_authenticate(value), dict)

    @hypothesis.given(
        st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=40)
    )
    @hypothesis.settings(max_examples=300, deadline=None)
    def quoted(value: str) -> None:
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        got = parse_www_authenticate(f'Bearer scope="{escaped}", error="x"')
        assert got["scope"] == value and got["error"] == "x"

    any_text()
    quoted()
