"""The MCP authorization client (basic/authorization.mdx, 2025-11-25 and 2026-07-28).

On a 401 from the MCP server: Protected Resource Metadata (RFC 9728, from WWW-Authenticate
`resource_metadata=` or the well-known URIs), authorization server metadata (RFC 8414, OpenID
discovery, and the 2025-03-26 root/default-endpoint fallbacks), client registration (pre-registered,
a Client ID Metadata Document URL, or dynamic registration RFC 7591), then authorization code
with PKCE S256 and the `resource` parameter (RFC 8707) through the caller's redirect/callback
handlers, or the client_credentials grant for machine clients (client_secret_basic or
private_key_jwt, RFC 7523). These are one-time control-plane calls, made with httpx; the MCP
traffic itself stays on the C++ upstream, which carries the resulting Authorization header.

DPoP (RFC 9449, SEP-1932): when the authorization server advertises ES256 in
`dpop_signing_alg_values_supported` (or `dpop=True`), the client makes a P-256 key pair (C++,
src/mcp/auth/dpop.h: OpenSSL key, proofs signed by libjwt), sends a proof with its token
requests (retrying once with the server's nonce on `use_dpop_nonce`) and presents a DPoP-bound
token as `Authorization: DPoP <token>`, the C++ upstream adding a fresh proof (`ath`, the
latest `DPoP-Nonce`) to every MCP request.

The shape follows the official SDK's (an `OAuthClientProvider` with a `TokenStorage`) so code
written against it ports: `MCPClient.http(url, auth=OAuthClientProvider(...))`.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

# A probe request for the preflight: what the MCP server answers 401 to (authorization.mdx
# "Authorization Flow Steps": the client's first unauthenticated request).
_PROBE = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "fasterapi-mcp-client", "version": "0.1"},
    },
}
_AUTH_PARAM = re.compile(r'([A-Za-z_][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


class OAuthError(Exception):
    """The authorization flow cannot go on (bad metadata, a refused grant, a mismatch)."""


@dataclass
class OAuthToken:
    access_token: str
    token_type: str = "Bearer"
    expires_in: int | None = None
    refresh_token: str | None = None
    scope: str | None = None
    obtained_at: float = field(default_factory=time.time)

    def expired(self, skew: float = 30.0) -> bool:
        return (
            self.expires_in is not None and time.time() + skew >= self.obtained_at + self.expires_in
        )


@dataclass
class OAuthClientInformation:
    client_id: str
    client_secret: str | None = None
    token_endpoint_auth_method: str | None = None


class TokenStorage(Protocol):
    """Where tokens and the registered client survive between sessions (the SDK's protocol)."""

    async def get_tokens(self) -> OAuthToken | None: ...
    async def set_tokens(self, tokens: OAuthToken) -> None: ...
    async def get_client_info(self) -> OAuthClientInformation | None: ...
    async def set_client_info(self, client_info: OAuthClientInformation) -> None: ...


class InMemoryTokenStorage:
    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformation | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformation | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformation) -> None:
        self.client_info = client_info


def parse_www_authenticate(value: str) -> dict[str, str]:
    """The auth-params of a `Bearer` (RFC 6750 §3, RFC 9728 §5.1) or `DPoP` (RFC 9449 §7.1)
    challenge; {} without one."""
    m = re.search(r"(?i)\b(?:bearer|dpop)\b", value)
    if m is None:
        return {}
    rest = value[m.end() :]
    out: dict[str, str] = {}
    for k, quoted, token in _AUTH_PARAM.findall(rest):
        out.setdefault(k.lower(), re.sub(r"\\(.)", r"\1", quoted) if quoted else token)
    return out


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge), RFC 7636 §4.1-4.2."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def canonical_resource(url: str) -> str:
    """The MCP server's canonical URI (authorization.mdx "Canonical Server URI"): lower-case
    scheme and host, no fragment."""
    u = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((u.scheme.lower(), u.netloc.lower(), u.path, u.query, ""))


def _origin(url: str) -> str:
    u = urllib.parse.urlsplit(url)
    return f"{u.scheme}://{u.netloc}"


