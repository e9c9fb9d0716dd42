"""The FastAPI the harness compares against: the fastapi repository's commit whose docs_src
apps and tutorial tests are the inputs, and the installed fastapi version that serves them.
No tag 0.165.0 exists in the mirror, so the newest commit it holds is pinned."""

FASTAPI_COMMIT = "c3f316b7e814667e8ee81e03a7330d00ee61e45c"  # fastapi/fastapi, 2026-08-19
FASTAPI_VERSION = "0.165.0"  # pyproject.toml's test extra pins the same
FASTAPI_REPO_URL = "https://github.com/fastapi/fastapi"
DEFAULT_MIRROR = "/work/.mirror/fastapi+fastapi/repo"  # FASTAPI_REPO overrides
