"""HTTP authentication schemes (RFC 9110 §11): HTTPBasic (RFC 7617), HTTPBearer (RFC 6750),
HTTPDigest (only reads the header), with FastAPI's answers: 401 "Not authenticated" with a
WWW-Authenticate challenge, or None when auto_error=False."""

import binascii
from base64 import b64decode

from pydantic import BaseModel

from fasterapi.exceptions import HTTPException
from fasterapi.requests import Request
from fasterapi.security.base import SecurityBase, described
from fasterapi.security.utils import get_authorization_scheme_param


class HTTPBasicCredentials(BaseModel):
    """The username and password of an HTTP Basic Authorization header."""

    username: str
    password: str


class HTTPAuthorizationCredentials(BaseModel):
    """An Authorization header split into its scheme and credentials."""

    scheme: str
    credentials: str


class HTTPBase(SecurityBase):
    """Any HTTP authentication scheme: returns the header's scheme and credentials."""

    def __init__(
        self,
        *,
        scheme: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        self.model = described({"type": "http", "scheme": scheme}, description)
        self.scheme_name = scheme_name or type(self).__name__
        self.auto_error = auto_error

    def make_authenticate_headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": self.model["scheme"].title()}

    def make_not_authenticated_error(self) -> HTTPException:
        return HTTPException(401, "Not authenticated", headers=self.make_authenticate_headers())

    def _scheme_and_credentials(self, request: Request) -> tuple[str, str] | None:
        scheme, credentials = get_authorization_scheme_param(request.headers.get("authorization"))
        if not (scheme and credentials):
            if self.auto_error:
                raise self.make_not_authenticated_error()
            return None
        return scheme, credentials

    def __call__(self, request: Request) -> HTTPAuthorizationCredentials | None:
        found = self._scheme_and_credentials(request)
        if found is None:
            return None
        return HTTPAuthorizationCredentials(scheme=found[0], credentials=found[1])


class _NamedScheme(HTTPBase):
    """A scheme whose name must match the header's (Bearer, Digest)."""

    expected = ""

    def __init__(
        self,
        *,
        bearerFormat: str | None = None,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(
            scheme=self.expected,
            scheme_name=scheme_name,
            description=description,
            auto_error=auto_error,
        )
        if bearerFormat is not None:
            self.model["bearerFormat"] = bearerFormat

    def __call__(self, request: Request) -> HTTPAuthorizationCredentials | None:
        found = self._scheme_and_credentials(request)
        if found is None:
            return None
        if found[0].lower() != self.expected:
            if self.auto_error:
                raise self.make_not_authenticated_error()
            return None
        return HTTPAuthorizationCredentials(scheme=found[0], credentials=found[1])


class HTTPBearer(_NamedScheme):
    """`Authorization: Bearer <token>` (RFC 6750 §2.1)."""

    expected = "bearer"


class HTTPDigest(_NamedScheme):
    """`Authorization: Digest ...` (RFC 7616): returns the raw credentials; checking them is
    the application's job."""

    expected = "digest"

    def __init__(
        self,
        *,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(scheme_name=scheme_name, description=description, auto_error=auto_error)


class HTTPBasic(HTTPBase):
    """`Authorization: Basic base64(user:password)` (RFC 7617 §2)."""

    def __init__(
        self,
        *,
        scheme_name: str | None = None,
        realm: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(
            scheme="basic", scheme_name=scheme_name, description=description, auto_error=auto_error
        )
        self.realm = realm

    def make_authenticate_headers(self) -> dict[str, str]:
        if self.realm:
            return {"WWW-Authenticate": f'Basic realm="{self.realm}"'}
        return {"WWW-Authenticate": "Basic"}

    def __call__(self, request: Request) -> HTTPBasicCredentials | None:  # type: ignore[override]
        authorization = request.headers.get("authorization")
        scheme, param = get_authorization_scheme_param(authorization)
        if not authorization or scheme.lower() != "basic":
            if self.auto_error:
                raise self.make_not_authenticated_error()
            return None
        # A header that says Basic but does not decode is an error even with auto_error=False.
        try:
            data = b64decode(param).decode("ascii")
        except (ValueError, UnicodeDecodeError, binascii.Error) as e:
            raise self.make_not_authenticated_error() from e
        username, separator, password = data.partition(":")
        if not separator:
            raise self.make_not_authenticated_error()
        return HTTPBasicCredentials(username=username, password=password)