def _path(url: str) -> str:
    return urllib.parse.urlsplit(url).path.rstrip("/")


def resource_allowed(server_url: str, resource: str) -> bool:
    """RFC 9728 §3.3 / authorization.mdx: the PRM's `resource` must identify this server: same
    origin, and the server URL's path at or under the resource's path."""
    s, r = (
        urllib.parse.urlsplit(canonical_resource(server_url)),
        urllib.parse.urlsplit(canonical_resource(resource)),
    )
    if (s.scheme, s.netloc) != (r.scheme, r.netloc):
        return False
    rp = r.path.rstrip("/")
    return s.path == rp or s.path.rstrip("/") == rp or s.path.startswith(rp + "/")


def _application_type(redirect_uris: Any) -> str:
    """SEP-837 / OpenID Connect Registration §2: "native" for loopback or private-scheme
    redirects (a desktop or CLI client), else "web"."""
    for uri in redirect_uris or []:
        u = urllib.parse.urlsplit(str(uri))
        if u.scheme not in ("http", "https") or u.hostname in ("localhost", "127.0.0.1", "::1"):
            return "native"
    return "web"


RedirectHandler = Callable[[str], Awaitable[None]]
# (code, state) or (code, state, iss): iss is the RFC 9207 parameter of the redirect, if any.
CallbackHandler = Callable[
    [], Awaitable[tuple[str, str | None] | tuple[str, str | None, str | None]]
]


