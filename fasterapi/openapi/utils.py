"""`get_openapi(...)`: the OpenAPI 3.1 document for a list of routes, at FastAPI's import
path (apps that customize their schema call it, edit the dict and set `app.openapi_schema`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fasterapi.routing import Route


def generate_unique_id(route: Route) -> str:
    """The default operationId: name, path and first method, non-word characters as `_`
    (`read_item_items__item_id__get`), the ids FastAPI gives, so generated clients match."""
    path = re.sub(r"\{([A-Za-z_][A-Za-z0-9_]*):[a-z]+\}", r"{\1}", route.path)
    return re.sub(r"\W", "_", f"{route.name}{path}") + f"_{route.methods[0].lower()}"


def get_openapi(
    *,
    title: str,
    version: str,
    openapi_version: str = "3.1.0",
    summary: str | None = None,
    description: str | None = None,
    routes: Sequence[Any],
    webhooks: Sequence[Any] | None = None,
    tags: list[dict[str, Any]] | None = None,
    servers: list[dict[str, Any]] | None = None,
    terms_of_service: str | None = None,
    contact: dict[str, Any] | None = None,
    license_info: dict[str, Any] | None = None,
    separate_input_output_schemas: bool = True,
    external_docs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The document for `routes` (those with include_in_schema) and `webhooks`."""
    from fasterapi.openapi.schema import Schemas, component_schema, path_items

    info: dict[str, Any] = {"title": title}
    if summary:
        info["summary"] = summary
    if description:
        info["description"] = description
    if terms_of_service:
        info["termsOfService"] = terms_of_service
    if contact:
        info["contact"] = contact
    if license_info:
        info["license"] = license_info
    info["version"] = version
    doc: dict[str, Any] = {"openapi": openapi_version, "info": info}
    if servers:
        doc["servers"] = servers
    schemas = Schemas(separate_input_output_schemas)
    doc["paths"] = path_items(routes, schemas)
    if webhooks:
        doc["webhooks"] = path_items(webhooks, schemas)
    if schemas.components:
        doc["components"] = {
            "schemas": {k: component_schema(v) for k, v in sorted(schemas.components.items())}
        }
    if schemas.security_schemes:  # fasterapi/openapi/security.py
        doc.setdefault("components", {})["securitySchemes"] = schemas.security_schemes
    if tags:
        doc["tags"] = tags
    if external_docs:
        doc["externalDocs"] = external_docs
    return doc
