"""SecurityBase: what every security scheme dependency carries for OpenAPI."""

from typing import Any

from fasterapi.exceptions import HTTPException
from fasterapi.requests import Request


class SecurityBase:
    """A security scheme used as a dependency. `model` is its OpenAPI Security Scheme Object
    (OpenAPI 3.1 §4.8.27) as a dict; `scheme_name` its key in components.securitySchemes."""

    model: dict[str, Any]
    scheme_name: str

    def openapi_scopes(self, scopes: list[str]) -> list[str]:
        """The scopes listed in an operation's security requirement: OAuth2 and OpenID Connect
        schemes list the required scopes, others none (OpenAPI 3.1 §4.8.30)."""
        return []


def described(model: dict[str, Any], description: str | None) -> dict[str, Any]:
    if description is not None:
        model["description"] = description
    return model


class AuthorizationHeaderScheme(SecurityBase):
    """OAuth2 and OpenID Connect: the dependency returns the Authorization header as sent (the
    application verifies it) or answers 401 with a Bearer challenge; both list the required
    scopes in OpenAPI."""

    auto_error: bool

    def openapi_scopes(self, scopes: list[str]) -> list[str]:
        return scopes

    def make_not_authenticated_error(self) -> HTTPException:
        # RFC 6750 §3: a request without credentials is answered with a Bearer challenge.
        return HTTPException(401, "Not authenticated", headers={"WWW-Authenticate": "Bearer"})

    def __call__(self, request: Request) -> str | None:
        authorization = request.headers.get("authorization")
        if not authorization:
            if self.auto_error:
                raise self.make_not_authenticated_error()
            return None
        return authorization  # type: ignore[no-any-return]
