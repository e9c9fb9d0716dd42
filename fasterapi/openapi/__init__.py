"""OpenAPI 3.1 document generation and the /openapi.json and /docs routes."""
