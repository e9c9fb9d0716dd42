"""socketify peer for the e2e benchmark (its native API): GET / and GET /users/:user_id.

Run: python3 benchmarks/e2e/apps/socketify_app.py --port 8000
"""

from __future__ import annotations

import argparse
from typing import Any

from socketify import App, AppListenOptions


def hello(res: Any, req: Any) -> None:
    res.send({"message": "Hello, World!"})


async def get_user(res: Any, req: Any) -> None:
    res.send({"id": int(req.get_parameter(0)), "name": "John Doe"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    app = App()
    app.get("/", hello)
    app.get("/users/:user_id", get_user)
    app.listen(AppListenOptions(port=args.port, host=args.host))
    app.run()


if __name__ == "__main__":
    main()
