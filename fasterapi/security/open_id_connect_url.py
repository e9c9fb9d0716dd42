"""OpenID Connect (OpenAPI openIdConnect scheme): returns the Authorization header as sent;
verifying it is the application's job."""

from fasterapi.security.base import AuthorizationHeaderScheme, described


class OpenIdConnect(AuthorizationHeaderScheme):
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