class OAuthClientProvider:
    """Authorization code + PKCE for a user-facing client. `client_metadata` is the RFC 7591
    registration document (needs `redirect_uris`); `redirect_handler(url)` sends the user to
    the authorization URL, `callback_handler()` returns (code, state) from the redirect.
    `client_id`/`client_secret`: pre-registered credentials; `client_metadata_url`: an HTTPS
    Client ID Metadata Document URL used as client_id when the server supports it."""

    def __init__(
        self,
        server_url: str,
        client_metadata: Mapping[str, Any] | None = None,
        storage: TokenStorage | None = None,
        redirect_handler: RedirectHandler | None = None,
        callback_handler: CallbackHandler | None = None,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        client_metadata_url: str | None = None,
        max_step_up: int = 3,
        timeout: float = 30.0,
        verify: bool | str = True,
        dpop: bool | None = None,
    ) -> None:
        self.server_url = server_url
        # DPoP: True always, False never, None when the authorization server offers ES256.
        self.dpop = dpop
        self.dpop_key: Any = None  # _native.McpDpopKey, made on first use
        self._as_nonce = ""  # the token endpoint's last DPoP-Nonce (RFC 9449 §8)
        # (key, access token) while the current token is DPoP-bound: what MCPClient hands the
        # C++ upstream, which proves possession on every request.
        self.bound: tuple[Any, str] | None = None
        self.client_metadata = dict(client_metadata or {})
        self.storage: TokenStorage = storage or InMemoryTokenStorage()
        self.redirect_handler = redirect_handler
        self.callback_handler = callback_handler
        self.preregistered = (
            OAuthClientInformation(client_id, client_secret) if client_id is not None else None
        )
        self.client_metadata_url = client_metadata_url
        self.max_step_up = max_step_up
        self.timeout = timeout
        self.verify = verify
        self.registered_at: str | None = None  # the issuer the stored client belongs to
        self.requested: list[str] = []  # scopes asked for so far (kept on step-up, SEP-2350)
        self.resource: str | None = None
        self.prm: dict[str, Any] | None = None
        self.as_metadata: dict[str, Any] = {}
        self.issuer: str | None = None

    # -- the MCPClient side -------------------------------------------------------------------

    async def authorization_header(self) -> str | None:
        """The value for Authorization, refreshing an expired token when it can."""
        tok = await self.storage.get_tokens()
        if tok is None:
            return None
        if tok.expired() and tok.refresh_token and self.as_metadata:
            try:
                tok = await self._refresh(tok)
            except OAuthError:
                return None
        if tok.token_type.lower() == "dpop" and self.dpop_key is not None:
            self.bound = (self.dpop_key, tok.access_token)
            return f"DPoP {tok.access_token}"
        self.bound = None
        return f"Bearer {tok.access_token}"

    async def preflight(self) -> str | None:
        """Probes the MCP endpoint without (or with the stored) token; on 401 or 403
        insufficient_scope runs the flow. Returns the Authorization value to send, or None."""
        header = await self.authorization_header()
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": "2025-11-25",
        }
        if header:
            headers["Authorization"] = header
        if self.bound is not None:
            key, token = self.bound
            headers["DPoP"] = key.proof("POST", self.server_url, token)
        async with self._http() as http:
            r = await http.post(self.server_url, json=_PROBE, headers=headers)
            sid = r.headers.get("mcp-session-id")
            if sid:  # the probe opened a session: end it (transports.mdx "Session Management")
                await http.delete(self.server_url, headers={**headers, "Mcp-Session-Id": sid})
        if r.status_code in (401, 403):
            await self.handle_challenge(r.status_code, r.headers.get("www-authenticate", ""))
            return await self.authorization_header()
        return header

    async def handle_challenge(self, status: int, www_authenticate: str) -> None:
        """authorization.mdx "Authorization Server Discovery" / "Scope Challenge Handling"."""
        params = parse_www_authenticate(www_authenticate)
        if status == 401 and params.get("error") == "use_dpop_nonce" and self.bound is not None:
            return  # RFC 9449 §9: the upstream keeps the nonce; the request is sent again
        if status == 403 and params.get("error") != "insufficient_scope":
            raise OAuthError(f"HTTP 403 ({params.get('error') or 'forbidden'})")
        async with self._http() as http:
            await self._discover(http, params.get("resource_metadata"))
            scope = self._select_scope(params.get("scope"))
            tok = await self._obtain(http, scope)
        await self.storage.set_tokens(tok)

    # -- discovery ------------------------------------------------------------------------------

    def _http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=self.timeout, verify=self.verify, follow_redirects=False)

    async def _get_json(self, http: httpx.AsyncClient, url: str) -> dict[str, Any] | None:
        try:
            r = await http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError:
            return None
        if r.status_code != 200:
            return None
        try:
            doc = r.json()
        except ValueError:
            return None
        return doc if isinstance(doc, dict) else None

    async def _discover(self, http: httpx.AsyncClient, resource_metadata: str | None) -> None:
        # RFC 9728 §3.1 / authorization.mdx "Protected Resource Metadata Discovery Requirements":
        # the header's URL, else the path-inserted well-known URI, else the root one.
        origin, path = _origin(self.server_url), _path(self.server_url)
        candidates = [resource_metadata] if resource_metadata else []
        if path:
            candidates.append(f"{origin}/.well-known/oauth-protected-resource{path}")
        candidates.append(f"{origin}/.well-known/oauth-protected-resource")
        prm = None
        for url in candidates:
            prm = await self._get_json(http, url)
            if prm is not None:
                break
        self.prm = prm
        if prm is not None:
            res = prm.get("resource")
            if isinstance(res, str) and not resource_allowed(self.server_url, res):
                raise OAuthError(f"protected resource metadata is for {res!r}, not this server")
            self.resource = res if isinstance(res, str) else canonical_resource(self.server_url)
            servers = prm.get("authorization_servers") or []
            if not servers or not isinstance(servers[0], str):
                raise OAuthError("protected resource metadata names no authorization server")
            self.issuer = servers[0].rstrip("/")
            meta = await self._as_metadata(http, self.issuer)
            if meta is None:
                raise OAuthError(f"no authorization server metadata for {self.issuer}")
            # RFC 8414 §3.3: the issuer in the document is the one we asked for.
            if str(meta.get("issuer", "")).rstrip("/") != self.issuer:
                raise OAuthError(f"metadata issuer {meta.get('issuer')!r} != {self.issuer!r}")
        else:
            # 2025-03-26 back-compat: the MCP server's origin is the authorization server;
            # its RFC 8414 metadata, else the default /authorize, /token, /register.
            self.resource = canonical_resource(self.server_url)
            self.issuer = origin
            meta = await self._as_metadata(http, origin) or {
                "authorization_endpoint": f"{origin}/authorize",
                "token_endpoint": f"{origin}/token",
                "registration_endpoint": f"{origin}/register",
            }
        self.as_metadata = meta

    async def _as_metadata(self, http: httpx.AsyncClient, issuer: str) -> dict[str, Any] | None:
        # authorization.mdx "Authorization Server Metadata Discovery": for an issuer with a
        # path, OAuth then OIDC path-inserted, then OIDC path-appended; else the two roots.
        origin, path = _origin(issuer), _path(issuer)
        if path:
            urls = [
                f"{origin}/.well-known/oauth-authorization-server{path}",
                f"{origin}/.well-known/openid-configuration{path}",
                f"{origin}{path}/.well-known/openid-configuration",
            ]
        else:
            urls = [
                f"{origin}/.well-known/oauth-authorization-server",
                f"{origin}/.well-known/openid-configuration",
            ]
        for url in urls:
            if (doc := await self._get_json(http, url)) is not None:
                return doc
        return None

    def _select_scope(self, challenged: str | None) -> str | None:
        """authorization.mdx "Scope Selection Strategy": the challenge's scope, else the PRM's
        scopes_supported, else none; offline_access added when the AS offers it (SEP-2207)."""
        if challenged:
            scopes = challenged.split()
        elif self.prm and isinstance(self.prm.get("scopes_supported"), list):
            scopes = [str(s) for s in self.prm["scopes_supported"]]
        else:
            scopes = []
        # Step-up keeps what was granted: the new request is the union (SEP-2350).
        scopes += [s for s in self.requested if s not in scopes and s != "offline_access"]
        self.requested = list(scopes)
        as_scopes = self.as_metadata.get("scopes_supported") or []
        grants = self.as_metadata.get("grant_types_supported") or []
        if scopes and "offline_access" in as_scopes and "refresh_token" in grants:
            if "offline_access" not in scopes:
                scopes.append("offline_access")
        return " ".join(scopes) or None

    # -- registration and grants ----------------------------------------------------------------

    async def _client(self, http: httpx.AsyncClient) -> OAuthClientInformation:
        if self.preregistered is not None:
            return self.preregistered
        # SEP-2352: a registration belongs to its authorization server; when the PRM names
        # another one, register again rather than present the old client_id there.
        stored = await self.storage.get_client_info()
        if stored is not None and self.registered_at in (None, self.issuer):
            return stored
        meta = self.as_metadata
        if self.client_metadata_url and meta.get("client_id_metadata_document_supported"):
            # authorization.mdx "Client ID Metadata Documents": the URL is the client_id.
            return OAuthClientInformation(self.client_metadata_url, None, "none")
        reg = meta.get("registration_endpoint")
        if not reg:
            raise OAuthError("no client_id: not pre-registered and no registration endpoint")
        doc = {
            "client_name": "fasterapi-mcp-client",
            "application_type": _application_type(self.client_metadata.get("redirect_uris")),
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
            **self.client_metadata,
        }
        r = await http.post(str(reg), json=doc)  # RFC 7591 §3.1
        if r.status_code not in (200, 201):
            raise OAuthError(f"client registration failed: HTTP {r.status_code} {r.text[:200]}")
        body = r.json()
        info = OAuthClientInformation(
            body["client_id"], body.get("client_secret"), body.get("token_endpoint_auth_method")
        )
        await self.storage.set_client_info(info)
        self.registered_at = self.issuer
        return info

    def _auth_method(self, client: OAuthClientInformation) -> str:
        if client.token_endpoint_auth_method:
            return client.token_endpoint_auth_method
        if client.client_secret is None:
            return "none"
        supported = self.as_metadata.get("token_endpoint_auth_methods_supported") or [
            "client_secret_basic"  # RFC 8414 §2: the default when absent
        ]
        return (
            "client_secret_post"
            if "client_secret_basic" not in supported
            else "client_secret_basic"
        )

    def _authenticate(
        self, client: OAuthClientInformation, form: dict[str, str], headers: dict[str, str]
    ) -> None:
        """token_endpoint_auth_method (RFC 7591 §2, OAuth 2.1 §2.4.1)."""
        method = self._auth_method(client)
        if method == "client_secret_basic" and client.client_secret is not None:
            # RFC 6749 §2.3.1: form-urlencode id and secret before Basic.
            q = urllib.parse.quote_plus
            raw = f"{q(client.client_id)}:{q(client.client_secret)}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(raw).decode()
        elif method == "client_secret_post" and client.client_secret is not None:
            form["client_id"] = client.client_id
            form["client_secret"] = client.client_secret
        else:
            form["client_id"] = client.client_id

    async def _token_request(
        self, http: httpx.AsyncClient, client: OAuthClientInformation, form: dict[str, str]
    ) -> OAuthToken:
        endpoint = self.as_metadata.get("token_endpoint")
        if not endpoint:
            raise OAuthError("authorization server metadata has no token_endpoint")
        headers = {"Accept": "application/json"}
        self._authenticate(client, form, headers)
        key = self._dpop_key()
        for _ in range(2):
            if key is not None:  # RFC 9449 §5: a proof for the token endpoint
                headers["DPoP"] = key.proof("POST", str(endpoint), "", self._as_nonce)
            r = await http.post(str(endpoint), data=form, headers=headers)
            try:
                body = r.json()
            except ValueError:
                body = {}
            nonce = r.headers.get("dpop-nonce")
            if key is None or not nonce:
                break
            fresh = nonce != self._as_nonce
            self._as_nonce = nonce
            # §8: a use_dpop_nonce answer is retried once with the nonce the server gave.
            if not (r.status_code == 400 and isinstance(body, dict) and fresh) or (
                body.get("error") != "use_dpop_nonce"
            ):
                break
        if r.status_code != 200 or "access_token" not in body:
            err = body.get("error") if isinstance(body, dict) else None
            raise OAuthError(f"token request failed: HTTP {r.status_code} {err or r.text[:200]}")
        expires = body.get("expires_in")
        return OAuthToken(
            access_token=str(body["access_token"]),
            token_type=str(body.get("token_type", "Bearer")),
            expires_in=int(expires) if isinstance(expires, (int, float)) else None,
            refresh_token=body.get("refresh_token"),
            scope=body.get("scope"),
        )

    async def _obtain(self, http: httpx.AsyncClient, scope: str | None) -> OAuthToken:
        if self.redirect_handler is None or self.callback_handler is None:
            raise OAuthError("authorization needs redirect_handler and callback_handler")
        client = await self._client(http)
        endpoint = self.as_metadata.get("authorization_endpoint")
        if not endpoint:
            raise OAuthError("authorization server metadata has no authorization_endpoint")
        redirect_uri = str((self.client_metadata.get("redirect_uris") or [""])[0])
        if not redirect_uri:
            raise OAuthError("client_metadata needs redirect_uris")
        verifier, challenge = pkce_pair()
        state = secrets.token_urlsafe(24)
        q: dict[str, str] = {
            "response_type": "code",
            "client_id": client.client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        if self.resource:
            q["resource"] = self.resource  # RFC 8707 §2.1
        if scope:
            q["scope"] = scope
        sep = "&" if "?" in str(endpoint) else "?"
        await self.redirect_handler(f"{endpoint}{sep}{urllib.parse.urlencode(q)}")
        answer = await self.callback_handler()
        code, got_state = answer[0], answer[1]
        iss = answer[2] if len(answer) > 2 else None
        if got_state != state:  # OAuth 2.1 §7.10 (CSRF)
            raise OAuthError("authorization response state does not match the request")
        self._check_iss(iss)
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        }
        if self.resource:
            form["resource"] = self.resource
        return await self._token_request(http, client, form)

    def _dpop_key(self) -> Any:
        """The DPoP key for token requests, or None when DPoP is not used."""
        if self.dpop is False:
            return None
        algs = self.as_metadata.get("dpop_signing_alg_values_supported")
        if self.dpop is None and not (isinstance(algs, list) and "ES256" in algs):
            return None
        if self.dpop_key is None:
            from fasterapi import _native

            self.dpop_key = _native.McpDpopKey()
        return self.dpop_key

    def _check_iss(self, iss: str | None) -> None:
        """RFC 9207 §2.4 (mix-up defence): an `iss` in the redirect is compared, by simple
        string comparison, with the recorded issuer; when the server advertises
        authorization_response_iss_parameter_supported it must be there."""
        expected = self.as_metadata.get("issuer")
        if iss is None:
            if self.as_metadata.get("authorization_response_iss_parameter_supported"):
                raise OAuthError("authorization response lacks the iss the server promised")
            return
        if iss != expected:
            raise OAuthError(f"authorization response iss {iss!r} is not the issuer {expected!r}")

    async def _refresh(self, tok: OAuthToken) -> OAuthToken:
        async with self._http() as http:
            client = await self._client(http)
            form = {"grant_type": "refresh_token", "refresh_token": str(tok.refresh_token)}
            if self.resource:
                form["resource"] = self.resource
            new = await self._token_request(http, client, form)
        if new.refresh_token is None:  # OAuth 2.1 §4.3.1: the old one stays valid
            new.refresh_token = tok.refresh_token
        await self.storage.set_tokens(new)
        return new


