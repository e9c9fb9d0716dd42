"""Authorization header helpers."""


def get_authorization_scheme_param(authorization_header_value: str | None) -> tuple[str, str]:
    """("Bearer", "token") from "Bearer token" (RFC 9110 §11.6.2 credentials); ("", "") for
    None or ""."""
    if not authorization_header_value:
        return "", ""
    scheme, _, param = authorization_header_value.partition(" ")
    return scheme, param.strip()
