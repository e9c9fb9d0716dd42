"""fasterapi.mcp.auth end to end through the C++ verifier: tokens made with PyJWT (and by hand
where PyJWT refuses to make them), keys with `cryptography`, a JWKS served by a local
http.server, and every Python block of docs/mcp/auth.md."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import require_module

from fasterapi import _native
from fasterapi.mcp.auth import (
    BearerAuth,
    TokenError,
    protected_resource_metadata,
    resource_metadata_path,
    resource_metadata_url,
)

jwt = require_module("jwt")
ec = require_module("cryptography.hazmat.primitives.asymmetric.ec")
rsa = require_module("cryptography.hazmat.primitives.asymmetric.rsa")
serialization = require_module("cryptography.hazmat.primitives.serialization")

ROOT = Path(__file__).resolve().parents[3]
ISSUER = "https://auth.example.com"
RESOURCE = "https://mcp.example.com/mcp"
SECRET = b"0123456789abcdef0123456789abcdef"  # 32 bytes: the HS256 minimum (RFC 7518 3.2)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_pem(key: Any) -> str:
    return str(
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def jwk(key: Any, kid: str) -> dict[str, Any]:
    alg = jwt.algorithms.RSAAlgorithm if isinstance(key, rsa.RSAPrivateKey) else None
    alg = alg or jwt.algorithms.ECAlgorithm
    d: dict[str, Any] = json.loads(alg.to_jwk(key.public_key()))
    d["kid"] = kid
    return d


def claims(**over: Any) -> dict[str, Any]:
    now = int(time.time())
    c: dict[str, Any] = {
        "iss": ISSUER,
        "aud": RESOURCE,
        "sub": "alice",
        "exp": now + 300,
        "iat": now,
        "scope": "mcp:tools read",
    }
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def hs256_by_hand(payload: dict[str, Any], secret: bytes, header: dict[str, Any]) -> str:
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(payload).encode())
    sig = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64url(sig)


@pytest.fixture(scope="module")
def rsa_key() -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key() -> Any:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def rsa_auth(rsa_key: Any, tmp_path: Path) -> BearerAuth:
    pem = tmp_path / "public.pem"
    pem.write_text(public_pem(rsa_key))
    return BearerAuth(issuer=ISSUER, audience=RESOURCE, public_key_file=pem)


def refusal(auth: BearerAuth, token: str | None) -> TokenError:
    header = None if token is None else f"Bearer {token}"
    with pytest.raises(TokenError) as info:
        auth.verify(header)
    return info.value


# -- accepted tokens ------------------------------------------------------------------------


def test_accepts_rs256(rsa_auth: BearerAuth, rsa_key: Any) -> None:
    token = jwt.encode(claims(extra={"n": [1, 2]}), rsa_key, algorithm="RS256")
    got = rsa_auth.verify(f"Bearer {token}")
    assert got["sub"] == "alice"
    assert got["extra"] == {"n": [1, 2]}


def test_accepts_es256(ec_key: Any, tmp_path: Path) -> None:
    pem = tmp_path / "ec.pem"
    pem.write_text(public_pem(ec_key))
    auth = BearerAuth(issuer=ISSUER, audience=RESOURCE, public_key_file=pem)
    assert (
        auth.verify("Bearer " + jwt.encode(claims(), ec_key, algorithm="ES256"))["sub"] == "alice"
    )


def test_accepts_hs256() -> None:
    auth = BearerAuth(issuer=ISSUER, audience=RESOURCE, secret=SECRET)
    assert auth.verify("Bearer " + jwt.encode(claims(), SECRET, algorithm="HS256"))["iss"] == ISSUER


def test_accepts_audience_list(rsa_auth: BearerAuth, rsa_key: Any) -> None:
    token = jwt.encode(claims(aud=["https://other", RESOURCE]), rsa_key, algorithm="RS256")
    assert rsa_auth.verify(f"Bearer {token}")["aud"] == ["https://other", RESOURCE]


# -- refusals, each with its kind -----------------------------------------------------------


def test_refusal_kinds(rsa_auth: BearerAuth, rsa_key: Any) -> None:
    now = int(time.time())
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cases = {
        "expired": jwt.encode(claims(exp=now - 120), rsa_key, algorithm="RS256"),
        "not_yet_valid": jwt.encode(claims(nbf=now + 120), rsa_key, algorithm="RS256"),
        "wrong_audience": jwt.encode(claims(aud="https://evil"), rsa_key, algorithm="RS256"),
        "wrong_issuer": jwt.encode(claims(iss="https://evil"), rsa_key, algorithm="RS256"),
        "bad_signature": jwt.encode(claims(), other, algorithm="RS256"),
        "missing_claim": jwt.encode(claims(exp=None), rsa_key, algorithm="RS256"),
        "malformed": "abc.def",
        "unsupported_algorithm": jwt.encode(claims(), None, algorithm="none"),
    }
    for kind, token in cases.items():
        err = refusal(rsa_auth, token)
        assert (err.kind, err.status, err.error) == (kind, 401, "invalid_token"), kind
        assert isinstance(err, ValueError)
        status, header = rsa_auth.challenge(err)
        assert status == 401
        assert header.startswith(
            'Bearer resource_metadata="https://mcp.example.com/.well-known/'
            'oauth-protected-resource/mcp", error="invalid_token", error_description="'
        )


def test_algorithm_confusion_is_refused(rsa_key: Any, tmp_path: Path) -> None:
    # HS256 keyed with the RSA public key's PEM text (PyJWT refuses to make this token).
    pem = public_pem(rsa_key)
    (tmp_path / "k.pem").write_text(pem)
    token = hs256_by_hand(claims(), pem.encode(), {"alg": "HS256", "typ": "JWT"})
    for algorithms in (["RS256"], ["RS256", "HS256"]):
        auth = BearerAuth(
            issuer=ISSUER,
            audience=RESOURCE,
            public_key_file=tmp_path / "k.pem",
            algorithms=algorithms,
        )
        assert refusal(auth, token).kind == "unsupported_algorithm"
    with pytest.raises(ValueError, match="PEM"):
        BearerAuth(issuer=ISSUER, audience=RESOURCE, secret=pem)


def test_insufficient_scope_is_403(rsa_key: Any, tmp_path: Path) -> None:
    (tmp_path / "k.pem").write_text(public_pem(rsa_key))
    auth = BearerAuth(
        issuer=ISSUER,
        audience=RESOURCE,
        public_key_file=tmp_path / "k.pem",
        required_scopes=["mcp:tools", "files:write"],
    )
    err = refusal(auth, jwt.encode(claims(), rsa_key, algorithm="RS256"))
    assert (err.kind, err.status, err.error) == ("insufficient_scope", 403, "insufficient_scope")
    assert auth.challenge(err) == (
        403,
        'Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp",'
        ' error="insufficient_scope", error_description="missing scope: files:write",'
        ' scope="mcp:tools files:write"',
    )


def test_missing_and_invalid_headers(rsa_auth: BearerAuth) -> None:
    err = refusal(rsa_auth, None)
    assert (err.kind, err.status, err.error) == ("missing_token", 401, "")
    assert rsa_auth.challenge(err) == rsa_auth.challenge(None)
    assert rsa_auth.challenge(None) == (
        401,
        'Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"',
    )
    with pytest.raises(TokenError) as info:
        rsa_auth.verify("Basic dXNlcjpwYXNz")
    assert info.value.kind == "missing_token"
    with pytest.raises(TokenError) as info:
        rsa_auth.verify("Bearer a b")
    assert (info.value.kind, info.value.status) == ("invalid_request", 400)


def test_configuration_mistakes_fail_fast(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        BearerAuth(issuer=ISSUER, audience=RESOURCE)
    with pytest.raises(ValueError, match="exactly one"):
        BearerAuth(issuer=ISSUER, audience=RESOURCE, secret=SECRET, jwks_file="x")
    with pytest.raises(ValueError, match="none"):
        BearerAuth(issuer=ISSUER, audience=RESOURCE, secret=SECRET, algorithms=["none"])
    with pytest.raises(ValueError, match="shorter than 32 bytes"):
        BearerAuth(issuer=ISSUER, audience=RESOURCE, secret=b"16-byte-secret!!")
    with pytest.raises(ValueError, match="does not fit"):
        BearerAuth(issuer=ISSUER, audience=RESOURCE, secret=SECRET, algorithms=["RS256"])
    with pytest.raises(ValueError, match="issuer"):
        BearerAuth(issuer="", audience=RESOURCE, secret=SECRET)
    with pytest.raises(ValueError, match="audience"):
        BearerAuth(issuer=ISSUER, audience=[], secret=SECRET)
    (tmp_path / "bad.pem").write_text(
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
    )
    with pytest.raises(ValueError, match="public key"):
        BearerAuth(issuer=ISSUER, audience=RESOURCE, public_key_file=tmp_path / "bad.pem")


# -- JWKS -----------------------------------------------------------------------------------


def test_jwks_file_with_rsa_and_ec_keys(rsa_key: Any, ec_key: Any, tmp_path: Path) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [jwk(rsa_key, "r1"), jwk(ec_key, "e1")]}))
    auth = BearerAuth(issuer=ISSUER, audience=RESOURCE, jwks_file=path)
    rs = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "r1"})
    es = jwt.encode(claims(), ec_key, algorithm="ES256", headers={"kid": "e1"})
    assert auth.verify(f"Bearer {rs}")["sub"] == auth.verify(f"Bearer {es}")["sub"] == "alice"
    unknown = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "r2"})
    assert refusal(auth, unknown).kind == "unknown_key"
    # The EC key's kid on an RS256 token.
    swapped = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "e1"})
    assert refusal(auth, swapped).kind == "unsupported_algorithm"


class _JwksServer:
    """Serves `document` at /jwks on 127.0.0.1, counting requests."""

    def __init__(self) -> None:
        self.document: dict[str, Any] = {"keys": []}
        self.requests = 0
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests += 1
                body = json.dumps(owner.document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/jwks"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def jwks_server() -> Iterator[_JwksServer]:
    server = _JwksServer()
    yield server
    server.close()


def test_jwks_url_rotation(rsa_key: Any, ec_key: Any, jwks_server: _JwksServer) -> None:
    jwks_server.document = {"keys": [jwk(rsa_key, "2026-01")]}
    auth = BearerAuth(
        issuer=ISSUER, audience=RESOURCE, jwks_url=jwks_server.url, min_refresh_interval=0.2
    )
    try:
        assert jwks_server.requests == 1  # fetched before the first request
        old = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "2026-01"})
        assert auth.verify(f"Bearer {old}")["sub"] == "alice"
        # The issuer publishes a new key and signs with it: the first request asks the
        # background thread to re-fetch; a retry shortly after succeeds.
        jwks_server.document = {"keys": [jwk(rsa_key, "2026-01"), jwk(ec_key, "2026-02")]}
        new = jwt.encode(claims(), ec_key, algorithm="ES256", headers={"kid": "2026-02"})
        assert refusal(auth, new).kind == "unknown_key"
        deadline = time.monotonic() + 10
        while True:
            try:
                assert auth.verify(f"Bearer {new}")["sub"] == "alice"
                break
            except TokenError:
                assert time.monotonic() < deadline, "the new key never arrived"
                time.sleep(0.05)
        assert jwks_server.requests == 2
        # Made-up kids cannot make it fetch more than once per min_refresh_interval.
        bogus = jwt.encode(claims(), ec_key, algorithm="ES256", headers={"kid": "bogus"})
        for _ in range(50):
            refusal(auth, bogus)
        time.sleep(0.5)
        assert jwks_server.requests <= 4
        assert auth.refresh_keys() is True
    finally:
        auth.close()


def test_jwks_url_down_keeps_serving_401(rsa_key: Any) -> None:
    auth = BearerAuth(issuer=ISSUER, audience=RESOURCE, jwks_url="http://127.0.0.1:9/jwks")
    try:
        token = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "k"})
        assert refusal(auth, token).kind == "unknown_key"
        assert auth.refresh_keys() is False
    finally:
        auth.close()


def test_set_jwks_keeps_keys_on_a_bad_document(rsa_key: Any) -> None:
    v = _native.JwtVerifier(
        issuer=ISSUER,
        audience=[RESOURCE],
        algorithms=["RS256"],
        jwks=json.dumps({"keys": [jwk(rsa_key, "k")]}),
    )
    with pytest.raises(ValueError):
        v.set_jwks("{}")
    assert v.key_ids() == ["k"]
    token = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "k"})
    assert v.verify(token)["sub"] == "alice"
    with pytest.raises(TokenError) as info:
        v.verify(token, now=time.time() + 3600)
    assert info.value.kind == "expired"


def test_verified_signatures_are_cached_for_the_ttl(rsa_key: Any, ec_key: Any) -> None:
    token = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "k"})
    now = time.time()
    for ttl, still_accepted in ((60.0, True), (0.0, False)):
        v = _native.JwtVerifier(
            issuer=ISSUER,
            audience=[RESOURCE],
            algorithms=["RS256"],
            jwks=json.dumps({"keys": [jwk(rsa_key, "k")]}),
            verified_cache_ttl=ttl,
        )
        v.verify(token, now=now)
        v.set_jwks(json.dumps({"keys": [jwk(ec_key, "other")]}))  # the key is withdrawn
        if still_accepted:
            assert v.verify(token, now=now + 30)["sub"] == "alice"
        else:
            with pytest.raises(TokenError, match="kid"):
                v.verify(token, now=now + 30)
        with pytest.raises(TokenError) as info:
            v.verify(token, now=now + 61)
        assert info.value.kind == "unknown_key"


# -- Protected Resource Metadata (RFC 9728) -------------------------------------------------


def test_protected_resource_metadata() -> None:
    assert protected_resource_metadata(RESOURCE, [ISSUER], ["mcp:tools"]) == {
        "resource": RESOURCE,
        "authorization_servers": [ISSUER],
        "scopes_supported": ["mcp:tools"],
        "bearer_methods_supported": ["header"],
    }
    assert resource_metadata_url(RESOURCE) == (
        "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
    )
    assert resource_metadata_path("https://mcp.example.com") == (
        "/.well-known/oauth-protected-resource"
    )
    with pytest.raises(ValueError):
        protected_resource_metadata("mcp.example.com", [ISSUER])
    with pytest.raises(ValueError):
        protected_resource_metadata(RESOURCE, [])


# -- docs/mcp/auth.md -----------------------------------------------------------------------

DOC = ROOT / "docs" / "mcp" / "auth.md"
DOC_JWKS_URL = "https://auth.example.com/.well-known/jwks.json"


def test_doc_examples_run(rsa_key: Any, jwks_server: _JwksServer) -> None:
    """The page's Python blocks run in order in one namespace; the JWKS URL it names is
    served by the local server with the key the blocks' tokens are signed with."""
    blocks = re.findall(r"^```python\n(.*?)^```$", DOC.read_text(), re.MULTILINE | re.DOTALL)
    assert len(blocks) >= 3
    jwks_server.document = {"keys": [jwk(rsa_key, "key-1")]}
    namespace: dict[str, Any] = {"__name__": "__main__", "PRIVATE_KEY": rsa_key}
    for i, block in enumerate(blocks):
        code = compile(block.replace(DOC_JWKS_URL, jwks_server.url), f"auth.md[{i}]", "exec")
        exec(code, namespace)
    namespace["auth"].close()