class ClientCredentialsProvider(OAuthClientProvider):
    """The client_credentials grant for machine clients (SEP-1046): `client_secret` with
    client_secret_basic, or `private_key_pem` with private_key_jwt (RFC 7523 §2.2)."""

    def __init__(
        self,
        server_url: str,
        client_id: str,
        *,
        client_secret: str | None = None,
        private_key_pem: str | None = None,
        signing_algorithm: str = "ES256",
        scope: str | None = None,
        storage: TokenStorage | None = None,
        **kwargs: Any,
    ) -> None:
        if (client_secret is None) == (private_key_pem is None):
            raise ValueError("give exactly one of client_secret and private_key_pem")
        super().__init__(server_url, storage=storage, client_id=client_id,
                         client_secret=client_secret, **kwargs)  # fmt: skip
        self.private_key_pem = private_key_pem
        self.signing_algorithm = signing_algorithm
        self.scope = scope

    def _authenticate(
        self, client: OAuthClientInformation, form: dict[str, str], headers: dict[str, str]
    ) -> None:
        if self.private_key_pem is None:
            return super()._authenticate(client, form, headers)
        import jwt  # PyJWT, only for private_key_jwt

        now = int(time.time())
        claims = {
            "iss": client.client_id,
            "sub": client.client_id,
            "aud": str(self.as_metadata.get("issuer") or self.issuer),  # RFC 7523 §3
            "iat": now,
            "exp": now + 300,
            "jti": secrets.token_urlsafe(16),
        }
        form["client_id"] = client.client_id
        form["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        form["client_assertion"] = jwt.encode(claims, self.private_key_pem, self.signing_algorithm)

    def _auth_method(self, client: OAuthClientInformation) -> str:
        return "client_secret_basic" if self.private_key_pem is None else "private_key_jwt"

    async def _obtain(self, http: httpx.AsyncClient, scope: str | None) -> OAuthToken:
        client = await self._client(http)
        form = {"grant_type": "client_credentials"}
        if self.scope or scope:
            form["scope"] = str(self.scope or scope)
        if self.resource:
            form["resource"] = self.resource
        return await self._token_request(http, client, form)


class JwtBearerProvider(OAuthClientProvider):
    """The RFC 7523 §2.1 jwt-bearer grant for workload identity federation (SEP-1933): the
    workload's JWT (from its platform: `assertion` is the token, or a function returning it,
    called on each authorization) is exchanged for an access token. Errors (invalid_grant,
    invalid_scope, unauthorized_client) are raised, never retried with another grant."""

    GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"

    def __init__(
        self,
        server_url: str,
        client_id: str,
        assertion: str | Callable[[], str | Awaitable[str]],
        *,
        scope: str | None = None,
        storage: TokenStorage | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(server_url, storage=storage, client_id=client_id, **kwargs)
        self.assertion = assertion
        self.scope = scope

    def _auth_method(self, client: OAuthClientInformation) -> str:
        return "none"

    async def _obtain(self, http: httpx.AsyncClient, scope: str | None) -> OAuthToken:
        client = await self._client(http)
        a = self.assertion() if callable(self.assertion) else self.assertion
        if not isinstance(a, str):
            a = await a
        form = {"grant_type": self.GRANT, "assertion": a}
        if self.scope or scope:
            form["scope"] = str(self.scope or scope)
        if self.resource:
            form["resource"] = self.resource
        return await self._token_request(http, client, form)


class EnterpriseAuthProvider(JwtBearerProvider):
    """Enterprise-managed authorization (SEP-990, "cross-app access"): the user's ID token from
    the enterprise IdP is exchanged there (RFC 8693 token exchange) for an ID-JAG, an identity
    assertion for this MCP server's authorization server, which the jwt-bearer grant (RFC 7523)
    turns into the access token. `client_id`/`client_secret`: this client at the MCP server's
    authorization server (client_secret_basic); `idp_client_id`: at the IdP."""

    TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
    ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"
    ID_JAG = "urn:ietf:params:oauth:token-type:id-jag"

    def __init__(
        self,
        server_url: str,
        client_id: str,
        *,
        idp_token_endpoint: str,
        idp_client_id: str,
        id_token: str | Callable[[], str | Awaitable[str]],
        client_secret: str | None = None,
        idp_client_secret: str | None = None,
        scope: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(server_url, client_id, id_token, scope=scope, **kwargs)
        if client_secret is not None and self.preregistered is not None:
            self.preregistered.client_secret = client_secret
        self.idp_token_endpoint = idp_token_endpoint
        self.idp_client_id = idp_client_id
        self.idp_client_secret = idp_client_secret

    def _auth_method(self, client: OAuthClientInformation) -> str:
        return "none" if client.client_secret is None else "client_secret_basic"

    async def _obtain(self, http: httpx.AsyncClient, scope: str | None) -> OAuthToken:
        subject = self.assertion() if callable(self.assertion) else self.assertion
        if not isinstance(subject, str):
            subject = await subject
        form = {
            "grant_type": self.TOKEN_EXCHANGE,
            "subject_token": subject,
            "subject_token_type": self.ID_TOKEN,
            "requested_token_type": self.ID_JAG,
            "audience": str(self.as_metadata.get("issuer") or self.issuer),
            "resource": str(self.resource or canonical_resource(self.server_url)),
            "client_id": self.idp_client_id,
        }
        if self.idp_client_secret is not None:
            form["client_secret"] = self.idp_client_secret
        if self.scope or scope:
            form["scope"] = str(self.scope or scope)
        r = await http.post(
            self.idp_token_endpoint, data=form, headers={"Accept": "application/json"}
        )
        try:
            body = r.json()
        except ValueError:
            body = {}
        jag = body.get("access_token") if isinstance(body, dict) else None
        if r.status_code != 200 or not isinstance(jag, str):
            err = body.get("error") if isinstance(body, dict) else None
            raise OAuthError(f"token exchange at the IdP failed: HTTP {r.status_code} {err}")
        if body.get("issued_token_type") not in (None, self.ID_JAG):
            raise OAuthError(f"the IdP issued {body.get('issued_token_type')!r}, not an ID-JAG")
        self.assertion = jag
        try:
            return await super()._obtain(http, scope)
        finally:
            self.assertion = subject


__all__ = [
    "ClientCredentialsProvider",
    "EnterpriseAuthProvider",
    "InMemoryTokenStorage",
    "JwtBearerProvider",
    "OAuthClientInformation",
    "OAuthClientProvider",
    "OAuthError",
    "OAuthToken",
    "TokenStorage",
    "parse_www_authenticate",
    "pkce_pair",
]
