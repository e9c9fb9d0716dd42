"""OpenID Connect (OpenAPI openIdConnect scheme): returns the Authorization header as sent;
verifying it is the application's job."""

from fasterapi.exceptions import HTTPException
from fasterapi.requests import Request
from fasterapi.security.base import SecurityBase, described


class OpenIdConnect(SecurityBase):
    def __init__(
        self,
        *,
        openIdConnectUrl: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        self.model = described(
            {"type": "openIdConnect", "openIdConnectUrl": openIdConnectUrl}, description
        )
        self.scheme_name = scheme_name or type(self).__name__
        self.auto_error = auto_error

    def openapi_scopes(self, scopes: list[str]) -> list[str]:
        return scopes

    def make_not_authenticated_error(self) -> HTTPException:
        return HTTPException(401, "Not authenticated", headers={"WWW-Authenticate": "Bearer"})

    def __call__(self, request: Request) -> str | None:
        authorization = request.headers.get("authorization")
        if not authorization:
            if self.auto_error:
                raise self.make_not_authenticated_error()
            return None
        return authorization  # type: ignore[no-any-return]
