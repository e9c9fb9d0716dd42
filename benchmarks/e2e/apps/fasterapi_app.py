"""FasterAPI app for the e2e benchmark, written against the seed API (README examples).

Routes: GET / (sync), GET /users/{user_id:int} (async), and the 1 Million Request Challenge
routes POST /event {"userId": str, "value": number} and GET /stats.
Run: python3 benchmarks/e2e/apps/fasterapi_app.py --port 8000
"""

from __future__ import annotations

import argparse

from fasterapi import App


class Totals:
    """Running totals for the 1 Million Request Challenge (one event loop: no lock needed)."""

    def __init__(self) -> None:
        self.count = 0
        self.total = 0.0
        self.users: set[str] = set()


def build(port: int, host: str) -> App:
    """Returns the app with the benchmark routes registered on host:port."""
    app = App(host=host, port=port)
    totals = Totals()

    # Handlers are written exactly as in the seed README: no annotations, which FasterAPI
    # (like FastAPI) could read as query parameters or a response model.

    @app.get("/")
    def hello(req, res):
        return {"message": "Hello, World!"}

    @app.get("/users/{user_id:int}")
    async def get_user(req, res):
        return {"id": req.path_params["user_id"], "name": "John Doe"}

    @app.post("/event")
    def event(req, res):
        body = req.json()
        totals.count += 1
        totals.total += body["value"]
        totals.users.add(body["userId"])
        return {"status": "ok"}

    @app.get("/stats")
    def stats(req, res):
        avg = totals.total / totals.count if totals.count else 0.0
        return {
            "totalRequests": totals.count,
            "uniqueUsers": len(totals.users),
            "sum": totals.total,
            "avg": avg,
        }

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    build(args.port, args.host).run()


if __name__ == "__main__":
    main()
