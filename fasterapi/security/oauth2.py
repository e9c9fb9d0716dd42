"""OAuth2 (RFC 6749) helpers: bearer-token dependencies that advertise their flows in OpenAPI,
and the password-grant token request form (RFC 6749 §4.3.2)."""

from typing import Annotated, Any

from fasterapi.params import Form
from fasterapi.requests import Request
from fasterapi.security.base import AuthorizationHeaderScheme, described
from fasterapi.security.scopes import SecurityScopes as SecurityScopes
from fasterapi.security.utils import get_authorization_scheme_param


class OAuth2PasswordRequestForm:
    """`Depends()` on this class reads the password grant's form fields: username, password,
    scope (space-separated, split into `scopes`), optional grant_type ("password"), client_id
    and client_secret."""

    def __init__(
        self,
        *,
        grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
        username: Annotated[str, Form()],
        password: Annotated[str, Form(json_schema_extra={"format": "password"})],
        scope: Annotated[str, Form()] = "",
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form(json_schema_extra={"format": "password"})] = None,
    ) -> None:
        self.grant_type = grant_type
        self.username = username
        self.password = password
        self.scopes = scope.split()
        self.client_id = client_id
        self.client_secret = client_secret


class OAuth2PasswordRequestFormStrict(OAuth2PasswordRequestForm):
    """OAuth2PasswordRequestForm that requires grant_type=password, as RFC 6749 §4.3.2 does."""

    def __init__(
        self,
        grant_type: Annotated[str, Form(pattern="^password$")],
        username: Annotated[str, Form()],
        password: Annotated[str, Form()],
        scope: Annotated[str, Form()] = "",
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form()] = None,
    ) -> None:
        super().__init__(
            grant_type=grant_type,
            username=username,
            password=password,
            scope=scope,
            client_id=client_id,
            client_secret=client_secret,
        )


def _flows(flows: Any) -> dict[str, Any]:
    """OpenAPI OAuth Flows Object (3.1 §4.8.28) as a dict, None values left out."""
    if hasattr(flows, "model_dump"):
        flows = flows.model_dump(by_alias=True, exclude_none=True)
    return {
        name: {k: v for k, v in flow.items() if v is not None}
        for name, flow in dict(flows).items()
        if flow is not None
    }


class OAuth2(AuthorizationHeaderScheme):
    """Any OAuth2 flow: returns the Authorization header as sent, or 401."""

    def __init__(
        self,
        *,
        flows: Any = None,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        self.model = described({"type": "oauth2", "flows": _flows(flows or {})}, description)
        self.scheme_name = scheme_name or type(self).__name__
        self.auto_error = auto_error


class _BearerFlow(OAuth2):
    def __call__(self, request: Request) -> str | None:
        authorization = request.headers.get("authorization")
        scheme, param = get_authorization_scheme_param(authorization)
        if not authorization or scheme.lower() != "bearer":
            if self.auto_error:
                raise self.make_not_authenticated_error()
            return None
        return param


class OAuth2PasswordBearer(_BearerFlow):
    """The bearer token of the password flow (token obtained at `tokenUrl`)."""

    def __init__(
        self,
        tokenUrl: str,
        scheme_name: str | None = None,
        scopes: dict[str, str] | None = None,
        description: str | None = None,
        auto_error: bool = True,
        refreshUrl: str | None = None,
    ) -> None:
        flow = {"tokenUrl": tokenUrl, "refreshUrl": refreshUrl, "scopes": scopes or {}}
        super().__init__(
            flows={"password": flow},
            scheme_name=scheme_name,
            description=description,
            auto_error=auto_error,
        )


class OAuth2AuthorizationCodeBearer(_BearerFlow):
    """The bearer token of the authorization code flow."""

    def __init__(
        self,
        authorizationUrl: str,
        tokenUrl: str,
        refreshUrl: str | None = None,
        scheme_name: str | None = None,
        scopes: dict[str, str] | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        flow = {
            "authorizationUrl": authorizationUrl,
            "tokenUrl": tokenUrl,
            "refreshUrl": refreshUrl,
            "scopes": scopes or {},
        }
        super().__init__(
            flows={"authorizationCode": flow},
            scheme_name=scheme_name,
            description=description,
            auto_error=auto_error,
        )
