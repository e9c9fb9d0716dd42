"""Bearer-token authorization for MCP servers (the OAuth 2.1 resource server side).

`BearerAuth` checks `Authorization: Bearer <JWT>` headers with the C++ verifier
(`src/mcp/auth`, libjwt): signature, algorithm allow-list, `exp`/`nbf`, `iss`, `aud` bound to
this server's resource URI (RFC 8707) and required scopes. `challenge()` gives the status and
`WWW-Authenticate` header to answer a refusal with (RFC 6750 §3, RFC 9728 §5.1), and
`protected_resource_metadata()` the document served at
`/.well-known/oauth-protected-resource` (RFC 9728 §3).

Keys come from a shared secret, a PEM public key file, a JWKS file, or a JWKS URL that a
background thread re-fetches every `refresh_interval` seconds, and sooner (at most once per
`min_refresh_interval`) when a token names a key id it does not know.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Sequence
from typing import Any

from fasterapi import _native

__all__ = [
    "BearerAuth",
    "TokenError",
    "protected_resource_metadata",
    "resource_metadata_path",
    "resource_metadata_url",
]

log = logging.getLogger("fasterapi.mcp.auth")

TokenError = _native.TokenError
"""A refused token (a ValueError): `.kind` ('expired', 'wrong_audience', ...), `.description`,
`.status` (400, 401 or 403) and `.error` (the RFC 6750 code; '' when no token was sent)."""

# A JWKS is a few KiB; refuse to read more than this from the network.
_MAX_JWKS_BYTES = 1024 * 1024


def resource_metadata_url(resource: str) -> str:
    """Where the metadata of `resource` is served (RFC 9728 §3.1): for
    https://h/mcp, https://h/.well-known/oauth-protected-resource/mcp."""
    return str(_native.auth_resource_metadata_url(resource))


def resource_metadata_path(resource: str) -> str:
    """The path of resource_metadata_url(resource), to route it: /.well-known/..."""
    return str(_native.auth_resource_metadata_path(resource))


def protected_resource_metadata(
    resource: str,
    authorization_servers: Sequence[str],
    scopes_supported: Sequence[str] = (),
    *,
    resource_name: str = "",
    resource_documentation: str = "",
) -> dict[str, Any]:
    """The RFC 9728 §2 metadata document as a dict (return it from the well-known route).
    ValueError if `resource` is not an absolute http(s) URI without a fragment, or no
    authorization server is given."""
    text = _native.auth_resource_metadata(
        resource,
        list(authorization_servers),
        list(scopes_supported),
        ["header"],
        resource_name,
        resource_documentation,
    )
    result: dict[str, Any] = _native.json_loads(text)
    return result


