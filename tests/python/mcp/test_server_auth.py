"""MCPServer(auth=BearerAuth(...)): every Streamable HTTP request's bearer token verified in C++
before dispatch (2025-11-25 basic/authorization.mdx), with real tokens signed by pyjwt; the
RFC 9728 metadata served; the official SDK client with a bearer header; claims in ctx."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import require_module

jwt = require_module("jwt")
mcp = require_module("mcp")
httpx2 = require_module("httpx2")

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402
from mcp_helpers import ACCEPT, INIT, free_port, run, serving  # noqa: E402

from fasterapi.mcp import Context, MCPServer  # noqa: E402
from fasterapi.mcp.auth import BearerAuth  # noqa: E402
from mcp import Client  # noqa: E402

pytestmark = pytest.mark.timeout(60)

ISSUER = "https://auth.example.com"
SECRET = "s3cret-for-tests-only-0123456789abcdef"


def make_server(auth: BearerAuth) -> MCPServer:
    server = MCPServer(name="guarded", auth=auth)

    @server.tool()
    async def whoami(ctx: Context) -> str:
        claims = ctx.claims or {}
        return f"{claims.get('sub')} {claims.get('scope')}"

    return server


def token(resource: str, key: Any = SECRET, alg: str = "HS256", **over: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER, "aud": resource, "sub": "alice", "scope": "mcp:tools",
        "iat": now, "exp": now + 300,
    }
    claims.update(over)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, key, algorithm=alg)


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def bearer(tok: str) -> dict[str, str]:
    return {**ACCEPT, "Authorization": f"Bearer {tok}"}


def test_tokens_are_checked_before_dispatch() -> None:
    port = free_port()
    resource = f"http://127.0.0.1:{port}/mcp"
    auth = BearerAuth(
        issuer=ISSUER, audience=resource, secret=SECRET, required_scopes=["mcp:tools"]
    )

    async def main() -> None:
        async with serving(make_server(auth), port) as url, httpx.AsyncClient(timeout=10) as http:
            # No token: 401 and a challenge naming the metadata, without an error code.
            r = await http.post(url, json=INIT, headers=ACCEPT)
            assert r.status_code == 401
            challenge = r.headers["www-authenticate"]
            meta_url = f"http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp"
            assert challenge.startswith(f'Bearer resource_metadata="{meta_url}"')
            assert "error=" not in challenge and 'scope="mcp:tools"' in challenge
            # The metadata document (RFC 9728), at the suffixed and the bare well-known path.
            for path in ("/.well-known/oauth-protected-resource/mcp",
                         "/.well-known/oauth-protected-resource"):
                doc = (await http.get(f"http://127.0.0.1:{port}{path}")).json()
                assert doc["resource"] == resource
                assert doc["authorization_servers"] == [ISSUER]
            now = int(time.time())
            refused = {
                "expired": token(resource, exp=now - 120, iat=now - 400),
                "not_yet_valid": token(resource, nbf=now + 600),
                "wrong_audience": token("https://other.example.com/mcp"),
                "wrong_issuer": token(resource, iss="https://evil.example.com"),
                "bad_signature": token(resource, key="another-secret-0123456789abcdef0123"),
                "alg_none": jwt.encode({"iss": ISSUER, "aud": resource, "sub": "a",
                                        "exp": now + 300}, None, algorithm="none"),
                "garbage": "not.a.jwt",
            }
            for why, tok in refused.items():
                r = await http.post(url, json=INIT, headers=bearer(tok))
                assert r.status_code == 401, why
                assert 'error="invalid_token"' in r.headers["www-authenticate"], why
            # A valid token lacking the scope: 403 insufficient_scope naming it.
            r = await http.post(url, json=INIT, headers=bearer(token(resource, scope="other")))
            assert r.status_code == 403
            assert 'error="insufficient_scope"' in r.headers["www-authenticate"]
            assert 'scope="mcp:tools"' in r.headers["www-authenticate"]
            # A good token opens a session; the session is alice's only.
            r = await http.post(url, json=INIT, headers=bearer(token(resource)))
            assert r.status_code == 200
            sid = r.headers["mcp-session-id"]
            ping = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
            mine = {**bearer(token(resource)), "Mcp-Session-Id": sid}
            ok = await http.post(url, json=ping, headers=mine)
            assert ok.status_code == 200
            bob = bearer(token(resource, sub="bob"))
            stolen = await http.post(url, json=ping, headers={**bob, "Mcp-Session-Id": sid})
            assert stolen.status_code == 404

    run(main())


def test_rs256_server_refuses_hs256_signed_with_its_public_key(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (tmp_path / "pub.pem").write_bytes(public_pem)
    port = free_port()
    resource = f"http://127.0.0.1:{port}/mcp"
    auth = BearerAuth(issuer=ISSUER, audience=resource, public_key_file=tmp_path / "pub.pem")

    async def main() -> None:
        async with serving(make_server(auth), port) as url, httpx.AsyncClient(timeout=10) as http:
            good = token(resource, key=key, alg="RS256")
            assert (await http.post(url, json=INIT, headers=bearer(good))).status_code == 200
            # Algorithm confusion: HS256 with the public key as the HMAC secret (pyjwt refuses
            # to sign that, so the token is put together by hand).
            claims = {"iss": ISSUER, "aud": resource, "sub": "x", "exp": int(time.time()) + 300}
            head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
            body = b64url(json.dumps(claims).encode())
            mac = hmac.new(public_pem, f"{head}.{body}".encode(), hashlib.sha256).digest()
            forged = f"{head}.{body}.{b64url(mac)}"
            r = await http.post(url, json=INIT, headers=bearer(forged))
            assert r.status_code == 401

    run(main())


def test_official_client_with_a_bearer_header_and_claims_in_ctx() -> None:
    port = free_port()
    resource = f"http://127.0.0.1:{port}/mcp"
    auth = BearerAuth(issuer=ISSUER, audience=resource, secret=SECRET)

    async def main() -> None:
        async with serving(make_server(auth), port) as url:
            headers = {"Authorization": f"Bearer {token(resource)}"}
            async with httpx2.AsyncClient(headers=headers) as http, Client(
                streamable_http_client(url, http_client=http), mode="legacy"
            ) as client:
                result = await client.call_tool("whoami", {})
                assert result.content[0].text == "alice mcp:tools"

    run(main())
