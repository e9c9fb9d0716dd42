"""SecurityBase: what every security scheme dependency carries for OpenAPI."""

from typing import Any


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