class BearerAuth:
    """Verifies bearer JWTs for one MCP server (one resource URI).

    Give `issuer` (the authorization server's issuer identifier), `audience` (this server's
    canonical URI, e.g. "https://mcp.example.com/mcp"; a list accepts several) and exactly one
    key source: `jwks_url`, `jwks_file`, `public_key_file` or `secret`. `algorithms` defaults to
    ["HS256"] for a secret and ["RS256", "ES256"] otherwise; "none" is never accepted.

    A token whose signature verified is trusted for `verified_cache_ttl` seconds without
    checking the signature again (its claims are checked on every request): libjwt decodes the
    PEM key on each RS/ES verification, which costs about a millisecond with OpenSSL 3.0.
    """

    def __init__(
        self,
        *,
        issuer: str,
        audience: str | Sequence[str],
        jwks_url: str | None = None,
        jwks_file: str | os.PathLike[str] | None = None,
        public_key_file: str | os.PathLike[str] | None = None,
        secret: str | bytes | None = None,
        algorithms: Sequence[str] | None = None,
        required_scopes: Sequence[str] = (),
        leeway: float = 30.0,
        require_exp: bool = True,
        refresh_interval: float = 300.0,
        min_refresh_interval: float = 30.0,
        fetch_timeout: float = 10.0,
        verified_cache_ttl: float = 60.0,
        resource_metadata: str | None = None,
    ) -> None:
        sources = [s for s in (jwks_url, jwks_file, public_key_file, secret) if s is not None]
        if len(sources) != 1:
            raise ValueError(
                "BearerAuth: give exactly one of jwks_url=, jwks_file=, public_key_file=, secret="
            )
        audiences = [audience] if isinstance(audience, str) else list(audience)
        if not audiences:
            raise ValueError("BearerAuth: audience= is this server's resource URI (RFC 8707)")
        if algorithms is None:
            algorithms = ["HS256"] if secret is not None else ["RS256", "ES256"]
        self.issuer: str = issuer
        self.resource: str = audiences[0]
        self.required_scopes: list[str] = list(required_scopes)
        self.resource_metadata_url: str = resource_metadata or resource_metadata_url(self.resource)
        keys: dict[str, Any] = {}
        if secret is not None:
            keys["secret"] = secret
        elif public_key_file is not None:
            with open(public_key_file, encoding="ascii") as f:
                keys["public_key_pem"] = f.read()
        elif jwks_file is not None:
            with open(jwks_file, "rb") as f:
                keys["jwks"] = f.read()
        self._verifier = _native.JwtVerifier(
            issuer=issuer,
            audience=audiences,
            algorithms=list(algorithms),
            required_scopes=self.required_scopes,
            leeway=leeway,
            require_exp=require_exp,
            refresh_interval=refresh_interval,
            min_refresh_interval=min_refresh_interval,
            verified_cache_ttl=verified_cache_ttl,
            **keys,
        )
        self._fetcher: _JwksFetcher | None = None
        if jwks_url is not None:
            self._fetcher = _JwksFetcher(
                jwks_url, self._verifier, refresh_interval, min_refresh_interval, fetch_timeout
            )

    def verify(self, authorization: str | None) -> dict[str, Any]:
        """The claims of the token in an Authorization header value (None: no header).
        Raises TokenError; answer it with `challenge(error)`."""
        try:
            claims: dict[str, Any] = self._verifier.verify_authorization(authorization)
        except TokenError as e:
            if e.kind == "unknown_key" and self._fetcher is not None:
                # Possibly rotated keys: fetch in the background; the client's retry succeeds.
                self._fetcher.request_refresh()
            raise
        return claims

    def verify_token(self, token: str) -> dict[str, Any]:
        """As verify() for a bare token."""
        claims: dict[str, Any] = self._verifier.verify(token)
        return claims

    def challenge(
        self, error: BaseException | None = None, scope: str | None = None
    ) -> tuple[int, str]:
        """(status, WWW-Authenticate value) to refuse a request with. `error` None or not a
        TokenError: 401 without an error code (no credentials). `scope` defaults to the
        required scopes (MCP: SHOULD name them; MUST for insufficient_scope)."""
        if scope is None:
            scope = " ".join(self.required_scopes)
        if isinstance(error, TokenError):
            kind, description, status = error.kind, error.description, error.status
        else:
            kind, description, status = "missing_token", "", 401
        header = _native.auth_www_authenticate(kind, description, self.resource_metadata_url, scope)
        return int(status), str(header)

    def metadata(
        self, authorization_servers: Sequence[str], scopes_supported: Sequence[str] = ()
    ) -> dict[str, Any]:
        """protected_resource_metadata() for this server's resource URI."""
        return protected_resource_metadata(self.resource, authorization_servers, scopes_supported)

    def refresh_keys(self) -> bool:
        """Fetch the JWKS URL now (blocking); True if new keys were installed."""
        return self._fetcher.fetch_once() if self._fetcher else False

    def close(self) -> None:
        """Stop the JWKS refresh thread, if any."""
        if self._fetcher is not None:
            self._fetcher.stop()


class _JwksFetcher:
    """Fetches a JWKS URL into a JwtVerifier: once at start, then on a daemon thread every
    `interval` seconds or when asked (no more than once per `min_interval`)."""

    def __init__(
        self, url: str, verifier: Any, interval: float, min_interval: float, timeout: float
    ) -> None:
        if not url.startswith(("https://", "http://")):
            raise ValueError(f"BearerAuth: jwks_url must be an http(s) URL, not {url!r}")
        if urllib.parse.urlsplit(url).hostname not in ("127.0.0.1", "::1", "localhost") and (
            url.startswith("http://")
        ):
            log.warning("jwks_url %s is not https: keys fetched over HTTP can be forged", url)
        self.url = url
        self._verifier = verifier
        self._interval = interval
        self._min_interval = min_interval
        self._timeout = timeout
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._last_attempt = float("-inf")
        self.fetch_once()  # keys before the first request; failures are logged and retried
        self._thread = threading.Thread(target=self._run, name="jwks-refresh", daemon=True)
        self._thread.start()

    def fetch_once(self) -> bool:
        self._last_attempt = time.monotonic()
        try:
            with urllib.request.urlopen(self.url, timeout=self._timeout) as resp:
                body = resp.read(_MAX_JWKS_BYTES + 1)
            if len(body) > _MAX_JWKS_BYTES:
                raise ValueError("JWKS larger than 1 MiB")
            count = self._verifier.set_jwks(body)
        except (OSError, ValueError) as e:
            log.warning("JWKS fetch from %s failed (keeping the current keys): %s", self.url, e)
            return False
        log.debug("JWKS from %s: %d keys", self.url, count)
        return True

    def request_refresh(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopped.set()
        self._wake.set()
        self._thread.join(timeout=self._timeout + 1)

    def _run(self) -> None:
        while not self._stopped.is_set():
            asked = self._wake.wait(self._interval)
            self._wake.clear()
            if self._stopped.is_set():
                return
            if asked:
                wait = self._last_attempt + self._min_interval - time.monotonic()
                if wait > 0 and self._stopped.wait(wait):
                    return
            self.fetch_once()
