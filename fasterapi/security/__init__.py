"""Security scheme dependencies with FastAPI's names, answers and OpenAPI schemes."""

from fasterapi.security.api_key import APIKeyCookie as APIKeyCookie
from fasterapi.security.api_key import APIKeyHeader as APIKeyHeader
from fasterapi.security.api_key import APIKeyQuery as APIKeyQuery
from fasterapi.security.base import SecurityBase as SecurityBase
from fasterapi.security.http import HTTPAuthorizationCredentials as HTTPAuthorizationCredentials
from fasterapi.security.http import HTTPBase as HTTPBase
from fasterapi.security.http import HTTPBasic as HTTPBasic
from fasterapi.security.http import HTTPBasicCredentials as HTTPBasicCredentials
from fasterapi.security.http import HTTPBearer as HTTPBearer
from fasterapi.security.http import HTTPDigest as HTTPDigest
from fasterapi.security.oauth2 import OAuth2 as OAuth2
from fasterapi.security.oauth2 import OAuth2AuthorizationCodeBearer as OAuth2AuthorizationCodeBearer
from fasterapi.security.oauth2 import OAuth2PasswordBearer as OAuth2PasswordBearer
from fasterapi.security.oauth2 import OAuth2PasswordRequestForm as OAuth2PasswordRequestForm
from fasterapi.security.oauth2 import (
    OAuth2PasswordRequestFormStrict as OAuth2PasswordRequestFormStrict,
)
from fasterapi.security.open_id_connect_url import OpenIdConnect as OpenIdConnect
from fasterapi.security.scopes import SecurityScopes as SecurityScopes
