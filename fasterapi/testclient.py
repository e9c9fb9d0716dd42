"""FastAPI's import path of the test client: `from fasterapi.testclient import TestClient`.

The same client as fasterapi.testing: the app runs in this process (a server thread on an
ephemeral port, so `app.dependency_overrides` set by the test apply) and httpx talks to it
over a real socket."""

from fasterapi.testing import TestClient

__all__ = ["TestClient"]
