"""API keys in a header, query parameter or cookie (OpenAPI apiKey schemes): the key's value,
or 401 "Not authenticated" with `WWW-Authenticate: APIKey` (FastAPI's choice; the header is
not standardised for API keys), or None when auto_error=False."""

from fasterapi.exceptions import HTTPException
from fasterapi.requests import Request
from fasterapi.security.base import SecurityBase, described


class APIKeyBase(SecurityBase):
    location = ""

    def __init__(
        self,
        *,
        name: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        self.model = described({"type": "apiKey", "in": self.location, "name": name}, description)
        self.scheme_name = scheme_name or type(self).__name__
        self.auto_error = auto_error

    def make_not_authenticated_error(self) -> HTTPException:
        return HTTPException(401, "Not authenticated", headers={"WWW-Authenticate": "APIKey"})

    def check_api_key(self, api_key: str | None) -> str | None:
        if not api_key:
            if self.auto_error:
                raise self.make_not_authenticated_error()
            return None
        return api_key


class APIKeyQuery(APIKeyBase):
    location = "query"

    def __call__(self, request: Request) -> str | None:
        return self.check_api_key(request.query_params.get(self.model["name"]))


class APIKeyHeader(APIKeyBase):
    location = "header"

    def __call__(self, request: Request) -> str | None:
        return self.check_api_key(request.headers.get(self.model["name"]))


class APIKeyCookie(APIKeyBase):
    location = "cookie"

    def __call__(self, request: Request) -> str | None:
        return self.check_api_key(request.cookies.get(self.model["name"]))
